/**
 * The cards routes through their wrapped handlers, DynamoDB answered with plain aws-sdk-client-mock
 * responses: which reads and conditional writes each route sends, and what it answers for each
 * answer DynamoDB can give. What only DynamoDB's semantics decide (a card read back after a
 * change, a list's pages and filters, a key replayed across requests) is in
 * test/integration/cards.test.ts.
 */
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as getCard } from '../../../functions/cards/get-card.ts';
import { handler as revealCard } from '../../../functions/cards/get-card-full-details.ts';
import { handler as listAuditEvents } from '../../../functions/cards/list-card-audit-events.ts';
import { handler as listCards } from '../../../functions/cards/list-cards.ts';
import { handler as lockCard } from '../../../functions/cards/lock-card.ts';
import { handler as terminateCard } from '../../../functions/cards/terminate-card.ts';
import { handler as unlockCard } from '../../../functions/cards/unlock-card.ts';
import { handler as updateLimits } from '../../../functions/cards/update-card-limits.ts';
import type { ApiHandler } from '../../../shared/http/handler.ts';
import { lambdaContext, parseBody, TEST_BUSINESS_ID, TEST_KEY_ID } from '../../support/events.ts';
import { LIST_SHARDS, listShards } from '../../../shared/db/keys.ts';
import {
  businessAuthorizer,
  cancelled,
  cardEvent,
  issuedCard,
  listCardsEvent,
  OTHER_BUSINESS_ID,
  serveCard,
  transactions,
  USER_ID,
  userItem,
} from './support.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const other = businessAuthorizer(OTHER_BUSINESS_ID);

const post = (handler: ApiHandler, cardId: string, suffix: string, options: Parameters<typeof cardEvent>[3] = {}) =>
  handler(cardEvent('POST', cardId, suffix, options), lambdaContext);

/** A card issued by the create route, and the item it wrote, served to the next request's read. */
async function servedCard(body: Record<string, unknown> = { mode: 'B2B' }, changes: Record<string, unknown> = {}) {
  const { card, item } = await issuedCard(ddb, body);
  const stored = { ...item, ...changes };
  serveCard(ddb, stored);
  ddb.on(TransactWriteCommand).resolves({});
  ddb.on(UpdateCommand).resolves({});
  ddb.on(PutCommand).resolves({});
  return { card, item: stored };
}

beforeEach(() => {
  ddb.reset();
});

describe('GET /v1/cards/{id}', () => {
  it('returns the card as it was issued, read strongly consistent', async () => {
    const { card } = await servedCard({ mode: 'B2B', nickname: 'Ops' });
    const result = await getCard(cardEvent('GET', card.id), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(parseBody(result)).toEqual(card);
    expect(ddb).toHaveReceivedCommandWith(GetCommand, { Key: { PK: `CARD#${card.id}`, SK: 'CARD' }, ConsistentRead: true });
  });

  it('is 404 card_not_found for another business\'s card, and reads nothing for a malformed id', async () => {
    const { card } = await servedCard();
    const theirs = await getCard(cardEvent('GET', card.id, '', { authorizer: other }), lambdaContext);
    expect(theirs.statusCode).toBe(404);
    expect(parseBody(theirs).error.code).toBe('card_not_found');
    ddb.resetHistory();
    const malformed = await getCard(cardEvent('GET', '../CARD'), lambdaContext);
    expect(malformed.statusCode).toBe(404);
    expect(parseBody(malformed).error.code).toBe('card_not_found');
    expect(ddb).not.toHaveReceivedCommand(GetCommand);
  });
  // A missing card: test/integration/cards.test.ts, 'returns the card; another business gets 404 card_not_found'.
});

describe('GET /v1/cards', () => {
  // Pages newest first, filters by status and by user, another business's user:
  // test/integration/cards.test.ts, describe('GET /v1/cards').

  it('queries every write shard of the business\'s list (GSI1) newest first, one item past a default page of 20, filtered on the business', async () => {
    const { item } = await issuedCard(ddb);
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':partition': item.GSI1PK } }).resolves({ Items: [item] });
    const page = parseBody(await listCards(listCardsEvent(), lambdaContext));
    expect(page.data.map((c: { id: string }) => c.id)).toEqual([item.cardId]);
    expect(page.next_cursor).toBeNull();
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, LIST_SHARDS);
    for (const partition of listShards(`BUSINESS#${TEST_BUSINESS_ID}#CARDS`)) {
      expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :partition',
        FilterExpression: 'businessId = :businessId',
        ExpressionAttributeValues: { ':partition': partition, ':businessId': TEST_BUSINESS_ID },
        ScanIndexForward: false,
        Limit: 21,
      });
    }
  });

  it('filters by status, querying again from where DynamoDB stopped until the page is full', async () => {
    const lockedItem = async (): Promise<Record<string, any>> => ({ ...(await issuedCard(ddb)).item, status: 'Locked' });
    const older = await lockedItem();
    const newer = await lockedItem();
    // Both in shard 0 (the list partition without a suffix), between them an Active card.
    const shard0 = `BUSINESS#${TEST_BUSINESS_ID}#CARDS`;
    const stoppedAt = { PK: 'CARD#an-Active-card', SK: 'CARD', GSI1PK: shard0, GSI1SK: 'an-Active-card' };
    // DynamoDB applies the filter after the Limit: the first round finds one Locked card, the second the other.
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':partition': shard0 } })
      .resolvesOnce({ Items: [{ ...newer, GSI1PK: shard0 }], LastEvaluatedKey: stoppedAt })
      .resolvesOnce({ Items: [{ ...older, GSI1PK: shard0 }] });
    const page = parseBody(await listCards(listCardsEvent({ status: 'Locked', limit: '2' }), lambdaContext));
    expect(page.data.map((c: { id: string }) => c.id)).toEqual([newer.cardId, older.cardId]);
    expect(page.next_cursor).toBeNull();
    const rounds = ddb.commandCalls(QueryCommand, { ExpressionAttributeValues: { ':partition': shard0 } }).map((call) => call.args[0].input);
    expect(rounds).toHaveLength(2);
    expect(rounds[0]).toMatchObject({ FilterExpression: 'businessId = :businessId AND #status = :status', ExpressionAttributeNames: { '#status': 'status' }, Limit: 3 });
    expect(rounds[1]).toMatchObject({ ExclusiveStartKey: stoppedAt, Limit: 2 });
  });

  it('lists a user\'s cards from GSI2 once the user is found in the business', async () => {
    ddb.on(GetCommand, { Key: { PK: `USER#${USER_ID}`, SK: 'PROFILE' } }).resolves({ Item: userItem('Active') });
    ddb.on(QueryCommand).resolves({ Items: [] });
    expect((await listCards(listCardsEvent({ p_user_id: USER_ID }), lambdaContext)).statusCode).toBe(200);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, { IndexName: 'GSI2', ExpressionAttributeValues: expect.objectContaining({ ':partition': `USER#${USER_ID}#CARDS` }) });
  });

  it('is 404 user_not_found for a user of another business, querying nothing', async () => {
    ddb.on(GetCommand, { Key: { PK: `USER#${USER_ID}`, SK: 'PROFILE' } }).resolves({ Item: userItem('Active', OTHER_BUSINESS_ID) });
    const refused = await listCards(listCardsEvent({ p_user_id: USER_ID }), lambdaContext);
    expect(refused.statusCode).toBe(404);
    expect(parseBody(refused).error.code).toBe('user_not_found');
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });

  it('refuses a cursor from another list, another filter or another business, before any query', async () => {
    const { item } = await issuedCard(ddb);
    ddb.on(GetCommand).resolves({ Item: userItem('Active') });
    ddb.on(QueryCommand).resolves({ Items: [item, { ...item, cardId: 'older' }] });
    const { next_cursor: cursor } = parseBody(await listCards(listCardsEvent({ limit: '1' }), lambdaContext));
    expect(cursor).toEqual(expect.any(String));
    ddb.resetHistory();
    for (const [query, authorizer] of [
      [{ status: 'Active', cursor }, undefined],
      [{ p_user_id: USER_ID, cursor }, undefined],
      [{ cursor }, other],
    ] as const) {
      const result = await listCards(listCardsEvent(query, authorizer), lambdaContext);
      expect(result.statusCode).toBe(400);
      expect(parseBody(result).error.code).toBe('invalid_cursor');
    }
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });

  it('is 400 with fields for a bad limit or status', async () => {
    const result = await listCards(listCardsEvent({ limit: '101', status: 'Frozen' }), lambdaContext);
    expect(result.statusCode).toBe(400);
    expect(parseBody(result).error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['limit', 'status']);
  });
});

describe('lock, unlock and terminate', () => {
  // The state machine's answers through HTTP, another business's card, and concurrent locks:
  // test/integration/cards.test.ts, describe('lock, unlock, terminate'); every action from every
  // state: card-lifecycle.test.ts.

  it('records who changed the status and when, on the card and in its audit trail, in one transaction', async () => {
    const { card } = await servedCard();
    const keyId = '0190a3c4-0000-7000-8000-0000000000cc';
    const result = await post(lockCard, card.id, '/lock', { authorizer: businessAuthorizer(TEST_BUSINESS_ID, keyId) });
    expect(result.statusCode).toBe(200);
    const locked = parseBody(result);
    expect(locked).toMatchObject({ id: card.id, status: 'Locked' });
    expect(locked.p_updated_at > card.p_updated_at).toBe(true);
    expect(ddb).toHaveReceivedCommandOnce(TransactWriteCommand);
    const [update, audit, ...rest] = transactions(ddb)[0]!;
    expect(rest).toEqual([]);
    expect(update!.Update).toMatchObject({
      Key: { PK: `CARD#${card.id}`, SK: 'CARD' },
      ConditionExpression: 'businessId = :businessId AND version = :version',
      ExpressionAttributeValues: {
        ':status': 'Locked',
        ':statusChangedBy': keyId,
        ':statusChangedAt': locked.p_updated_at,
        ':businessId': TEST_BUSINESS_ID,
        ':version': 1,
        ':nextVersion': 2,
      },
    });
    expect(audit!.Put).toMatchObject({
      Item: { PK: `CARD_AUDIT#${card.id}`, SK: expect.stringMatching(/^AUDIT#/), action: 'lock', keyId, fromStatus: 'Active', toStatus: 'Locked' },
      ConditionExpression: 'attribute_not_exists(PK)',
    });
  });

  it('decides again from the new state when another change commits in between (never a lost update)', async () => {
    const { card, item } = await servedCard();
    // Another request terminates the card between this request's read and its write.
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: item })
      .resolves({ Item: { ...item, status: 'Terminated', version: 2 } });
    ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));
    const result = await post(lockCard, card.id, '/lock');
    expect(result.statusCode).toBe(409);
    expect(parseBody(result).error.code).toBe('card_terminated');
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
    expect(ddb).toHaveReceivedCommandOnce(TransactWriteCommand);
  });

  it('answers 503 rather than loop when the card keeps changing under it', async () => {
    const { card } = await servedCard();
    ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));
    const result = await post(lockCard, card.id, '/lock');
    expect(result.statusCode).toBe(503);
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 3);
  });

  it('is 404 card_not_found for another business\'s card, writing nothing', async () => {
    const { card } = await servedCard();
    for (const [handler, suffix] of [[lockCard, '/lock'], [unlockCard, '/unlock'], [terminateCard, '/terminate']] as const) {
      const result = await post(handler, card.id, suffix, { authorizer: other });
      expect(result.statusCode).toBe(404);
      expect(parseBody(result).error.code).toBe('card_not_found');
    }
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('commits the Idempotency-Key\'s record in the change\'s own transaction', async () => {
    const { card } = await servedCard();
    const result = await post(lockCard, card.id, '/lock', { headers: { 'Idempotency-Key': 'lock-1' } });
    expect(result.statusCode).toBe(200);
    const items = transactions(ddb)[0]!;
    expect(items).toHaveLength(3);
    expect(items[2]!.Put!.Item).toMatchObject({ PK: `IDEMPOTENCY#${TEST_BUSINESS_ID}#lock-1`, state: 'completed', statusCode: 200 });
    // A lock sent twice with the same key is replayed, not refused 409: test/integration/cards.test.ts.
  });
});

describe('PUT /v1/cards/{id}/limits', () => {
  const put = (cardId: string, body: unknown, authorizer?: Record<string, string>) =>
    updateLimits(cardEvent('PUT', cardId, '/limits', { body, ...(authorizer ? { authorizer } : {}) }), lambdaContext);
  const limits = { transaction: '50', daily: '200.25', monthly: '0', lifetime: '10000' };

  it('replaces the four rules in minor units, conditionally on the version read, with its audit event in one transaction', async () => {
    const { card } = await servedCard();
    const result = await put(card.id, limits);
    expect(result.statusCode).toBe(200);
    expect(parseBody(result)).toMatchObject({ id: card.id, status: 'Active', limits });
    const [change] = transactions(ddb);
    expect(change).toHaveLength(2);
    expect(change![0]!.Update).toMatchObject({
      Key: { PK: `CARD#${card.id}`, SK: 'CARD' },
      ConditionExpression: 'businessId = :businessId AND version = :version',
      ExpressionAttributeValues: expect.objectContaining({
        ':limits': { transaction: 5000n, daily: 20025n, monthly: 0n, lifetime: 1000000n },
        ':version': 1,
        ':nextVersion': 2,
      }),
    });
    const audit = change![1]!.Put!;
    expect(audit).toMatchObject({ ConditionExpression: 'attribute_not_exists(PK)', Item: { PK: `CARD_AUDIT#${card.id}`, action: 'limits_update', keyId: TEST_KEY_ID } });
    expect(JSON.parse(audit.Item.change)).toEqual({
      setting: 'limits',
      from: { transaction: '0', daily: '0', monthly: '0', lifetime: '0' },
      to: { transaction: '50', daily: '200.25', monthly: '0', lifetime: '10000' },
    });
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('works on a Locked card', async () => {
    const { card } = await servedCard({ mode: 'B2B' }, { status: 'Locked' });
    const result = await put(card.id, limits);
    expect(result.statusCode).toBe(200);
    expect(parseBody(result).status).toBe('Locked');
  });

  it('decides again when the card changed since it was read', async () => {
    const { card, item } = await servedCard();
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: item })
      .resolves({ Item: { ...item, status: 'Terminated', version: 2 } });
    ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));
    const result = await put(card.id, limits);
    expect(result.statusCode).toBe(409);
    expect(parseBody(result).error.code).toBe('card_terminated');
    expect(transactions(ddb)).toHaveLength(1);
  });

  it('is 400 with each bad rule\'s name: missing, negative, JSON numbers, too many decimals for the card currency', async () => {
    const { card } = await servedCard({ mode: 'B2B', currency: 'JPY' });
    const shape = await put(card.id, { transaction: 10, daily: '-1' });
    expect(shape.statusCode).toBe(400);
    expect(parseBody(shape).error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['lifetime', 'monthly', 'transaction']);
    const rules = await put(card.id, { transaction: '10.5', daily: '-1', monthly: '0', lifetime: '100' });
    expect(rules.statusCode).toBe(400);
    expect(parseBody(rules).error).toMatchObject({ code: 'validation_error' });
    expect(parseBody(rules).error.fields.map((f: { path: string }) => f.path)).toEqual(['transaction', 'daily']);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('is 409 card_terminated on a terminated card, writing nothing', async () => {
    const { card } = await servedCard({ mode: 'B2B' }, { status: 'Terminated' });
    const result = await put(card.id, limits);
    expect(result.statusCode).toBe(409);
    expect(parseBody(result).error.code).toBe('card_terminated');
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('is 404 for another business\'s card, writing nothing', async () => {
    const { card } = await servedCard();
    expect((await put(card.id, limits, other)).statusCode).toBe(404);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });
});

describe('GET /v1/cards/{id}/full', () => {
  it('returns the number, expiry and CVV with Cache-Control: no-store', async () => {
    const { card } = await servedCard();
    const result = await revealCard(cardEvent('GET', card.id, '/full'), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(result.headers!['cache-control']).toBe('no-store');
    const full = parseBody(result);
    expect(Object.keys(full).sort()).toEqual(['card_number', 'cvv', 'expiry_month', 'expiry_year', 'id']);
    expect(full.id).toBe(card.id);
    expect(full.card_number).toMatch(/^356772\d{10}$/);
    expect(full.card_number.slice(-4)).toBe(card.last4);
    expect(full.expiry_month).toMatch(/^(0[1-9]|1[0-2])$/);
    expect(full.expiry_year).toMatch(/^\d{4}$/);
  });

  it('writes the audit event (business, key id, card, time; never the values) before answering', async () => {
    const { card } = await servedCard();
    const full = parseBody(await revealCard(cardEvent('GET', card.id, '/full'), lambdaContext));
    expect(ddb).toHaveReceivedCommandOnce(PutCommand);
    const audit = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(audit).toMatchObject({
      Item: { PK: `CARD_AUDIT#${card.id}`, entity: 'card_audit_event', cardId: card.id, businessId: TEST_BUSINESS_ID, keyId: TEST_KEY_ID, action: 'reveal' },
      ConditionExpression: 'attribute_not_exists(PK)',
    });
    const text = JSON.stringify(audit.Item);
    expect(text).not.toContain(full.card_number);
    // A 3-digit CVV or a year may well appear inside an id or a time: no value of the record may BE one.
    const leaves = (value: unknown): unknown[] => (value !== null && typeof value === 'object' ? Object.values(value).flatMap(leaves) : [value]);
    for (const leaf of leaves(audit.Item)) expect([full.cvv, full.expiry_year, full.expiry_month]).not.toContain(String(leaf));
    expect(text).not.toMatch(/cvv|expiry/i);
  });

  it('reveals nothing when the audit event cannot be written', async () => {
    const { card } = await servedCard();
    ddb.on(PutCommand).rejects(new Error('DynamoDB is down'));
    const result = await revealCard(cardEvent('GET', card.id, '/full'), lambdaContext);
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toMatch(/card_number|cvv|\d{16}/);
  });

  it('is 409 card_terminated for a terminated card, and 404 for another business\'s card, recording no reveal', async () => {
    const { card } = await servedCard({ mode: 'B2B' }, { status: 'Terminated' });
    const result = await revealCard(cardEvent('GET', card.id, '/full'), lambdaContext);
    expect(result.statusCode).toBe(409);
    expect(parseBody(result).error.code).toBe('card_terminated');
    const theirs = await revealCard(cardEvent('GET', card.id, '/full', { authorizer: other }), lambdaContext);
    expect(theirs.statusCode).toBe(404);
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
  });

  it('refuses a ciphertext moved onto another card (the encryption context binds it)', async () => {
    const { item: victim } = await issuedCard(ddb);
    const { card: attacker } = await servedCard({ mode: 'B2B' }, { secrets: victim.secrets });
    const result = await revealCard(cardEvent('GET', attacker.id, '/full'), lambdaContext);
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toMatch(/card_number|cvv|\d{16}/);
  });
});

describe('GET /v1/cards/{id}/audit-events', () => {
  // Reveals and status changes listed newest first, with who did them, in pages; another
  // business's card: test/integration/cards.test.ts, describe('GET /v1/cards/{id}/full and its audit trail').

  /** An audit item as the repository writes it. */
  const auditItem = (cardId: string, eventId: string, action: string, from?: string, to?: string) => ({
    PK: `CARD_AUDIT#${cardId}`,
    SK: `AUDIT#${eventId}`,
    entity: 'card_audit_event',
    eventId,
    cardId,
    businessId: TEST_BUSINESS_ID,
    keyId: TEST_KEY_ID,
    action,
    ...(from ? { fromStatus: from, toStatus: to } : {}),
    at: '2025-03-04T03:32:11.051702Z',
  });

  it('queries the card\'s own partition newest first and shows each event with who did it', async () => {
    const { card } = await servedCard();
    ddb.on(QueryCommand).resolves({ Items: [auditItem(card.id, 'e2', 'unlock', 'Locked', 'Active'), auditItem(card.id, 'e1', 'reveal')] });
    const result = await listAuditEvents(cardEvent('GET', card.id, '/audit-events'), lambdaContext);
    expect(result.statusCode).toBe(200);
    const { data, next_cursor } = parseBody(result);
    expect(next_cursor).toBeNull();
    expect(data).toEqual([
      {
        id: 'e2',
        p_card_id: card.id,
        p_business_id: TEST_BUSINESS_ID,
        key_id: TEST_KEY_ID,
        action: 'unlock',
        from_status: 'Locked',
        to_status: 'Active',
        from_limits: null,
        to_limits: null,
        from_controls: null,
        to_controls: null,
        reveal_origin: null,
        p_created_at: '2025-03-04T03:32:11.051702Z',
      },
      expect.objectContaining({ id: 'e1', action: 'reveal', from_status: null, to_status: null }),
    ]);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': `CARD_AUDIT#${card.id}`, ':prefix': 'AUDIT#' },
      ScanIndexForward: false,
    });
  });

  it('pages with a cursor bound to the card', async () => {
    const { card, item } = await servedCard();
    ddb.on(QueryCommand).resolves({ Items: [auditItem(card.id, 'e3', 'reveal'), auditItem(card.id, 'e2', 'reveal'), auditItem(card.id, 'e1', 'reveal')] });
    const first = parseBody(await listAuditEvents(cardEvent('GET', card.id, '/audit-events', { query: { limit: '2' } }), lambdaContext));
    expect(first.data.map((e: { id: string }) => e.id)).toEqual(['e3', 'e2']);
    expect(first.next_cursor).toEqual(expect.any(String));

    ddb.on(QueryCommand).resolves({ Items: [auditItem(card.id, 'e1', 'reveal')] });
    const second = parseBody(await listAuditEvents(cardEvent('GET', card.id, '/audit-events', { query: { limit: '2', cursor: first.next_cursor } }), lambdaContext));
    expect(second.data.map((e: { id: string }) => e.id)).toEqual(['e1']);
    expect(second.next_cursor).toBeNull();
    expect(ddb).toHaveReceivedLastCommandWith(QueryCommand, { ExclusiveStartKey: { PK: `CARD_AUDIT#${card.id}`, SK: 'AUDIT#e2' } });

    const otherCardId = '0190a3c4-0000-7000-8000-00000000c0c0';
    serveCard(ddb, { ...item, PK: `CARD#${otherCardId}`, cardId: otherCardId });
    ddb.resetHistory();
    const elsewhere = await listAuditEvents(cardEvent('GET', otherCardId, '/audit-events', { query: { cursor: first.next_cursor } }), lambdaContext);
    expect(elsewhere.statusCode).toBe(400);
    expect(parseBody(elsewhere).error.code).toBe('invalid_cursor');
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });

  it('is 404 for another business\'s card, querying nothing', async () => {
    const { card } = await servedCard();
    const result = await listAuditEvents(cardEvent('GET', card.id, '/audit-events', { authorizer: other }), lambdaContext);
    expect(result.statusCode).toBe(404);
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });
});

describe('a failed write', () => {
  it('of a lifecycle change surfaces as a 500, without a second attempt', async () => {
    const { card } = await servedCard();
    ddb.on(TransactWriteCommand).rejects(new Error('socket hang up'));
    const result = await post(lockCard, card.id, '/lock');
    expect(result.statusCode).toBe(500);
    expect(ddb).toHaveReceivedCommandOnce(TransactWriteCommand);
  });
});
