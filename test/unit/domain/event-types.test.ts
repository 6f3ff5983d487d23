/**
 * The event-type catalogue (API.md "Event types"): every type API.md names, each with a
 * description and a JSON Schema generated from its zod schema, and every payload builder's output
 * valid against the schema of its type, checked with a JSON Schema validator as a partner would.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import {
  EVENT_PAYLOADS,
  EVENT_TYPES,
  eventTypeCatalogue,
  eventTypeOf,
  payloadWithType,
  storedTypeNames,
  type EventType,
} from '../../../shared/domain/event-types.ts';
import { otpWebhookBody, otpWebhookFields } from '../../../shared/domain/three-ds.ts';
import { transactionWebhookBody, type CardTransaction } from '../../../shared/domain/transactions.ts';
import { transferWebhookBody } from '../../../shared/domain/transfers.ts';
import { depositWebhookBody } from '../../../shared/domain/wallets.ts';
import * as z from '../../../shared/zod.ts';

const BUSINESS_ID = '0190a3c4-0000-7000-8000-000000000001';
const CARD_ID = '0190a3c4-0000-7000-8000-00000000c001';
const USER_ID = '0190a3c4-0000-7000-8000-00000000beef';
const OTHER_USER_ID = '0190a3c4-0000-7000-8000-00000000beee';
const AT = '2025-03-04T03:32:11.051702Z';

const ajv = new Ajv2020({ allErrors: true });
addFormats.default(ajv);
const validators = new Map(eventTypeCatalogue().map((entry) => [entry.type, ajv.compile(entry.schema)]));

/** The payload's problems against the published schema of its `type` (none: valid). */
function problems(payload: unknown): string[] {
  const type = (payload as { type?: unknown }).type as EventType;
  const validate = validators.get(type);
  if (!validate) return [`no schema for type ${String(type)}`];
  return validate(payload) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message}`);
}

function cardTransaction(overrides: Partial<CardTransaction> = {}): CardTransaction {
  return {
    transactionId: '0190a3c4-0000-7000-8000-00000000a001',
    businessId: BUSINESS_ID,
    cardId: CARD_ID,
    mode: 'B2B',
    userId: null,
    status: 'Authorized',
    type: 'Sales',
    transactionCurrency: 'HKD',
    transactionAmount: '101',
    localCurrency: 'USD',
    localAmount: 1300n,
    fee: 13n,
    heldAmount: 1313n,
    remainingHold: 1313n,
    reversedAmount: 0n,
    settledAmount: null,
    windows: null,
    merchant: { merchantId: 'm-42', merchantName: 'Coffee', merchantCountry: 'HK', merchantCity: 'Hong Kong', mcc: '5814' },
    declineReason: null,
    networkAuthorizationId: null,
    createdAt: AT,
    updatedAt: AT,
    version: 1,
    ...overrides,
  };
}

describe('the event-type catalogue', () => {
  it('lists every type of API.md, once, in order (and the test event of webhook self-service last)', () => {
    expect(eventTypeCatalogue().map((entry) => entry.type)).toEqual([
      'transaction.authorization',
      'transaction.reversal',
      'transaction.settlement',
      'transaction.refund',
      'transaction.expiry',
      'three_ds.otp',
      'three_ds.attempts_exhausted',
      'deposit.completed',
      'transfer.completed',
      'webhook.test',
    ]);
  });

  it('describes each type and gives the JSON Schema (2020-12) of its payload, generated from the zod schema', () => {
    for (const entry of eventTypeCatalogue()) {
      expect(entry.description, entry.type).toMatch(/\w{3,}/);
      expect(entry.description, entry.type).toBe(z.globalRegistry.get(EVENT_PAYLOADS[entry.type])?.description);
      expect(entry.schema, entry.type).toMatchObject({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        properties: { type: { const: entry.type } },
      });
      expect(entry.schema.required, entry.type).toContain('type');
    }
  });

  it('states money as decimal strings, never numbers', () => {
    const amount = (type: EventType, ...path: string[]) =>
      path.reduce<any>((schema, name) => schema.properties[name], eventTypeCatalogue().find((entry) => entry.type === type)!.schema);
    expect(amount('transaction.settlement', 'card_transaction', 'transaction_amount')).toMatchObject({ type: 'string', pattern: expect.any(String) });
    expect(amount('transaction.settlement', 'card_transaction', 'local_amount')).toMatchObject({ anyOf: [{ type: 'string', pattern: expect.any(String) }, { type: 'null' }] });
    expect(amount('deposit.completed', 'deposit', 'credited_amount')).toMatchObject({ type: 'string' });
    expect(amount('transfer.completed', 'transfer', 'amount')).toMatchObject({ type: 'string' });
    expect(amount('three_ds.otp', 'transaction_amount')).toMatchObject({ type: 'string' });
  });

  it('lets receivers accept fields a later release adds (API.md: "plus any new ones")', () => {
    const payload = { ...transactionWebhookBody('Authorization', cardTransaction()), added_later: true };
    expect(problems(payload)).toEqual([]);
  });

  it('refuses a payload that lacks a field, or states money as a number', () => {
    const { card_transaction: txn, ...rest } = transactionWebhookBody('Authorization', cardTransaction());
    expect(problems(rest)).not.toEqual([]);
    expect(problems({ ...rest, card_transaction: { ...txn, transaction_amount: -101 } })).not.toEqual([]);
    expect(problems({ ...rest, type: 'transaction.settlement', card_transaction: txn })).not.toEqual([]);
  });
});

describe('payloads the platform builds', () => {
  it.each([
    ['Authorization', cardTransaction(), 'transaction.authorization'],
    ['Authorization', cardTransaction({ status: 'Declined', declineReason: 'insufficient_balance', localAmount: null, fee: 0n }), 'transaction.authorization'],
    ['Reversed', cardTransaction({ status: 'Reversed', reversedAmount: 1313n, remainingHold: 0n, mode: 'B2C', userId: USER_ID }), 'transaction.reversal'],
    ['Settled', cardTransaction({ status: 'Settled', settledAmount: 1313n, remainingHold: 0n, merchant: { merchantId: '', merchantName: '', merchantCountry: '', merchantCity: '', mcc: null } }), 'transaction.settlement'],
  ] as const)('a transaction webhook (%s) carries its type and matches its schema', (action, txn, type) => {
    const payload = transactionWebhookBody(action, txn);
    expect(payload).toMatchObject({ action, type });
    expect(Object.keys(payload)).toEqual(['action', 'type', 'card_transaction']);
    expect(problems(JSON.parse(JSON.stringify(payload)))).toEqual([]);
    expect(EVENT_PAYLOADS[type].safeParse(payload).success).toBe(true);
  });

  it('a 3DS OTP webhook carries its type and, with its code, matches its schema', () => {
    const fields = otpWebhookFields({
      businessId: BUSINESS_ID,
      businessName: 'speed pay',
      maskedCardNumber: '356772******8213',
      subject: {
        verificationId: '0190a3c4-0000-7000-8000-00000000d001',
        cardId: CARD_ID,
        amount: '101',
        currency: 'HKD',
        merchant: { merchantId: 'mid-7', merchantName: 'Tea House', merchantCountry: 'HK', merchantCity: '', mcc: null },
      },
      createdAt: AT,
    });
    expect(fields.type).toBe('three_ds.otp');
    const body = JSON.parse(otpWebhookBody(JSON.stringify(fields), '012345'));
    expect(problems(body)).toEqual([]);
    // Without its code (as stored and listed), it is not a valid OTP webhook.
    expect(problems(fields)).not.toEqual([]);
  });

  it('a deposit webhook carries deposit.completed and matches its schema', () => {
    const payload = depositWebhookBody({
      depositId: '0190a3c4-0000-7000-8000-00000000e001',
      businessId: BUSINESS_ID,
      userId: USER_ID,
      chain: 'ETH',
      address: '0x52908400098527886e0f7030069857d2e4169ee7',
      txHash: `0x${'ab'.repeat(32)}`,
      position: 3,
      credit: { asset: 'USDT', onChainAmount: 25_500_000n, currency: 'USD', gross: 2550n, fee: 26n, net: 2524n },
      source: 'simulate:key',
      createdAt: AT,
    });
    expect(payload).toMatchObject({ action: 'Deposit', type: 'deposit.completed' });
    expect(problems(JSON.parse(JSON.stringify(payload)))).toEqual([]);
  });

  it('a transfer webhook carries transfer.completed and matches its schema', () => {
    const payload = transferWebhookBody({
      transferId: '0190a3c4-0000-7000-8000-00000000f001',
      businessId: BUSINESS_ID,
      senderUserId: USER_ID,
      receiverUserId: OTHER_USER_ID,
      currency: 'USD',
      amount: 2550n,
      reference: null,
      requestedBy: 'key',
      createdAt: AT,
    });
    expect(payload).toMatchObject({ action: 'Transfer', type: 'transfer.completed' });
    expect(problems(JSON.parse(JSON.stringify(payload)))).toEqual([]);
  });
});

describe('events stored before event types existed', () => {
  it('reads the old deposit and transfer names as their catalogue types, and filters find them', () => {
    expect(eventTypeOf('deposit')).toBe('deposit.completed');
    expect(eventTypeOf('transfer')).toBe('transfer.completed');
    expect(eventTypeOf('transaction.reversal')).toBe('transaction.reversal');
    expect(storedTypeNames('deposit.completed')).toEqual(['deposit.completed', 'deposit']);
    expect(storedTypeNames('three_ds.otp')).toEqual(['three_ds.otp']);
  });

  it('adds the type to a payload without one (after action), and leaves one that has it byte for byte', () => {
    expect(payloadWithType('{"action":"Deposit","deposit":{"id":"d"}}', 'deposit.completed')).toBe(
      '{"action":"Deposit","type":"deposit.completed","deposit":{"id":"d"}}',
    );
    const current = '{"action":"Settled","type":"transaction.settlement","card_transaction":{"type":"Sales"}}';
    expect(payloadWithType(current, 'transaction.settlement')).toBe(current);
  });

  it('every type has a payload schema and the list of types is the catalogue', () => {
    expect(EVENT_TYPES).toEqual(Object.keys(EVENT_PAYLOADS));
  });
});
