/**
 * Spending controls, the spend view and the business's transaction list over HTTP against the
 * local stack, the way a partner calls them: controls that actually decline authorizations, at the
 * card and at the business level, the daily count under concurrency, every change in the card's
 * audit trail, and another business's ids answered 404.
 *
 * Each describe works on a business of its own: the authorization path caches a business's
 * default controls for a short while (services/controls.ts), so a business's defaults are set
 * before its first authorization.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createBusiness, useStackEnvironment, type ApiClient } from '../support/stack.ts';

const NO_CONTROLS = { allowed_mccs: [], blocked_mccs: [], allowed_countries: [], blocked_countries: [], max_daily_count: 0 };

async function partnerOf(name: string): Promise<ApiClient> {
  const business = await createBusiness(`${name} ${randomUUID()}`);
  return api(business.api_key);
}

async function issue(partner: ApiClient, body: Record<string, unknown> = {}) {
  const created = await partner.post('/v1/cards', { mode: 'B2B', ...body });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body as { id: string; controls: unknown };
}

async function topUp(partner: ApiClient, amount = '1000', currency = 'USD') {
  expect((await partner.post('/v1/simulate/topups', { currency, amount })).status).toBe(201);
}

function authorize(partner: ApiClient, cardId: string, merchant: Record<string, string> = {}, amount = '10') {
  return partner.post('/v1/simulate/authorizations', { card_id: cardId, amount, currency: 'USD', merchant_name: 'Shop', ...merchant });
}

async function decision(partner: ApiClient, cardId: string, merchant: Record<string, string> = {}, amount = '10') {
  const response = await authorize(partner, cardId, merchant, amount);
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.status === 'Declined' ? (response.body.decline_reason as string) : 'approved';
}

function ekyc() {
  return {
    first_name: 'Tai Man',
    last_name: 'Chan',
    date_of_birth: '1990-01-01',
    nationality: 'HK',
    id_type: 'passport',
    id_number: `K${Math.floor(1_000_000 + Math.random() * 8_999_999)}`,
    email: `taiman.${randomUUID()}@example.com`,
    phone: '+85291234567',
    address: { line1: '1 Main Street', city: 'Hong Kong', country: 'HK' },
  };
}

describe('card controls', () => {
  let partner: ApiClient;

  beforeAll(async () => {
    partner = await partnerOf('Card controls');
    await topUp(partner);
  });

  it('are taken at creation, shown on the card, and decline by category and country in that order', async () => {
    const card = await issue(partner, { controls: { allowed_mccs: ['5814', '5812'], blocked_countries: ['KP', 'US'] } });
    expect(card.controls).toEqual({ ...NO_CONTROLS, allowed_mccs: ['5812', '5814'], blocked_countries: ['KP', 'US'] });

    expect(await decision(partner, card.id, { mcc: '5814', merchant_country: 'HK' })).toBe('approved');
    expect(await decision(partner, card.id, { mcc: '7995', merchant_country: 'HK' })).toBe('merchant_category_blocked');
    expect(await decision(partner, card.id, { merchant_country: 'HK' })).toBe('merchant_category_blocked'); // no MCC: not in the allow list
    expect(await decision(partner, card.id, { mcc: '5814', merchant_country: 'US' })).toBe('merchant_country_blocked');
    expect(await decision(partner, card.id, { mcc: '7995', merchant_country: 'US' })).toBe('merchant_category_blocked');
  });

  it('come after the card state: a locked card declines card_locked whatever the merchant', async () => {
    const card = await issue(partner, { controls: { blocked_mccs: ['5814'] } });
    expect((await partner.post(`/v1/cards/${card.id}/lock`)).status).toBe(200);
    expect(await decision(partner, card.id, { mcc: '5814' })).toBe('card_locked');
  });

  it('are replaced by PUT /v1/cards/{id}/controls from the next authorization, and every change is in the audit trail', async () => {
    const card = await issue(partner);
    expect(await decision(partner, card.id, { mcc: '7995' })).toBe('approved');

    const put = await partner.put(`/v1/cards/${card.id}/controls`, { blocked_mccs: ['7995'] });
    expect(put.status).toBe(200);
    expect(put.body.controls).toEqual({ ...NO_CONTROLS, blocked_mccs: ['7995'] });
    expect((await partner.get(`/v1/cards/${card.id}`)).body.controls).toEqual({ ...NO_CONTROLS, blocked_mccs: ['7995'] });
    expect(await decision(partner, card.id, { mcc: '7995' })).toBe('merchant_category_blocked');

    const limits = { transaction: '0', daily: '50', monthly: '0', lifetime: '0' };
    expect((await partner.put(`/v1/cards/${card.id}/limits`, limits)).status).toBe(200);
    // A missing field is cleared: the whole set is replaced.
    expect((await partner.put(`/v1/cards/${card.id}/controls`, {})).body.controls).toEqual(NO_CONTROLS);
    expect(await decision(partner, card.id, { mcc: '7995' })).toBe('approved');

    const audit = await partner.get(`/v1/cards/${card.id}/audit-events`);
    expect(audit.status).toBe(200);
    expect(audit.body.data.map((event: { action: string }) => event.action)).toEqual(['controls_update', 'limits_update', 'controls_update']);
    const [cleared, limitsChange, blocked] = audit.body.data;
    expect(cleared).toMatchObject({ from_controls: { ...NO_CONTROLS, blocked_mccs: ['7995'] }, to_controls: NO_CONTROLS, from_limits: null, to_limits: null });
    expect(limitsChange).toMatchObject({ from_limits: { transaction: '0', daily: '0', monthly: '0', lifetime: '0' }, to_limits: limits, from_controls: null });
    expect(blocked).toMatchObject({ from_controls: NO_CONTROLS, to_controls: { ...NO_CONTROLS, blocked_mccs: ['7995'] }, key_id: expect.any(String) });
  });

  it('are validated: 4-digit MCCs, assigned ISO country codes, a non-negative integer count', async () => {
    const card = await issue(partner);
    const bad = await partner.put(`/v1/cards/${card.id}/controls`, { allowed_mccs: ['58'], blocked_countries: ['HK', 'UK'], max_daily_count: 2.5 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields.map((field: { path: string }) => field.path).sort()).toEqual(['allowed_mccs.0', 'blocked_countries.1', 'max_daily_count']);
    const atCreation = await partner.post('/v1/cards', { mode: 'B2B', controls: { blocked_mccs: '5814' } });
    expect(atCreation.status).toBe(400);
    expect(atCreation.body.error.fields.map((field: { path: string }) => field.path)).toEqual(['controls.blocked_mccs']);
  });

  it('cannot be changed on a terminated card (409), nor on another business\'s card (404)', async () => {
    const card = await issue(partner);
    const other = await partnerOf('Card controls, elsewhere');
    const elsewhere = await other.put(`/v1/cards/${card.id}/controls`, { blocked_mccs: ['5814'] });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body.error.code).toBe('card_not_found');
    expect((await partner.post(`/v1/cards/${card.id}/terminate`)).status).toBe(200);
    const terminated = await partner.put(`/v1/cards/${card.id}/controls`, { blocked_mccs: ['5814'] });
    expect(terminated.status).toBe(409);
    expect(terminated.body.error.code).toBe('card_terminated');
    expect((await partner.get(`/v1/cards/${card.id}/audit-events`)).body.data.map((e: { action: string }) => e.action)).toEqual(['terminate']);
  });
});

describe('business controls', () => {
  it('apply to every card on top of its own: both levels must pass', async () => {
    const partner = await partnerOf('Business controls');
    const before = await partner.get('/v1/controls');
    expect(before.status).toBe(200);
    expect(before.body).toEqual({ controls: NO_CONTROLS, p_updated_at: null });

    const put = await partner.put('/v1/controls', { blocked_countries: ['US'], blocked_mccs: ['7995'] });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ controls: { ...NO_CONTROLS, blocked_countries: ['US'], blocked_mccs: ['7995'] }, p_updated_at: expect.any(String) });
    expect((await partner.get('/v1/controls')).body).toEqual(put.body);

    await topUp(partner);
    const card = await issue(partner, { controls: { allowed_mccs: ['5814', '7995'] } });
    expect(await decision(partner, card.id, { mcc: '5814', merchant_country: 'HK' })).toBe('approved');
    expect(await decision(partner, card.id, { mcc: '5814', merchant_country: 'US' })).toBe('merchant_country_blocked');
    // The card allows 7995; the business blocks it.
    expect(await decision(partner, card.id, { mcc: '7995', merchant_country: 'HK' })).toBe('merchant_category_blocked');
    // The business does not block 5411; the card does not allow it.
    expect(await decision(partner, card.id, { mcc: '5411', merchant_country: 'HK' })).toBe('merchant_category_blocked');
  });

  it('are validated, and belong to the business that set them', async () => {
    const partner = await partnerOf('Business controls, validated');
    const bad = await partner.put('/v1/controls', { allowed_countries: ['hk'], max_daily_count: -1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_error');
    expect((await partner.put('/v1/controls', { max_daily_count: 7 })).status).toBe(200);
    const other = await partnerOf('Business controls, other');
    expect((await other.get('/v1/controls')).body.controls).toEqual(NO_CONTROLS);
  });
});

describe('the daily count', () => {
  it('approves exactly max_daily_count of N concurrent authorizations, the rest exceeds_daily_count', async () => {
    const partner = await partnerOf('Daily count');
    await topUp(partner);
    const card = await issue(partner, { controls: { max_daily_count: 3 } });

    const decisions = await Promise.all(Array.from({ length: 10 }, () => decision(partner, card.id, { mcc: '5814' }, '1')));

    expect(decisions.filter((d) => d === 'approved')).toHaveLength(3);
    expect(decisions.filter((d) => d === 'exceeds_daily_count')).toHaveLength(7);
    const spend = await partner.get(`/v1/cards/${card.id}/spend`);
    expect(spend.body.daily_count).toEqual({ limit: 3, used: 3 });
    expect(spend.body.daily.spent).toBe('3');
  });

  it('takes the stricter of the card and the business, and ranks after the amount windows, before the balance', async () => {
    const partner = await partnerOf('Daily count, two levels');
    expect((await partner.put('/v1/controls', { max_daily_count: 2 })).status).toBe(200);
    await topUp(partner, '15');
    const card = await issue(partner, { controls: { max_daily_count: 5 }, limits: { daily: '100' } });
    expect(await decision(partner, card.id, {}, '5')).toBe('approved');
    expect(await decision(partner, card.id, {}, '5')).toBe('approved');
    // Both the count (2 of 2) and the balance (5 left) refuse 20; the count comes first...
    expect(await decision(partner, card.id, {}, '20')).toBe('exceeds_daily_count');
    // ...and the daily limit (10 + 95 > 100) before the count.
    expect(await decision(partner, card.id, {}, '95')).toBe('exceeds_daily_limit');
    expect((await partner.get(`/v1/cards/${card.id}/spend`)).body.daily_count).toEqual({ limit: 2, used: 2 });
  });

  it('is not given back by a reversal (it counts authorizations made), while the amount is', async () => {
    const partner = await partnerOf('Daily count, reversed');
    await topUp(partner);
    const card = await issue(partner, { controls: { max_daily_count: 1 }, limits: { daily: '100' } });
    const first = await authorize(partner, card.id, {}, '40');
    expect(first.body.status).toBe('Authorized');
    expect((await partner.post(`/v1/simulate/authorizations/${first.body.id}/reverse`, {})).status).toBe(200);

    const spend = await partner.get(`/v1/cards/${card.id}/spend`);
    expect(spend.body).toMatchObject({ daily: { limit: '100', spent: '0', remaining: '100' }, daily_count: { limit: 1, used: 1 } });
    expect(await decision(partner, card.id)).toBe('exceeds_daily_count');
  });
});

describe('GET /v1/cards/{id}/spend', () => {
  it('shows each window in the card currency, what remains (null where off) and when the day and month reset', async () => {
    const partner = await partnerOf('Spend view');
    await topUp(partner, '500', 'HKD');
    const card = await issue(partner, { currency: 'HKD', limits: { daily: '100', monthly: '0', lifetime: '1000' } });
    const fresh = await partner.get(`/v1/cards/${card.id}/spend`);
    expect(fresh.status).toBe(200);
    expect(fresh.body).toEqual({
      currency: 'HKD',
      daily: { limit: '100', spent: '0', remaining: '100', resets_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:00:00\.000000Z$/) },
      monthly: { limit: '0', spent: '0', remaining: null, resets_at: expect.stringMatching(/T\d{2}:00:00\.000000Z$/) },
      lifetime: { limit: '1000', spent: '0', remaining: '1000' },
      daily_count: { limit: 0, used: 0 },
    });
    expect(Date.parse(fresh.body.daily.resets_at)).toBeGreaterThan(Date.now());
    expect(Date.parse(fresh.body.daily.resets_at) - Date.now()).toBeLessThanOrEqual(25 * 3600_000);
    expect(Date.parse(fresh.body.monthly.resets_at)).toBeGreaterThanOrEqual(Date.parse(fresh.body.daily.resets_at));

    const auth = await partner.post('/v1/simulate/authorizations', { card_id: card.id, amount: '30.5', currency: 'HKD' });
    expect(auth.body.status).toBe('Authorized');
    await partner.post(`/v1/simulate/authorizations/${auth.body.id}/reverse`, { amount: '10' });

    const after = await partner.get(`/v1/cards/${card.id}/spend`);
    expect(after.body).toMatchObject({
      daily: { spent: '20.5', remaining: '79.5' },
      monthly: { spent: '20.5', remaining: null },
      lifetime: { spent: '20.5', remaining: '979.5' },
      daily_count: { limit: 0, used: 1 },
    });
  });

  it("is 404 for another business's card", async () => {
    const partner = await partnerOf('Spend view, owner');
    const card = await issue(partner);
    const other = await partnerOf('Spend view, other');
    const response = await other.get(`/v1/cards/${card.id}/spend`);
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('card_not_found');
  });
});

describe('GET /v1/transactions', () => {
  let partner: ApiClient;
  let b2b: string;
  let b2c: string;
  let userId: string;
  const ids: string[] = [];

  beforeAll(async () => {
    partner = await partnerOf('Transaction list');
    await topUp(partner, '100');
    b2b = (await issue(partner)).id;
    const user = await partner.post('/v1/users', { ekyc: ekyc() });
    expect(user.status).toBe(201);
    userId = user.body.p_user_id;
    b2c = (await issue(partner, { mode: 'B2C', p_user_id: userId })).id;
    // In order: approved (B2B), declined for balance (the B2C user holds nothing), approved then settled (B2B).
    for (const [cardId, amount] of [[b2b, '1'], [b2c, '2'], [b2b, '3']] as const) {
      const response = await authorize(partner, cardId, {}, amount);
      expect(response.status).toBe(201);
      ids.push(response.body.id);
    }
    expect((await partner.post(`/v1/simulate/authorizations/${ids[2]}/settle`, {})).status).toBe(200);
  });

  it('lists every transaction of the business, newest first, across cards and users', async () => {
    const all = await partner.get('/v1/transactions');
    expect(all.status).toBe(200);
    expect(all.body.data.map((txn: { id: string }) => txn.id)).toEqual([...ids].reverse());
    expect(all.body.data.map((txn: { status: string }) => txn.status)).toEqual(['Settled', 'Declined', 'Authorized']);
    expect(all.body.next_cursor).toBeNull();
  });

  it('filters by card, user, status, type and time', async () => {
    const list = async (query: string) => {
      const response = await partner.get(`/v1/transactions?${query}`);
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return response.body.data.map((txn: { id: string }) => txn.id);
    };
    expect(await list(`card_id=${b2b}`)).toEqual([ids[2], ids[0]]);
    expect(await list(`p_user_id=${userId}`)).toEqual([ids[1]]);
    expect(await list(`card_id=${b2b}&p_user_id=${userId}`)).toEqual([]);
    expect(await list('status=Declined')).toEqual([ids[1]]);
    expect(await list(`status=Authorized&card_id=${b2b}`)).toEqual([ids[0]]);
    expect(await list('type=Sales')).toEqual([...ids].reverse());
    expect(await list('type=Refund')).toEqual([]);
    const second = (await partner.get(`/v1/transactions/${ids[1]}`)).body.p_created_at as string;
    expect(await list(`from=${encodeURIComponent(second)}`)).toEqual([ids[2], ids[1]]);
    expect(await list(`to=${encodeURIComponent(second)}`)).toEqual([ids[1], ids[0]]);
  });

  it('pages with an encrypted cursor that only its own list and filters accept', async () => {
    const first = await partner.get('/v1/transactions?limit=2');
    expect(first.body.data.map((txn: { id: string }) => txn.id)).toEqual([ids[2], ids[1]]);
    const cursor = encodeURIComponent(first.body.next_cursor);
    expect(first.body.next_cursor).not.toMatch(/TXN|BUSINESS/);
    const second = await partner.get(`/v1/transactions?limit=2&cursor=${cursor}`);
    expect(second.body.data.map((txn: { id: string }) => txn.id)).toEqual([ids[0]]);
    expect(second.body.next_cursor).toBeNull();
    const otherFilter = await partner.get(`/v1/transactions?limit=2&status=Settled&cursor=${cursor}`);
    expect(otherFilter.status).toBe(400);
    expect(otherFilter.body.error.code).toBe('invalid_cursor');
  });

  it("is 404 for another business's card or user, 400 for an unknown filter, and lists nothing of another business", async () => {
    const other = await partnerOf('Transaction list, other');
    const card = await other.get(`/v1/transactions?card_id=${b2b}`);
    expect(card.status).toBe(404);
    expect(card.body.error.code).toBe('card_not_found');
    const user = await other.get(`/v1/transactions?p_user_id=${userId}`);
    expect(user.status).toBe(404);
    expect(user.body.error.code).toBe('user_not_found');
    expect((await other.get('/v1/transactions?merchant=Shop')).status).toBe(400);
    expect((await other.get('/v1/transactions')).body.data).toEqual([]);
  });
});

describe('npm run admin -- index-transactions', () => {
  it('lists transactions written before the business and user lists existed, once, safely repeated', async () => {
    const partner = await partnerOf('Transaction list, backfill');
    const user = await partner.post('/v1/users', { ekyc: ekyc() });
    const card = await issue(partner, { mode: 'B2C', p_user_id: user.body.p_user_id });
    const old = await authorize(partner, card.id);
    expect(old.status).toBe(201);

    // As a transaction of the previous release was stored: without the list keys.
    useStackEnvironment();
    const { db, tableName } = await import('../../shared/db/client.ts');
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    await db().send(new UpdateCommand({ TableName: tableName(), Key: { PK: `TXN#${old.body.id}`, SK: 'TXN' }, UpdateExpression: 'REMOVE GSI2PK, GSI2SK, GSI3PK, GSI3SK' }));
    expect((await partner.get('/v1/transactions')).body.data).toEqual([]);

    const { indexOlderTransactions } = await import('../../shared/services/transactions.ts');
    const first = await indexOlderTransactions();
    expect(first.indexed).toBeGreaterThanOrEqual(1);
    expect((await partner.get('/v1/transactions')).body.data.map((txn: { id: string }) => txn.id)).toEqual([old.body.id]);
    expect((await partner.get(`/v1/transactions?p_user_id=${user.body.p_user_id}`)).body.data.map((txn: { id: string }) => txn.id)).toEqual([old.body.id]);
    expect((await partner.get(`/v1/transactions/${old.body.id}`)).body).toEqual(old.body);
    expect((await indexOlderTransactions()).indexed).toBe(0);
  });
});
