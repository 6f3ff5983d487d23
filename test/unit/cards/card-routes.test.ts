import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as createCard } from '../../../functions/cards/create-card.ts';
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
import {
  businessAuthorizer,
  cardEvent,
  createCardEvent,
  FakeTable,
  listCardsEvent,
  MISSING_CARD_ID,
  OTHER_BUSINESS_ID,
  USER_ID,
  userItem,
} from './support.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const other = businessAuthorizer(OTHER_BUSINESS_ID);

let table: FakeTable;

async function issue(body: Record<string, unknown> = { mode: 'B2B' }, authorizer?: Record<string, string>) {
  const result = await createCard(createCardEvent(body, authorizer ? { authorizer } : {}), lambdaContext);
  if (result.statusCode !== 201) throw new Error(`create failed: ${result.body}`);
  return parseBody(result);
}

const post = (handler: ApiHandler, cardId: string, suffix: string, options: Parameters<typeof cardEvent>[3] = {}) =>
  handler(cardEvent('POST', cardId, suffix, options), lambdaContext);

beforeEach(() => {
  table = new FakeTable(ddb);
});

describe('GET /v1/cards/{id}', () => {
  it('returns the card as it was issued', async () => {
    const card = await issue({ mode: 'B2B', nickname: 'Ops' });
    const result = await getCard(cardEvent('GET', card.id), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(parseBody(result)).toEqual(card);
  });

  it('is 404 card_not_found for another business\'s card, a missing card and a malformed id', async () => {
    const card = await issue();
    for (const [id, authorizer] of [[card.id, other], [MISSING_CARD_ID, undefined], ['../CARD', undefined]] as const) {
      const result = await getCard(cardEvent('GET', id, '', authorizer ? { authorizer } : {}), lambdaContext);
      expect(result.statusCode, id).toBe(404);
      expect(parseBody(result).error.code).toBe('card_not_found');
    }
  });
});

describe('GET /v1/cards', () => {
  it('lists the business\'s cards newest first, in pages joined by a cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await issue()).id);
    await issue({ mode: 'B2B' }, other);
    const first = parseBody(await listCards(listCardsEvent({ limit: '2' }), lambdaContext));
    expect(first.data.map((c: { id: string }) => c.id)).toEqual([ids[4], ids[3]]);
    const second = parseBody(await listCards(listCardsEvent({ limit: '2', cursor: first.next_cursor }), lambdaContext));
    expect(second.data.map((c: { id: string }) => c.id)).toEqual([ids[2], ids[1]]);
    const third = parseBody(await listCards(listCardsEvent({ limit: '2', cursor: second.next_cursor }), lambdaContext));
    expect(third.data.map((c: { id: string }) => c.id)).toEqual([ids[0]]);
    expect(third.next_cursor).toBeNull();
  });

  it('defaults to 20 per page and ends without a dangling cursor', async () => {
    for (let i = 0; i < 3; i++) await issue();
    const page = parseBody(await listCards(listCardsEvent(), lambdaContext));
    expect(page.data).toHaveLength(3);
    expect(page.next_cursor).toBeNull();
  });

  it('filters by status, filling the page past cards of other statuses', async () => {
    const locked: string[] = [];
    for (let i = 0; i < 6; i++) {
      const card = await issue();
      if (i % 3 === 0) {
        await post(lockCard, card.id, '/lock');
        locked.push(card.id);
      }
    }
    const page = parseBody(await listCards(listCardsEvent({ status: 'Locked', limit: '2' }), lambdaContext));
    expect(page.data.map((c: { id: string }) => c.id)).toEqual([locked[1], locked[0]]);
    expect(page.data.every((c: { status: string }) => c.status === 'Locked')).toBe(true);
    const active = parseBody(await listCards(listCardsEvent({ status: 'Active' }), lambdaContext));
    expect(active.data).toHaveLength(4);
  });

  it('filters by user; a user of another business, or no user id at all, is 404 user_not_found', async () => {
    table.put(userItem('Active'));
    const mine = await issue({ mode: 'B2C', p_user_id: USER_ID });
    await issue();
    const page = parseBody(await listCards(listCardsEvent({ p_user_id: USER_ID }), lambdaContext));
    expect(page.data.map((c: { id: string }) => c.id)).toEqual([mine.id]);
    for (const [userId, authorizer] of [[USER_ID, other], ['not-a-user-id', undefined]] as const) {
      const refused = await listCards(listCardsEvent({ p_user_id: userId }, authorizer), lambdaContext);
      expect(refused.statusCode).toBe(404);
      expect(parseBody(refused).error.code).toBe('user_not_found');
    }
  });

  it('refuses a cursor from another list, another filter or another business', async () => {
    table.put(userItem('Active'));
    for (let i = 0; i < 3; i++) await issue();
    const { next_cursor: cursor } = parseBody(await listCards(listCardsEvent({ limit: '1' }), lambdaContext));
    for (const [query, authorizer] of [
      [{ status: 'Active', cursor }, undefined],
      [{ p_user_id: USER_ID, cursor }, undefined],
      [{ cursor }, other],
    ] as const) {
      const result = await listCards(listCardsEvent(query, authorizer), lambdaContext);
      expect(result.statusCode).toBe(400);
      expect(parseBody(result).error.code).toBe('invalid_cursor');
    }
  });

  it('is 400 with fields for a bad limit or status', async () => {
    const result = await listCards(listCardsEvent({ limit: '101', status: 'Frozen' }), lambdaContext);
    expect(result.statusCode).toBe(400);
    expect(parseBody(result).error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['limit', 'status']);
  });
});

describe('lock, unlock and terminate', () => {
  it('lock makes an Active card Locked and unlock makes it Active again, each returning the card', async () => {
    const card = await issue();
    const locked = await post(lockCard, card.id, '/lock');
    expect(locked.statusCode).toBe(200);
    expect(parseBody(locked)).toMatchObject({ id: card.id, status: 'Locked' });
    expect(parseBody(locked).p_updated_at > card.p_updated_at).toBe(true);
    const unlocked = await post(unlockCard, card.id, '/unlock');
    expect(parseBody(unlocked)).toMatchObject({ id: card.id, status: 'Active' });
    expect(parseBody(await getCard(cardEvent('GET', card.id), lambdaContext)).status).toBe('Active');
  });

  it('refuses the transitions API.md forbids with their 409 codes', async () => {
    const card = await issue();
    expect(parseBody(await post(unlockCard, card.id, '/unlock')).error.code).toBe('card_not_locked');
    await post(lockCard, card.id, '/lock');
    const again = await post(lockCard, card.id, '/lock');
    expect(again.statusCode).toBe(409);
    expect(parseBody(again).error.code).toBe('card_already_locked');
  });

  it('terminate is permanent, from Active or Locked', async () => {
    const active = await issue();
    const locked = await issue();
    await post(lockCard, locked.id, '/lock');
    for (const card of [active, locked]) {
      const result = await post(terminateCard, card.id, '/terminate');
      expect(result.statusCode).toBe(200);
      expect(parseBody(result).status).toBe('Terminated');
      for (const [handler, suffix] of [[lockCard, '/lock'], [unlockCard, '/unlock'], [terminateCard, '/terminate']] as const) {
        const refused = await post(handler, card.id, suffix);
        expect(refused.statusCode).toBe(409);
        expect(parseBody(refused).error.code).toBe('card_terminated');
      }
    }
  });

  it('records who changed the status and when, on the card and in its audit trail, in one transaction', async () => {
    const card = await issue();
    const keyId = '0190a3c4-0000-7000-8000-0000000000cc';
    const locked = parseBody(await post(lockCard, card.id, '/lock', { authorizer: businessAuthorizer(TEST_BUSINESS_ID, keyId) }));
    const stored = table.get({ PK: `CARD#${card.id}`, SK: 'CARD' })!;
    expect(stored).toMatchObject({ status: 'Locked', statusChangedBy: keyId, statusChangedAt: locked.p_updated_at, version: 2 });
    const transaction = ddb.commandCalls(TransactWriteCommand).at(-1)!.args[0].input.TransactItems!;
    expect(transaction[0]!.Update).toMatchObject({ ConditionExpression: 'businessId = :businessId AND version = :version' });
    expect(transaction[1]!.Put).toMatchObject({
      Item: { PK: `CARD_AUDIT#${card.id}`, SK: expect.stringMatching(/^AUDIT#/), action: 'lock', keyId, fromStatus: 'Active', toStatus: 'Locked' },
      ConditionExpression: 'attribute_not_exists(PK)',
    });
  });

  it('decides again from the new state when another change commits in between (never a lost update)', async () => {
    const card = await issue();
    // Another request terminates the card between this request's read and its write.
    const stale = table.get({ PK: `CARD#${card.id}`, SK: 'CARD' })!;
    await post(terminateCard, card.id, '/terminate');
    ddb.on(GetCommand).resolvesOnce({ Item: stale }).callsFake((input) => ({ Item: table.get(input.Key) }));
    const result = await post(lockCard, card.id, '/lock');
    expect(result.statusCode).toBe(409);
    expect(parseBody(result).error.code).toBe('card_terminated');
    expect(table.get({ PK: `CARD#${card.id}`, SK: 'CARD' })!.status).toBe('Terminated');
  });

  it('is 404 card_not_found for another business\'s card, leaving it unchanged', async () => {
    const card = await issue();
    for (const [handler, suffix] of [[lockCard, '/lock'], [unlockCard, '/unlock'], [terminateCard, '/terminate']] as const) {
      const result = await post(handler, card.id, suffix, { authorizer: other });
      expect(result.statusCode).toBe(404);
      expect(parseBody(result).error.code).toBe('card_not_found');
    }
    expect(table.get({ PK: `CARD#${card.id}`, SK: 'CARD' })!.status).toBe('Active');
  });

  it('replays a lock sent twice with the same Idempotency-Key instead of answering 409', async () => {
    const card = await issue();
    const headers = { 'Idempotency-Key': 'lock-1' };
    const first = await post(lockCard, card.id, '/lock', { headers });
    const second = await post(lockCard, card.id, '/lock', { headers });
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(200);
    expect(second.body).toBe(first.body);
  });
});

describe('PUT /v1/cards/{id}/limits', () => {
  const put = (cardId: string, body: unknown, authorizer?: Record<string, string>) =>
    updateLimits(cardEvent('PUT', cardId, '/limits', { body, ...(authorizer ? { authorizer } : {}) }), lambdaContext);
  const limits = { transaction: '50', daily: '200.25', monthly: '0', lifetime: '10000' };

  it('replaces the four rules and returns the card', async () => {
    const card = await issue();
    const result = await put(card.id, limits);
    expect(result.statusCode).toBe(200);
    expect(parseBody(result)).toMatchObject({ id: card.id, limits: { ...limits, daily: '200.25' } });
    expect(table.get({ PK: `CARD#${card.id}`, SK: 'CARD' })!.limits).toEqual({ transaction: 5000n, daily: 20025n, monthly: 0n, lifetime: 1000000n });
  });

  it('works on a Locked card', async () => {
    const card = await issue();
    await post(lockCard, card.id, '/lock');
    expect((await put(card.id, limits)).statusCode).toBe(200);
  });

  it('writes conditionally on the version read', async () => {
    const card = await issue();
    await put(card.id, limits);
    expect(ddb.commandCalls(UpdateCommand).at(-1)!.args[0].input.ConditionExpression).toBe('businessId = :businessId AND version = :version');
  });

  it('is 400 with each bad rule\'s name: missing, negative, JSON numbers, too many decimals for the card currency', async () => {
    const card = await issue({ mode: 'B2B', currency: 'JPY' });
    const shape = await put(card.id, { transaction: 10, daily: '-1' });
    expect(shape.statusCode).toBe(400);
    expect(parseBody(shape).error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['lifetime', 'monthly', 'transaction']);
    const rules = await put(card.id, { transaction: '10.5', daily: '-1', monthly: '0', lifetime: '100' });
    expect(rules.statusCode).toBe(400);
    expect(parseBody(rules).error).toMatchObject({ code: 'validation_error' });
    expect(parseBody(rules).error.fields.map((f: { path: string }) => f.path)).toEqual(['transaction', 'daily']);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('is 409 card_terminated on a terminated card', async () => {
    const card = await issue();
    await post(terminateCard, card.id, '/terminate');
    const result = await put(card.id, limits);
    expect(result.statusCode).toBe(409);
    expect(parseBody(result).error.code).toBe('card_terminated');
  });

  it('is 404 for another business\'s card', async () => {
    const card = await issue();
    expect((await put(card.id, limits, other)).statusCode).toBe(404);
  });
});

describe('GET /v1/cards/{id}/full', () => {
  it('returns the number, expiry and CVV with Cache-Control: no-store', async () => {
    const card = await issue();
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
    const card = await issue();
    const full = parseBody(await revealCard(cardEvent('GET', card.id, '/full'), lambdaContext));
    const audits = table.all().filter((item) => item.entity === 'card_audit_event');
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ PK: `CARD_AUDIT#${card.id}`, cardId: card.id, businessId: TEST_BUSINESS_ID, keyId: TEST_KEY_ID, action: 'reveal' });
    const auditPut = ddb.commandCalls(PutCommand).find((call) => call.args[0].input.Item?.entity === 'card_audit_event');
    expect(auditPut?.args[0].input.ConditionExpression).toBe('attribute_not_exists(PK)');
    const text = JSON.stringify(audits[0]);
    for (const value of [full.card_number, full.cvv, `"${full.expiry_year}"`]) expect(text).not.toContain(value);
  });

  it('reveals nothing when the audit event cannot be written', async () => {
    const card = await issue();
    ddb.on(PutCommand).rejects(new Error('DynamoDB is down'));
    const result = await revealCard(cardEvent('GET', card.id, '/full'), lambdaContext);
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toMatch(/card_number|cvv|\d{16}/);
  });

  it('is 409 card_terminated for a terminated card, and 404 for another business\'s card', async () => {
    const card = await issue();
    const theirs = await revealCard(cardEvent('GET', card.id, '/full', { authorizer: other }), lambdaContext);
    expect(theirs.statusCode).toBe(404);
    await post(terminateCard, card.id, '/terminate');
    const result = await revealCard(cardEvent('GET', card.id, '/full'), lambdaContext);
    expect(result.statusCode).toBe(409);
    expect(parseBody(result).error.code).toBe('card_terminated');
    expect(table.all().filter((item) => item.action === 'reveal')).toHaveLength(0);
  });

  it('refuses a ciphertext moved onto another card (the encryption context binds it)', async () => {
    const victim = await issue();
    const attacker = await issue();
    const victimItem = table.get({ PK: `CARD#${victim.id}`, SK: 'CARD' })!;
    table.put({ ...table.get({ PK: `CARD#${attacker.id}`, SK: 'CARD' })!, secrets: victimItem.secrets });
    const result = await revealCard(cardEvent('GET', attacker.id, '/full'), lambdaContext);
    expect(result.statusCode).toBe(500);
  });
});

describe('GET /v1/cards/{id}/audit-events', () => {
  it('lists reveals and status changes, newest first, with who did them', async () => {
    const card = await issue();
    await revealCard(cardEvent('GET', card.id, '/full'), lambdaContext);
    await post(lockCard, card.id, '/lock');
    await post(unlockCard, card.id, '/unlock');
    const result = await listAuditEvents(cardEvent('GET', card.id, '/audit-events'), lambdaContext);
    expect(result.statusCode).toBe(200);
    const { data, next_cursor } = parseBody(result);
    expect(next_cursor).toBeNull();
    expect(data.map((e: { action: string }) => e.action)).toEqual(['unlock', 'lock', 'reveal']);
    expect(data[0]).toEqual({
      id: expect.any(String),
      p_card_id: card.id,
      p_business_id: TEST_BUSINESS_ID,
      key_id: TEST_KEY_ID,
      action: 'unlock',
      from_status: 'Locked',
      to_status: 'Active',
      p_created_at: expect.stringMatching(/Z$/),
    });
    expect(data[2]).toMatchObject({ action: 'reveal', from_status: null, to_status: null });
  });

  it('pages with a cursor bound to the card', async () => {
    const card = await issue();
    const otherCard = await issue();
    for (let i = 0; i < 3; i++) await revealCard(cardEvent('GET', card.id, '/full'), lambdaContext);
    const first = parseBody(await listAuditEvents(cardEvent('GET', card.id, '/audit-events', { query: { limit: '2' } }), lambdaContext));
    expect(first.data).toHaveLength(2);
    const second = parseBody(await listAuditEvents(cardEvent('GET', card.id, '/audit-events', { query: { limit: '2', cursor: first.next_cursor } }), lambdaContext));
    expect(second.data).toHaveLength(1);
    expect(second.next_cursor).toBeNull();
    const elsewhere = await listAuditEvents(cardEvent('GET', otherCard.id, '/audit-events', { query: { cursor: first.next_cursor } }), lambdaContext);
    expect(parseBody(elsewhere).error.code).toBe('invalid_cursor');
  });

  it('is 404 for another business\'s card', async () => {
    const card = await issue();
    const result = await listAuditEvents(cardEvent('GET', card.id, '/audit-events', { authorizer: other }), lambdaContext);
    expect(result.statusCode).toBe(404);
  });
});

describe('a failed write', () => {
  it('of a lifecycle change surfaces as a 500 and leaves the card as it was', async () => {
    const card = await issue();
    ddb.on(TransactWriteCommand).rejects(new Error('socket hang up'));
    const result = await post(lockCard, card.id, '/lock');
    expect(result.statusCode).toBe(500);
    expect(table.get({ PK: `CARD#${card.id}`, SK: 'CARD' })!.status).toBe('Active');
  });
});
