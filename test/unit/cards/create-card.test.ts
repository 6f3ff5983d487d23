import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as createCard } from '../../../functions/cards/create-card.ts';
import { handler as revealCard } from '../../../functions/cards/get-card-full-details.ts';
import { openSecret } from '../../../shared/crypto/envelope.ts';
import { keyedHash } from '../../../shared/crypto/keyed-hash.ts';
import { isJcbCardNumber } from '../../../shared/domain/card-number.ts';
import { isUuid } from '../../../shared/domain/ids.ts';
import { lambdaContext, parseBody, TEST_BUSINESS_ID, TEST_KEY_ID } from '../../support/events.ts';
import { cancelled, cardEvent, createCardEvent, OTHER_BUSINESS_ID, putItems, serveCard, USER_ID, userItem } from './support.ts';
import { listShardOf } from '../../../shared/db/keys.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const MICROSECOND_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** The card item the create's transaction wrote. */
const storedCard = () => putItems(ddb).find((item) => item.entity === 'card')!;
/** Everything the creates so far asked DynamoDB to store, as text. */
const atRest = () => JSON.stringify(putItems(ddb), (_, v) => (typeof v === 'bigint' ? v.toString() : v));

/** The full details of the card just created, through the reveal route reading the item it wrote. */
async function revealStored(cardId: string) {
  serveCard(ddb, storedCard());
  ddb.on(PutCommand).resolves({});
  const result = await revealCard(cardEvent('GET', cardId, '/full'), lambdaContext);
  expect(result.statusCode).toBe(200);
  return parseBody(result);
}

describe('POST /v1/cards', () => {
  beforeEach(() => {
    ddb.reset();
    ddb.on(TransactWriteCommand).resolves({});
  });

  describe('issuing a B2B card', () => {
    it('answers 201 with the standard view: masked number, no expiry or CVV, limits off by default', async () => {
      const result = await createCard(createCardEvent({ mode: 'B2B' }), lambdaContext);
      expect(result.statusCode).toBe(201);
      const card = parseBody(result);
      expect(isUuid(card.id)).toBe(true);
      expect(card).toEqual({
        id: card.id,
        p_business_id: TEST_BUSINESS_ID,
        mode: 'B2B',
        p_user_id: null,
        form: 'virtual',
        status: 'Active',
        currency: 'USD',
        card_num: expect.stringMatching(/^356772\*{6}\d{4}$/),
        last4: card.card_num.slice(-4),
        limits: { transaction: '0', daily: '0', monthly: '0', lifetime: '0' },
        controls: { allowed_mccs: [], blocked_mccs: [], allowed_countries: [], blocked_countries: [], max_daily_count: 0 },
        nickname: null,
        p_created_at: expect.stringMatching(MICROSECOND_TIME),
        p_updated_at: card.p_created_at,
      });
    });

    it('keeps the requested currency, limits and nickname', async () => {
      const result = await createCard(
        createCardEvent({ mode: 'B2B', currency: 'JPY', limits: { transaction: '5000', daily: '20000' }, nickname: 'Travel' }),
        lambdaContext,
      );
      expect(parseBody(result)).toMatchObject({
        currency: 'JPY',
        limits: { transaction: '5000', daily: '20000', monthly: '0', lifetime: '0' },
        nickname: 'Travel',
      });
    });

    it('writes the card and its number index in one transaction, neither allowed to overwrite', async () => {
      const card = parseBody(await createCard(createCardEvent({ mode: 'B2B' }), lambdaContext));
      const calls = ddb.commandCalls(TransactWriteCommand);
      expect(calls).toHaveLength(1);
      const [cardPut, indexPut, ...rest] = calls[0]!.args[0].input.TransactItems!;
      expect(rest).toEqual([]);
      expect(cardPut!.Put).toMatchObject({ ConditionExpression: 'attribute_not_exists(PK)', Item: { PK: `CARD#${card.id}`, SK: 'CARD' } });
      expect(indexPut!.Put).toMatchObject({
        ConditionExpression: 'attribute_not_exists(PK)',
        Item: { SK: 'PAN', cardId: card.id, businessId: TEST_BUSINESS_ID },
      });
      const number = (await revealStored(card.id)).card_number;
      expect(indexPut!.Put!.Item!.PK).toBe(`PAN#${await keyedHash('pan', number)}`);
    });

    it('stores limits as minor-unit numbers on the card item, where authorization reads them', async () => {
      const card = parseBody(await createCard(createCardEvent({ mode: 'B2B', limits: { daily: '100.5', lifetime: '1000' } }), lambdaContext));
      expect(storedCard()).toMatchObject({ PK: `CARD#${card.id}`, SK: 'CARD' });
      expect(storedCard().limits).toEqual({ transaction: 0n, daily: 10050n, monthly: 0n, lifetime: 100000n });
    });

    it('lists the card under its business (GSI1) and records who issued it', async () => {
      const card = parseBody(await createCard(createCardEvent({ mode: 'B2B' }), lambdaContext));
      expect(storedCard()).toMatchObject({
        PK: `CARD#${card.id}`,
        GSI1PK: listShardOf(`BUSINESS#${TEST_BUSINESS_ID}#CARDS`, card.id),
        GSI1SK: card.id,
        createdBy: TEST_KEY_ID,
        statusChangedBy: TEST_KEY_ID,
        version: 1,
      });
      expect(storedCard().GSI2PK).toBeUndefined();
    });
  });

  describe('card secrets', () => {
    it('are generated by the platform: a JCB number under the configured BIN, expiry five years out, a 3-digit CVV', async () => {
      const card = parseBody(await createCard(createCardEvent({ mode: 'B2B' }), lambdaContext));
      const full = await revealStored(card.id);
      expect(isJcbCardNumber(full.card_number)).toBe(true);
      expect(full.card_number.startsWith('356772')).toBe(true);
      expect(`${full.card_number.slice(0, 6)}******${full.card_number.slice(-4)}`).toBe(card.card_num);
      const issuedAt = new Date(card.p_created_at);
      expect(full.expiry_month).toBe(String(issuedAt.getUTCMonth() + 1).padStart(2, '0'));
      expect(full.expiry_year).toBe(String(issuedAt.getUTCFullYear() + 5));
      expect(full.cvv).toMatch(/^\d{3}$/);
    });

    it('are sealed as one bundle bound to the business and the card', async () => {
      const card = parseBody(await createCard(createCardEvent({ mode: 'B2B' }), lambdaContext));
      const stored = storedCard();
      const context = { business_id: TEST_BUSINESS_ID, card_id: card.id, purpose: 'card' };
      const secrets = await openSecret<Record<string, string>>(stored.secrets, context);
      expect(Object.keys(secrets).sort()).toEqual(['cvv', 'expiry_month', 'expiry_year', 'number']);
      await expect(openSecret(stored.secrets, { ...context, card_id: '0190a3c4-0000-7000-8000-000000000999' })).rejects.toThrow(/context/);
      await expect(openSecret(stored.secrets, { ...context, business_id: OTHER_BUSINESS_ID })).rejects.toThrow(/context/);
      await expect(openSecret(stored.secrets, { ...context, purpose: 'ekyc' })).rejects.toThrow(/context/);
    });

    it('are never in the response, and nothing but the sealed bundle and a keyed hash holds them at rest', async () => {
      const result = await createCard(createCardEvent({ mode: 'B2B' }), lambdaContext);
      const card = parseBody(result);
      const written = atRest();
      const full = await revealStored(card.id);
      expect(result.body).not.toContain(full.card_number);
      expect(result.body).not.toContain(full.card_number.slice(6, 12));
      expect(written).not.toContain(full.card_number);
      expect(written).not.toContain(full.card_number.slice(6, 12));
      expect(written).not.toMatch(new RegExp(`"${full.cvv}"`));
      expect(written).not.toContain(`${full.expiry_month}/${full.expiry_year}`);
      expect(written).not.toMatch(new RegExp(`"${full.expiry_year}"`));
    });

    it('gives every card a different number', async () => {
      const numbers = new Set<string>();
      for (let i = 0; i < 20; i++) {
        ddb.reset();
        ddb.on(TransactWriteCommand).resolves({});
        const card = parseBody(await createCard(createCardEvent({ mode: 'B2B' }), lambdaContext));
        numbers.add((await revealStored(card.id)).card_number);
      }
      expect(numbers.size).toBe(20);
    });
  });

  describe('number collisions', () => {
    it('retry with a new number when the number index already holds the generated one', async () => {
      ddb.reset();
      ddb.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'ConditionalCheckFailed')).resolves({});
      const result = await createCard(createCardEvent({ mode: 'B2B' }), lambdaContext);
      expect(result.statusCode).toBe(201);
      const calls = ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems!);
      expect(calls).toHaveLength(2);
      expect(calls[1]![1]!.Put!.Item!.PK).not.toBe(calls[0]![1]!.Put!.Item!.PK);
      expect(calls[1]![0]!.Put!.Item!.secrets).not.toBe(calls[0]![0]!.Put!.Item!.secrets);
      // The same card id on every attempt: a retry is not a second card.
      expect(calls[1]![0]!.Put!.Item!.cardId).toBe(calls[0]![0]!.Put!.Item!.cardId);
    });

    it('give up after five attempts with a 500 rather than ever writing a duplicate', async () => {
      ddb.reset();
      ddb.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));
      const result = await createCard(createCardEvent({ mode: 'B2B' }), lambdaContext);
      expect(result.statusCode).toBe(500);
      expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(5);
    });
  });

  describe('issuing a B2C card', () => {
    /** Answers the read of the user (by its key) with `user`; any other key reads as missing. */
    function serveUser(user: Record<string, unknown>) {
      ddb.on(GetCommand).resolves({});
      ddb.on(GetCommand, { Key: { PK: `USER#${USER_ID}`, SK: 'PROFILE' } }).resolves({ Item: user });
    }

    it('needs an Active user of the same business, and lists the card under the user (GSI2)', async () => {
      serveUser(userItem('Active'));
      const result = await createCard(createCardEvent({ mode: 'B2C', p_user_id: USER_ID }), lambdaContext);
      expect(result.statusCode).toBe(201);
      const card = parseBody(result);
      expect(card).toMatchObject({ mode: 'B2C', p_user_id: USER_ID });
      expect(ddb).toHaveReceivedCommandWith(GetCommand, { Key: { PK: `USER#${USER_ID}`, SK: 'PROFILE' } });
      expect(storedCard()).toMatchObject({ PK: `CARD#${card.id}`, GSI2PK: `USER#${USER_ID}#CARDS`, GSI2SK: card.id, userId: USER_ID });
    });

    it('checks inside the transaction that the user is still Active in this business', async () => {
      serveUser(userItem('Active'));
      await createCard(createCardEvent({ mode: 'B2C', p_user_id: USER_ID }), lambdaContext);
      const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
      expect(items[2]!.ConditionCheck).toMatchObject({
        Key: { PK: `USER#${USER_ID}`, SK: 'PROFILE' },
        ConditionExpression: '#status = :active AND businessId = :businessId',
        ExpressionAttributeValues: { ':active': 'Active', ':businessId': TEST_BUSINESS_ID },
      });
    });

    it('is 409 user_not_active when the user was suspended between the read and the write', async () => {
      // The service's read still sees the user Active; the transaction's check of the user fails.
      serveUser(userItem('Active'));
      ddb.on(TransactWriteCommand).rejects(cancelled('None', 'None', 'ConditionalCheckFailed'));
      const result = await createCard(createCardEvent({ mode: 'B2C', p_user_id: USER_ID }), lambdaContext);
      expect(result.statusCode).toBe(409);
      expect(parseBody(result).error.code).toBe('user_not_active');
      // Refused, not retried as if the number were taken.
      expect(ddb).toHaveReceivedCommandOnce(TransactWriteCommand);
    });

    it('is 409 user_not_active for a Suspended user', async () => {
      serveUser(userItem('Suspended'));
      const result = await createCard(createCardEvent({ mode: 'B2C', p_user_id: USER_ID }), lambdaContext);
      expect(result.statusCode).toBe(409);
      expect(parseBody(result).error.code).toBe('user_not_active');
      expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    });

    it('is 404 user_not_found for a user of another business, a missing user or a malformed id', async () => {
      serveUser(userItem('Active', OTHER_BUSINESS_ID));
      for (const userId of [USER_ID, '0190a3c4-0000-7000-8000-000000000404', 'not-a-uuid']) {
        const result = await createCard(createCardEvent({ mode: 'B2C', p_user_id: userId }), lambdaContext);
        expect(result.statusCode, userId).toBe(404);
        expect(parseBody(result).error.code).toBe('user_not_found');
      }
      expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    });
  });

  describe('physical cards', () => {
    const shipping = { line1: '1 Queen\'s Road Central', city: 'Hong Kong', postal_code: '999077', country: 'HK' };

    it('keep the shipping address sealed on its own, never in the response or in plaintext', async () => {
      const result = await createCard(createCardEvent({ mode: 'B2B', form: 'physical', shipping }), lambdaContext);
      expect(result.statusCode).toBe(201);
      const card = parseBody(result);
      expect(card.form).toBe('physical');
      expect(result.body).not.toContain('Queen');
      const stored = storedCard();
      expect(atRest()).not.toContain('Queen');
      const context = { business_id: TEST_BUSINESS_ID, card_id: card.id, purpose: 'card-shipping' };
      expect(await openSecret(stored.shipping, context)).toEqual(shipping);
      await expect(openSecret(stored.shipping, { ...context, purpose: 'card' })).rejects.toThrow(/context/);
    });
  });

  describe('bad input', () => {
    async function fieldsOf(body: unknown) {
      const result = await createCard(createCardEvent(body), lambdaContext);
      expect(result.statusCode).toBe(400);
      const { error } = parseBody(result);
      expect(error.code).toBe('validation_error');
      return error.fields.map((f: { path: string }) => f.path).sort();
    }

    it('is 400 validation_error naming every bad field at once', async () => {
      expect(await fieldsOf({})).toEqual(['mode']);
      expect(await fieldsOf({ mode: 'B2C', form: 'physical', currency: 'BTC' })).toEqual(['currency', 'p_user_id', 'shipping']);
      expect(await fieldsOf({ mode: 'B2B', p_user_id: USER_ID, shipping: { line1: 'x', city: 'y', country: 'HK' } })).toEqual(['p_user_id', 'shipping']);
      expect(await fieldsOf({ mode: 'B2B', currency: 'JPY', limits: { daily: '10.5', monthly: '-1', lifetime: 100 } })).toEqual([
        'limits.daily',
        'limits.lifetime',
        'limits.monthly',
      ]);
      expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    });

    it('is 403 api_key_required with a card network identity', async () => {
      const result = await createCard(createCardEvent({ mode: 'B2B' }, { authorizer: { credential: 'network', principal: 'x' } }), lambdaContext);
      expect(result.statusCode).toBe(403);
      expect(parseBody(result).error.code).toBe('api_key_required');
    });
  });

  describe('Idempotency-Key', () => {
    // A replay across requests, the 422 for another body, a refusal kept as the key's answer and the
    // key's business scope are decided by what DynamoDB stored: test/integration/cards.test.ts.

    it('claims the key, then commits the idempotency record in the card\'s own transaction', async () => {
      ddb.on(PutCommand).resolves({});
      await createCard(createCardEvent({ mode: 'B2B' }, { headers: { 'Idempotency-Key': 'card-2' } }), lambdaContext);
      const claimKey = { PK: `IDEMPOTENCY#${TEST_BUSINESS_ID}#card-2`, SK: 'IDEMPOTENCY' };
      expect(ddb).toHaveReceivedCommandOnce(PutCommand);
      expect(ddb).toHaveReceivedCommandWith(PutCommand, { Item: expect.objectContaining({ ...claimKey, state: 'in_progress' }) });
      const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
      expect(items).toHaveLength(3);
      expect(items[2]!.Put!.Item).toMatchObject({ ...claimKey, state: 'completed', statusCode: 201 });
    });
  });
});
