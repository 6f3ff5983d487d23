/**
 * Cards over HTTP against the local stack, the way a partner calls them.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { isJcbCardNumber } from '../../shared/domain/card-number.ts';
import { api, createBusiness, localStack } from '../support/stack.ts';

type Client = ReturnType<typeof api>;

const MISSING_ID = '0190a3c4-0000-7000-8000-00000000dead';
const SHIPPING = { line1: '1 Queen\'s Road Central', city: 'Hong Kong', postal_code: '999077', country: 'HK' };

function ekyc() {
  return {
    first_name: 'Siu Ming',
    last_name: 'Wong',
    date_of_birth: '1988-02-29',
    nationality: 'HK',
    id_type: 'national_id',
    id_number: `A${Math.floor(1_000_000 + Math.random() * 8_999_999)}`,
    email: `siuming.${randomUUID()}@example.com`,
    phone: '+85261234567',
    address: { line1: '2 Nathan Road', city: 'Kowloon', country: 'HK' },
  };
}

const fieldPaths = (body: any): string[] => body.error.fields.map((f: { path: string }) => f.path).sort();

describe('cards API', () => {
  let client: Client;
  let businessId: string;
  let other: Client;

  beforeAll(async () => {
    const stack = localStack();
    client = api(stack.apiKey);
    businessId = stack.businessId;
    other = api((await createBusiness(`cards-other-${randomUUID()}`)).api_key);
  });

  async function issue(body: Record<string, unknown> = { mode: 'B2B' }, caller: Client = client) {
    const created = await caller.post('/v1/cards', body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body;
  }

  async function activeUser(caller: Client = client): Promise<string> {
    const created = await caller.post('/v1/users', { ekyc: ekyc() });
    expect(created.status).toBe(201);
    return created.body.p_user_id;
  }

  describe('POST /v1/cards', () => {
    it('issues a virtual B2B card in USD with limits off, showing only the masked number', async () => {
      const created = await client.post('/v1/cards', { mode: 'B2B' });
      expect(created.status).toBe(201);
      expect(created.headers.get('x-request-id')).toBeTruthy();
      expect(created.body).toEqual({
        id: created.body.id,
        p_business_id: businessId,
        mode: 'B2B',
        p_user_id: null,
        form: 'virtual',
        status: 'Active',
        currency: 'USD',
        card_num: expect.stringMatching(/^356772\*{6}\d{4}$/),
        last4: created.body.card_num.slice(-4),
        limits: { transaction: '0', daily: '0', monthly: '0', lifetime: '0' },
        controls: { allowed_mccs: [], blocked_mccs: [], allowed_countries: [], blocked_countries: [], max_daily_count: 0 },
        nickname: null,
        p_created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
        p_updated_at: created.body.p_created_at,
      });
      expect(JSON.stringify(created.body)).not.toMatch(/cvv|expiry|card_number/);
    });

    it('issues a physical B2C card to an Active user, in the requested currency and limits', async () => {
      const userId = await activeUser();
      const card = await issue({
        mode: 'B2C',
        p_user_id: userId,
        form: 'physical',
        shipping: SHIPPING,
        currency: 'HKD',
        limits: { transaction: '500', daily: '1000.50' },
        nickname: 'Groceries',
      });
      expect(card).toMatchObject({
        mode: 'B2C',
        p_user_id: userId,
        form: 'physical',
        currency: 'HKD',
        limits: { transaction: '500', daily: '1000.5', monthly: '0', lifetime: '0' },
        nickname: 'Groceries',
      });
      expect(JSON.stringify(card)).not.toContain('Queen');
    });

    it('refuses a B2C card for a Suspended user (409) and for another business\'s user (404)', async () => {
      const suspended = await activeUser();
      expect((await client.patch(`/v1/users/${suspended}`, { status: 'Suspended' })).status).toBe(200);
      const refused = await client.post('/v1/cards', { mode: 'B2C', p_user_id: suspended });
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('user_not_active');

      const theirs = await activeUser(other);
      for (const userId of [theirs, MISSING_ID]) {
        const result = await client.post('/v1/cards', { mode: 'B2C', p_user_id: userId });
        expect(result.status).toBe(404);
        expect(result.body.error.code).toBe('user_not_found');
      }
    });

    it('answers 400 validation_error with every bad field', async () => {
      const cases: [unknown, string[]][] = [
        [{}, ['mode']],
        [{ mode: 'B2C' }, ['p_user_id']],
        [{ mode: 'B2B', p_user_id: MISSING_ID }, ['p_user_id']],
        [{ mode: 'B2B', form: 'physical' }, ['shipping']],
        [{ mode: 'B2B', shipping: SHIPPING }, ['shipping']],
        [{ mode: 'B2B', currency: 'BTC' }, ['currency']],
        [{ mode: 'B2B', currency: 'JPY', limits: { daily: '1.5', monthly: '-3', lifetime: 10 } }, ['limits.daily', 'limits.lifetime', 'limits.monthly']],
        [{ mode: 'B2B', nickname: 'n'.repeat(65) }, ['nickname']],
      ];
      for (const [body, paths] of cases) {
        const result = await client.post('/v1/cards', body);
        expect(result.status, JSON.stringify(body)).toBe(400);
        expect(result.body.error.code).toBe('validation_error');
        expect(fieldPaths(result.body), JSON.stringify(body)).toEqual(paths);
      }
    });

    it('replays the first response for the same Idempotency-Key, issuing one card', async () => {
      const key = randomUUID();
      const first = await client.post('/v1/cards', { mode: 'B2B', nickname: key.slice(0, 8) }, { 'Idempotency-Key': key });
      const second = await client.post('/v1/cards', { mode: 'B2B', nickname: key.slice(0, 8) }, { 'Idempotency-Key': key });
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.body).toEqual(first.body);
      const reused = await client.post('/v1/cards', { mode: 'B2B', currency: 'EUR' }, { 'Idempotency-Key': key });
      expect(reused.status).toBe(422);
    });

    it('keeps a refusal as the key\'s answer: replayed after the user is reactivated, while a new key issues the card', async () => {
      const userId = await activeUser();
      expect((await client.patch(`/v1/users/${userId}`, { status: 'Suspended' })).status).toBe(200);
      const key = randomUUID();
      const refused = await client.post('/v1/cards', { mode: 'B2C', p_user_id: userId }, { 'Idempotency-Key': key });
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('user_not_active');

      expect((await client.patch(`/v1/users/${userId}`, { status: 'Active' })).status).toBe(200);
      const replay = await client.post('/v1/cards', { mode: 'B2C', p_user_id: userId }, { 'Idempotency-Key': key });
      expect(replay.status).toBe(409);
      expect(replay.text).toBe(refused.text);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect((await client.get(`/v1/cards?p_user_id=${userId}`)).body.data).toEqual([]);

      const issued = await client.post('/v1/cards', { mode: 'B2C', p_user_id: userId }, { 'Idempotency-Key': randomUUID() });
      expect(issued.status).toBe(201);
      expect((await client.get(`/v1/cards?p_user_id=${userId}`)).body.data.map((c: { id: string }) => c.id)).toEqual([issued.body.id]);
    });

    it('scopes an Idempotency-Key to the caller\'s business: another business\'s same key issues its own card', async () => {
      const headers = { 'Idempotency-Key': randomUUID() };
      const mine = await client.post('/v1/cards', { mode: 'B2B' }, headers);
      const theirs = await other.post('/v1/cards', { mode: 'B2B' }, headers);
      expect(mine.status).toBe(201);
      expect(theirs.status).toBe(201);
      expect(theirs.headers.get('idempotent-replayed')).toBeNull();
      expect(theirs.body.id).not.toBe(mine.body.id);
      expect(theirs.body.p_business_id).not.toBe(businessId);
      expect((await other.get(`/v1/cards/${theirs.body.id}`)).status).toBe(200);
    });

    it('gives every card its own valid number', async () => {
      const numbers = new Set<string>();
      for (let i = 0; i < 10; i++) {
        const card = await issue();
        const full = await client.get(`/v1/cards/${card.id}/full`);
        expect(isJcbCardNumber(full.body.card_number)).toBe(true);
        numbers.add(full.body.card_number);
      }
      expect(numbers.size).toBe(10);
    });
  });

  describe('GET /v1/cards/{id}', () => {
    it('returns the card; another business gets 404 card_not_found', async () => {
      const card = await issue();
      const fetched = await client.get(`/v1/cards/${card.id}`);
      expect(fetched.status).toBe(200);
      expect(fetched.body).toEqual(card);
      for (const [caller, id] of [[other, card.id], [client, MISSING_ID], [client, 'not-a-card']] as const) {
        const result = await caller.get(`/v1/cards/${id}`);
        expect(result.status, id).toBe(404);
        expect(result.body.error.code).toBe('card_not_found');
      }
    });
  });

  describe('GET /v1/cards/{id}/full and its audit trail', () => {
    it('reveals number, expiry and CVV with Cache-Control: no-store, and records who looked', async () => {
      const card = await issue();
      const full = await client.get(`/v1/cards/${card.id}/full`);
      expect(full.status).toBe(200);
      expect(full.headers.get('cache-control')).toBe('no-store');
      expect(full.body).toEqual({
        id: card.id,
        card_number: expect.stringMatching(/^356772\d{10}$/),
        expiry_month: expect.stringMatching(/^(0[1-9]|1[0-2])$/),
        expiry_year: String(new Date(card.p_created_at).getUTCFullYear() + 5),
        cvv: expect.stringMatching(/^\d{3}$/),
      });
      expect(full.body.card_number.slice(-4)).toBe(card.last4);
      expect(isJcbCardNumber(full.body.card_number)).toBe(true);

      const audit = await client.get(`/v1/cards/${card.id}/audit-events`);
      expect(audit.status).toBe(200);
      expect(audit.body.next_cursor).toBeNull();
      expect(audit.body.data).toEqual([
        {
          id: expect.any(String),
          p_card_id: card.id,
          p_business_id: businessId,
          key_id: expect.any(String),
          action: 'reveal',
          from_status: null,
          to_status: null,
          from_limits: null,
          to_limits: null,
          from_controls: null,
          to_controls: null,
          reveal_origin: null,
          p_created_at: expect.stringMatching(/Z$/),
        },
      ]);
      // No secret in any value; the ids and the time are generated, so they are held to their
      // shape instead (a 3-digit CVV turns up inside a UUID's hex by chance: checking the whole
      // text flaked).
      const [entry] = audit.body.data as Record<string, unknown>[];
      const { id, p_card_id, p_business_id, key_id, p_created_at, ...rest } = entry!;
      for (const uuid of [id, p_card_id, p_business_id, key_id]) expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(p_created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
      const text = JSON.stringify(rest) + JSON.stringify({ ...audit.body, data: undefined });
      for (const value of [full.body.card_number, full.body.cvv, full.body.expiry_year]) expect(text).not.toContain(value);
    });

    it('the trail lists every reveal and status change newest first, in pages', async () => {
      const card = await issue();
      await client.get(`/v1/cards/${card.id}/full`);
      await client.post(`/v1/cards/${card.id}/lock`);
      await client.post(`/v1/cards/${card.id}/unlock`);
      const first = await client.get(`/v1/cards/${card.id}/audit-events?limit=2`);
      expect(first.body.data.map((e: { action: string }) => e.action)).toEqual(['unlock', 'lock']);
      expect(first.body.data[1]).toMatchObject({ from_status: 'Active', to_status: 'Locked' });
      const second = await client.get(`/v1/cards/${card.id}/audit-events?limit=2&cursor=${encodeURIComponent(first.body.next_cursor)}`);
      expect(second.body.data.map((e: { action: string }) => e.action)).toEqual(['reveal']);
      expect(second.body.next_cursor).toBeNull();
    });

    it('another business gets 404 for both, and the card\'s trail shows no access by it', async () => {
      const card = await issue();
      expect((await other.get(`/v1/cards/${card.id}/full`)).status).toBe(404);
      expect((await other.get(`/v1/cards/${card.id}/audit-events`)).status).toBe(404);
      expect((await client.get(`/v1/cards/${card.id}/audit-events`)).body.data).toEqual([]);
    });

    it('a terminated card\'s details are not revealed (409 card_terminated)', async () => {
      const card = await issue();
      await client.post(`/v1/cards/${card.id}/terminate`);
      const result = await client.get(`/v1/cards/${card.id}/full`);
      expect(result.status).toBe(409);
      expect(result.body.error.code).toBe('card_terminated');
    });
  });

  describe('lock, unlock, terminate', () => {
    it('follow the state machine of API.md, each returning the card', async () => {
      const card = await issue();
      const steps: [string, number, string][] = [
        ['unlock', 409, 'card_not_locked'],
        ['lock', 200, 'Locked'],
        ['lock', 409, 'card_already_locked'],
        ['unlock', 200, 'Active'],
        ['lock', 200, 'Locked'],
        ['terminate', 200, 'Terminated'],
        ['unlock', 409, 'card_terminated'],
        ['lock', 409, 'card_terminated'],
        ['terminate', 409, 'card_terminated'],
      ];
      for (const [action, status, outcome] of steps) {
        const result = await client.post(`/v1/cards/${card.id}/${action}`);
        expect(result.status, `${action} -> ${outcome}`).toBe(status);
        if (status === 200) expect(result.body).toMatchObject({ id: card.id, status: outcome });
        else expect(result.body.error.code).toBe(outcome);
      }
      expect((await client.get(`/v1/cards/${card.id}`)).body.status).toBe('Terminated');
    });

    it('terminates an Active card directly', async () => {
      const card = await issue();
      expect((await client.post(`/v1/cards/${card.id}/terminate`)).body.status).toBe('Terminated');
    });

    it('another business gets 404 and changes nothing', async () => {
      const card = await issue();
      for (const action of ['lock', 'unlock', 'terminate']) {
        const result = await other.post(`/v1/cards/${card.id}/${action}`);
        expect(result.status).toBe(404);
        expect(result.body.error.code).toBe('card_not_found');
      }
      expect((await client.get(`/v1/cards/${card.id}`)).body.status).toBe('Active');
    });

    it('replays a lock sent twice with the same Idempotency-Key instead of answering 409, locking once', async () => {
      const card = await issue();
      const headers = { 'Idempotency-Key': randomUUID() };
      const first = await client.post(`/v1/cards/${card.id}/lock`, undefined, headers);
      const second = await client.post(`/v1/cards/${card.id}/lock`, undefined, headers);
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(second.text).toBe(first.text);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      const audit = await client.get(`/v1/cards/${card.id}/audit-events`);
      expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual(['lock']);
    });

    it('of concurrent locks exactly one succeeds', async () => {
      const card = await issue();
      const results = await Promise.all(Array.from({ length: 5 }, () => client.post(`/v1/cards/${card.id}/lock`)));
      expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409]);
      const audit = await client.get(`/v1/cards/${card.id}/audit-events`);
      expect(audit.body.data.filter((e: { action: string }) => e.action === 'lock')).toHaveLength(1);
    });
  });

  describe('PUT /v1/cards/{id}/limits', () => {
    const limits = { transaction: '100', daily: '250.75', monthly: '0', lifetime: '10000' };

    it('replaces the limits and returns the card', async () => {
      const card = await issue();
      const result = await client.put(`/v1/cards/${card.id}/limits`, limits);
      expect(result.status).toBe(200);
      expect(result.body).toMatchObject({ id: card.id, limits });
      expect((await client.get(`/v1/cards/${card.id}`)).body.limits).toEqual(limits);
    });

    it('answers 400 naming each bad rule, in the card currency\'s precision', async () => {
      const card = await issue({ mode: 'B2B', currency: 'JPY' });
      const result = await client.put(`/v1/cards/${card.id}/limits`, { transaction: '100.5', daily: '-1', monthly: '0', lifetime: '1e6' });
      expect(result.status).toBe(400);
      expect(result.body.error.code).toBe('validation_error');
      expect(fieldPaths(result.body)).toEqual(['daily', 'lifetime', 'transaction']);
      const missing = await client.put(`/v1/cards/${card.id}/limits`, { daily: 5 });
      expect(fieldPaths(missing.body)).toEqual(['daily', 'lifetime', 'monthly', 'transaction']);
    });

    it('answers 409 card_terminated for a terminated card and 404 for another business', async () => {
      const card = await issue();
      expect((await other.put(`/v1/cards/${card.id}/limits`, limits)).status).toBe(404);
      await client.post(`/v1/cards/${card.id}/terminate`);
      const result = await client.put(`/v1/cards/${card.id}/limits`, limits);
      expect(result.status).toBe(409);
      expect(result.body.error.code).toBe('card_terminated');
    });
  });

  describe('GET /v1/cards', () => {
    let lister: Client;
    let userId: string;
    const ids: string[] = [];

    beforeAll(async () => {
      lister = api((await createBusiness(`cards-list-${randomUUID()}`)).api_key);
      userId = await activeUser(lister);
      for (let i = 0; i < 5; i++) ids.push((await issue({ mode: 'B2B' }, lister)).id);
      ids.push((await issue({ mode: 'B2C', p_user_id: userId }, lister)).id);
      await lister.post(`/v1/cards/${ids[1]}/lock`);
      await lister.post(`/v1/cards/${ids[3]}/lock`);
    });

    async function pages(query: string) {
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: any } = await lister.get(`/v1/cards?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(page.status).toBe(200);
        sizes.push(page.body.data.length);
        seen.push(...page.body.data.map((c: { id: string }) => c.id));
        cursor = page.body.next_cursor;
      } while (cursor);
      return { seen, sizes };
    }

    it('pages through the business\'s cards newest first', async () => {
      const { seen, sizes } = await pages('limit=4');
      expect(seen).toEqual([...ids].reverse());
      expect(sizes).toEqual([4, 2]);
    });

    it('filters by status and by user', async () => {
      expect((await pages('status=Locked&limit=1')).seen).toEqual([ids[3], ids[1]]);
      expect((await pages('status=Active')).seen).toEqual([ids[5], ids[4], ids[2], ids[0]]);
      expect((await pages(`p_user_id=${userId}`)).seen).toEqual([ids[5]]);
      expect((await pages(`p_user_id=${userId}&status=Locked`)).seen).toEqual([]);
    });

    it('never shows another business\'s cards: its user id is 404 user_not_found, as is a filter that is no id', async () => {
      for (const filter of [userId, 'not-a-user', 'a'.repeat(2100)]) {
        const page = await client.get(`/v1/cards?p_user_id=${filter}`);
        expect(page.status).toBe(404);
        expect(page.body.error.code).toBe('user_not_found');
        expect(page.body).not.toHaveProperty('next_cursor');
      }
      const mine = await client.get('/v1/cards?limit=100');
      expect(mine.body.data.some((c: { id: string }) => ids.includes(c.id))).toBe(false);
    });

    it('answers 400 for a bad limit, status or cursor, and for a parameter it does not know', async () => {
      const bad = await lister.get('/v1/cards?limit=0&status=Frozen');
      expect(bad.status).toBe(400);
      expect(fieldPaths(bad.body)).toEqual(['limit', 'status']);
      const typo = await lister.get(`/v1/cards?p_userid=${userId}`);
      expect(typo.status).toBe(400);
      expect(typo.body.error.code).toBe('validation_error');
      expect(fieldPaths(typo.body)).toEqual(['p_userid']);
      const { body } = await lister.get('/v1/cards?limit=1');
      const foreign = await lister.get(`/v1/cards?status=Active&cursor=${encodeURIComponent(body.next_cursor)}`);
      expect(foreign.status).toBe(400);
      expect(foreign.body.error.code).toBe('invalid_cursor');
    });
  });
});
