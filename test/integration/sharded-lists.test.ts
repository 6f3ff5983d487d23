/**
 * Business-wide lists are write-sharded (shared/db/keys.ts `LIST_SHARDS`): over HTTP against
 * DynamoDB Local, paging through users, cards (with a sparse status filter), transactions and
 * events gives every item once, in the same order as an unsharded list (newest first), with items
 * written before sharding (in shard 0, the partition without a suffix) among them.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createBusiness, useStackEnvironment, type ApiClient } from '../support/stack.ts';

let partner: ApiClient;

beforeAll(async () => {
  const business = await createBusiness(`Sharded lists ${randomUUID()}`);
  partner = api(business.api_key);
  expect((await partner.post('/v1/simulate/topups', { currency: 'USD', amount: '1000' })).status).toBe(201);
}, 120_000);

/** Every item of a list, page by page, checking each page's size. */
async function pageThrough(path: string, limit: number): Promise<Array<Record<string, any>>> {
  const items: Array<Record<string, any>> = [];
  let cursor: string | null = null;
  for (let page = 0; page < 200; page++) {
    const separator = path.includes('?') ? '&' : '?';
    const response = await partner.get(`${path}${separator}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(response.status, response.text).toBe(200);
    expect(response.body.data.length).toBeLessThanOrEqual(limit);
    items.push(...response.body.data);
    cursor = response.body.next_cursor;
    if (!cursor) return items;
  }
  throw new Error(`${path}: the pages never ended`);
}

const newestFirst = (ids: string[]) => [...ids].sort().reverse();

describe('write-sharded business-wide lists', () => {
  it('page through users and cards once each, newest first, also with a sparse filter', async () => {
    const users: string[] = [];
    for (let i = 0; i < 24; i++) {
      const created = await partner.post('/v1/users', {
        ekyc: {
          first_name: 'Shard', last_name: `User${i}`, date_of_birth: '1990-01-01', nationality: 'HK', id_type: 'passport',
          id_number: `S${1_000_000 + i}`, email: `shard.${randomUUID()}@example.com`, phone: '+85291234567', address: { line1: '1 Shard Road', city: 'Hong Kong', country: 'HK' },
        },
      });
      expect(created.status, created.text).toBe(201);
      users.push(created.body.p_user_id);
    }
    // As a user of an earlier release was listed: in the unsuffixed partition (shard 0).
    useStackEnvironment();
    const { db, tableName } = await import('../../shared/db/client.ts');
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    const businessId = (await partner.get(`/v1/users/${users[5]}`)).body.p_business_id as string;
    await db().send(new UpdateCommand({ TableName: tableName(), Key: { PK: `USER#${users[5]}`, SK: 'PROFILE' }, UpdateExpression: 'SET GSI1PK = :legacy', ExpressionAttributeValues: { ':legacy': `BUSINESS#${businessId}#USERS` } }));

    for (const limit of [1, 5, 100]) {
      expect((await pageThrough('/v1/users', limit)).map((user) => user.p_user_id)).toEqual(newestFirst(users));
    }

    const cards: string[] = [];
    for (let i = 0; i < 20; i++) {
      const created = await partner.post('/v1/cards', { mode: 'B2B' });
      expect(created.status).toBe(201);
      cards.push(created.body.id);
    }
    const locked = cards.filter((_, i) => i % 7 === 3);
    for (const id of locked) expect((await partner.post(`/v1/cards/${id}/lock`)).status).toBe(200);
    expect((await pageThrough('/v1/cards', 3)).map((card) => card.id)).toEqual(newestFirst(cards));
    expect((await pageThrough('/v1/cards?status=Locked', 1)).map((card) => card.id)).toEqual(newestFirst(locked));
  }, 120_000);

  it('page through transactions newest first (time, then id) and events of one type', async () => {
    const card = (await partner.post('/v1/cards', { mode: 'B2B' })).body.id as string;
    const transactions: Array<{ id: string; at: string }> = [];
    for (let i = 0; i < 18; i++) {
      const auth = await partner.post('/v1/simulate/authorizations', { card_id: card, amount: `${i + 1}`, currency: 'USD', merchant_name: 'Shard shop' });
      expect(auth.status, auth.text).toBe(201);
      transactions.push({ id: auth.body.id, at: auth.body.p_created_at });
    }
    const expected = [...transactions].sort((a, b) => (`${a.at}#${a.id}` < `${b.at}#${b.id}` ? 1 : -1)).map((txn) => txn.id);
    expect((await pageThrough('/v1/transactions', 4)).map((txn) => txn.id)).toEqual(expected);
    expect((await pageThrough(`/v1/transactions?card_id=${card}`, 4)).map((txn) => txn.id)).toEqual(expected);

    const events = await pageThrough('/v1/events?type=transaction.authorization', 5);
    const ids = events.map((event) => event.id as string);
    expect(ids).toEqual(newestFirst(ids));
    expect(new Set(ids).size).toBe(ids.length);
    expect(events.map((event) => event.payload.card_transaction.id as string).sort()).toEqual(transactions.map((txn) => txn.id).sort());
  }, 120_000);
});
