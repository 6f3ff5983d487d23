/**
 * Helpers for the authorization engine's handler tests: items shaped exactly as the repositories
 * store them (read back with `wrapNumbers`, so numbers are `NumberValue`s), events for the simulate
 * and network routes, and `GetCommand` answers matched on the key sent, so a test states which
 * items exist and then scripts what the transactions do.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, NumberValue, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';
import { cardNumberHash } from '../../../shared/db/cards-repository.ts';
import { apiEvent, TEST_BUSINESS_ID, TEST_KEY_ID } from '../../support/events.ts';

export type DocumentMock = AwsStub<any, any, DynamoDBDocumentClient['config']>;
type Item = Record<string, unknown>;

export const CARD_ID = '0190a3c4-0000-7000-8000-00000000c001';
export const USER_ID = '0190a3c4-0000-7000-8000-00000000beef';
export const TRANSACTION_ID = '0190a3c4-0000-7000-8000-00000000a001';
export const OTHER_BUSINESS_ID = '0190a3c4-0000-7000-8000-0000000000f2';
/** A Luhn-valid JCB number under the sandbox BIN. */
export const CARD_NUMBER = '3567720000000010';
export const NETWORK_AUTHORIZER = { credential: 'network', principal: 'network-unit' };

const number = (value: bigint | number) => NumberValue.from(String(value));

export interface CardItemOptions {
  cardId?: string;
  businessId?: string;
  mode?: 'B2B' | 'B2C';
  status?: 'Active' | 'Locked' | 'Terminated';
  currency?: string;
  /** Minor units; 0 = off. */
  limits?: Partial<Record<'transaction' | 'daily' | 'monthly' | 'lifetime', bigint>>;
  createdAt?: string;
  version?: number;
}

/** A card item as `cards-repository` writes it (the sealed secrets are opaque to this path). */
export function cardItem(options: CardItemOptions = {}): Item {
  const cardId = options.cardId ?? CARD_ID;
  const mode = options.mode ?? 'B2B';
  const createdAt = options.createdAt ?? new Date().toISOString().replace('Z', '000Z');
  const limits = { transaction: 0n, daily: 0n, monthly: 0n, lifetime: 0n, ...options.limits };
  return {
    PK: `CARD#${cardId}`,
    SK: 'CARD',
    entity: 'card',
    cardId,
    businessId: options.businessId ?? TEST_BUSINESS_ID,
    mode,
    ...(mode === 'B2C' ? { userId: USER_ID } : {}),
    form: 'virtual',
    status: options.status ?? 'Active',
    currency: options.currency ?? 'USD',
    maskedNumber: '356772******0010',
    last4: '0010',
    limits: Object.fromEntries(Object.entries(limits).map(([rule, value]) => [rule, number(value)])),
    secrets: 'sealed-card-secrets-placeholder',
    createdAt,
    createdBy: TEST_KEY_ID,
    updatedAt: createdAt,
    statusChangedAt: createdAt,
    statusChangedBy: TEST_KEY_ID,
    version: number(options.version ?? 1),
  };
}

export function businessItem(businessId = TEST_BUSINESS_ID, timezone = 'Asia/Hong_Kong'): Item {
  return {
    PK: `BUSINESS#${businessId}`,
    SK: 'PROFILE',
    entity: 'business',
    businessId,
    name: 'Unit Pay',
    timezone,
    webhookUrl: null,
    createdAt: '2025-03-04T03:32:11.051702Z',
    apiKeyHash: 'hash',
    apiKeyId: TEST_KEY_ID,
    webhookSecretSealed: 'sealed',
  };
}

/** The number index item, keyed by the keyed hash the repository computes. */
export async function panIndexItem(cardId = CARD_ID, businessId = TEST_BUSINESS_ID, cardNumber = CARD_NUMBER): Promise<Item> {
  return { PK: `PAN#${await cardNumberHash(cardNumber)}`, SK: 'PAN', entity: 'card_number_index', cardId, businessId };
}

export interface TransactionItemOptions {
  status?: 'Authorized' | 'Declined' | 'Reversed' | 'Settled';
  businessId?: string;
  /** Minor units held by the authorization (USD cents). */
  held?: bigint;
  remainingHold?: bigint;
  version?: number;
}

/** A card transaction item as `transactions-repository` writes it. */
export function transactionItem(options: TransactionItemOptions = {}): Item {
  const held = options.held ?? 1000n;
  const status = options.status ?? 'Authorized';
  const at = '2025-03-04T03:32:11.051702Z';
  return {
    PK: `TXN#${TRANSACTION_ID}`,
    SK: 'TXN',
    GSI1PK: `CARD#${CARD_ID}#TXNS`,
    GSI1SK: `${at}#${TRANSACTION_ID}`,
    entity: 'card_transaction',
    transactionId: TRANSACTION_ID,
    businessId: options.businessId ?? TEST_BUSINESS_ID,
    cardId: CARD_ID,
    mode: 'B2B',
    status,
    type: 'Sales',
    transactionCurrency: 'USD',
    transactionAmount: '10',
    localCurrency: 'USD',
    localAmount: number(held),
    fee: number(0n),
    heldAmount: number(held),
    remainingHold: number(options.remainingHold ?? (status === 'Authorized' ? held : 0n)),
    reversedAmount: number(status === 'Reversed' ? held : 0n),
    ...(status === 'Settled' ? { settledAmount: number(held) } : {}),
    ...(status === 'Declined' ? { declineReason: 'insufficient_balance' } : { windows: { daily: '2025-03-04', monthly: '2025-03', lifetime: 'lifetime' } }),
    merchant: { merchantId: 'm-1', merchantName: 'Coffee', merchantCountry: 'HK', merchantCity: 'Hong Kong' },
    createdAt: at,
    updatedAt: at,
    version: number(options.version ?? 1),
  };
}

/**
 * Answers `GetCommand` on each item's key (PK and SK) with that item; any other key reads as
 * missing. `TransactWriteCommand` succeeds unless a test scripts otherwise. Plain client-mock
 * answers, matched on the key sent: nothing is stored, so what a request writes is never read back.
 */
export function serveItems(ddb: DocumentMock, items: Item[]): void {
  ddb.on(GetCommand).resolves({});
  for (const item of items) ddb.on(GetCommand, { Key: { PK: item.PK, SK: item.SK } }).resolves({ Item: item });
  ddb.on(TransactWriteCommand).resolves({});
}

/** A cancelled transaction: one reason code per item, in item order. */
export function cancelled(codes: string[]): TransactionCanceledException {
  return new TransactionCanceledException({
    message: 'Transaction cancelled, please refer cancellation reasons for specific reasons',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

export function simulateAuthorizationEvent(body: Record<string, unknown>, authorizer?: Record<string, string>) {
  return apiEvent({
    method: 'POST',
    path: '/v1/simulate/authorizations',
    resource: '/v1/simulate/authorizations',
    body: { card_id: CARD_ID, amount: '10', currency: 'USD', merchant_name: 'Coffee', merchant_country: 'HK', ...body },
    ...(authorizer ? { authorizer } : {}),
  });
}

export function networkAuthorizationEvent(networkAuthorizationId: string, body: Record<string, unknown> = {}) {
  return apiEvent({
    method: 'POST',
    path: '/network/authorizations',
    resource: '/network/authorizations',
    body: { card_number: CARD_NUMBER, network_authorization_id: networkAuthorizationId, amount: '10', currency: 'USD', merchant_name: 'Coffee', ...body },
    authorizer: NETWORK_AUTHORIZER,
  });
}

/** `POST /v1/simulate/authorizations/{id}/<action>`. */
export function adjustEvent(action: 'reverse' | 'settle', body: Record<string, unknown> = {}, transactionId = TRANSACTION_ID) {
  return apiEvent({
    method: 'POST',
    path: `/v1/simulate/authorizations/${transactionId}/${action}`,
    resource: `/v1/simulate/authorizations/{id}/${action}`,
    pathParameters: { id: transactionId },
    body,
  });
}
