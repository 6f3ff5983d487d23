/**
 * Users over HTTP against the local stack, the way a partner calls them.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createBusiness, localStack, scanAllItems } from '../support/stack.ts';
import { withoutRandomTokens } from '../support/table-exfiltration.ts';

type Client = ReturnType<typeof api>;

function ekyc(overrides: Record<string, unknown> = {}) {
  return {
    first_name: 'Tai Man',
    last_name: 'Ng Chan',
    date_of_birth: '1990-05-17',
    nationality: 'HK',
    id_type: 'passport',
    id_number: `K${Math.floor(10_000_000 + Math.random() * 89_999_999)}`,
    email: `taiman.${randomUUID()}@example.com`,
    phone: '+85291234567',
    address: { line1: '1 Queen\'s Road Central', city: 'Hong Kong', country: 'HK' },
    ...overrides,
  };
}

describe('users API', () => {
  let client: Client;
  let businessId: string;
  let other: { client: Client; businessId: string };

  beforeAll(async () => {
    const stack = localStack();
    client = api(stack.apiKey);
    businessId = stack.businessId;
    const second = await createBusiness(`users-other-${randomUUID()}`);
    other = { client: api(second.api_key), businessId: second.business_id };
  });

  describe('POST /v1/users', () => {
    it('creates an Active user and shows only the masked eKYC', async () => {
      const registered = ekyc({ id_number: 'P12345678' });
      const created = await client.post('/v1/users', { ekyc: registered, external_id: `crm-${randomUUID()}` });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        p_business_id: businessId,
        status: 'Active',
        ekyc: {
          first_name: 'Tai Man',
          last_name: 'Ng Chan',
          nationality: 'HK',
          id_type: 'passport',
          id_number_last4: '5678',
          email: registered.email,
          phone: '+85291234567',
        },
      });
      const text = JSON.stringify(created.body);
      expect(text).not.toContain('P12345678');
      expect(text).not.toContain('1990-05-17');
      expect(text).not.toContain('Queen');
    });

    it('answers null for an absent external_id', async () => {
      const created = await client.post('/v1/users', { ekyc: ekyc() });
      expect(created.status).toBe(201);
      expect(created.body.external_id).toBeNull();
    });

    it('answers 400 validation_error naming the bad fields', async () => {
      const result = await client.post('/v1/users', { ekyc: ekyc({ phone: '9123 4567', nationality: 'XX' }) });
      expect(result.status).toBe(400);
      expect(result.body.error.code).toBe('validation_error');
      expect(result.body.error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['ekyc.nationality', 'ekyc.phone']);
    });

    it('answers 409 external_id_taken for a second user with the same external_id, in that business only', async () => {
      const externalId = `crm-${randomUUID()}`;
      expect((await client.post('/v1/users', { ekyc: ekyc(), external_id: externalId })).status).toBe(201);
      const again = await client.post('/v1/users', { ekyc: ekyc(), external_id: externalId });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('external_id_taken');
      expect((await other.client.post('/v1/users', { ekyc: ekyc(), external_id: externalId })).status).toBe(201);
    });

    it('replays the first response for the same Idempotency-Key and body, creating one user', async () => {
      const key = randomUUID();
      const body = { ekyc: ekyc(), external_id: `crm-${randomUUID()}` };
      const first = await client.post('/v1/users', body, { 'Idempotency-Key': key });
      const second = await client.post('/v1/users', body, { 'Idempotency-Key': key });
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.body).toEqual(first.body);
      const reused = await client.post('/v1/users', { ...body, external_id: `crm-${randomUUID()}` }, { 'Idempotency-Key': key });
      expect(reused.status).toBe(422);
      expect(reused.body.error.code).toBe('idempotency_key_reused');
    });
  });

  describe('GET /v1/users/{p_user_id}', () => {
    it('returns the user as it was created', async () => {
      const created = await client.post('/v1/users', { ekyc: ekyc() });
      const fetched = await client.get(`/v1/users/${created.body.p_user_id}`);
      expect(fetched.status).toBe(200);
      expect(fetched.body).toEqual(created.body);
    });

    it('answers 404 user_not_found for another business\'s user, a missing user and a malformed id', async () => {
      const created = await client.post('/v1/users', { ekyc: ekyc() });
      for (const [caller, id] of [
        [other.client, created.body.p_user_id],
        [client, '0190a3c4-0000-7000-8000-00000000beef'],
        [client, 'not-a-user-id'],
      ] as const) {
        const result = await caller.get(`/v1/users/${id}`);
        expect(result.status, id).toBe(404);
        expect(result.body.error.code).toBe('user_not_found');
      }
    });
  });

  describe('GET /v1/users', () => {
    let lister: Client;
    const createdIds: string[] = [];

    beforeAll(async () => {
      const business = await createBusiness(`users-list-${randomUUID()}`);
      lister = api(business.api_key);
      for (let i = 0; i < 5; i++) {
        const created = await lister.post('/v1/users', { ekyc: ekyc({ first_name: `User ${i}` }) });
        createdIds.push(created.body.p_user_id);
      }
    });

    it('pages through every user, newest first, until next_cursor is null', async () => {
      const seen: string[] = [];
      const pageSizes: number[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
        const page = await lister.get(`/v1/users${query}`);
        expect(page.status).toBe(200);
        pageSizes.push(page.body.data.length);
        seen.push(...page.body.data.map((u: { p_user_id: string }) => u.p_user_id));
        cursor = page.body.next_cursor;
      } while (cursor);
      expect(pageSizes).toEqual([2, 2, 1]);
      expect(seen).toEqual([...createdIds].reverse());
    });

    it('lists only the caller\'s users, with the default limit', async () => {
      const page = await lister.get('/v1/users');
      expect(page.status).toBe(200);
      expect(page.body.data).toHaveLength(5);
      expect(page.body.next_cursor).toBeNull();
      expect(page.body.data[0]).toMatchObject({ p_user_id: createdIds[4], ekyc: { first_name: 'User 4' } });
    });

    it('answers 400 invalid_cursor for an edited cursor and for another business\'s cursor', async () => {
      const { body } = await lister.get('/v1/users?limit=1');
      const cursor: string = body.next_cursor;
      const [payload, mac] = cursor.split('.');
      const edited = `${Buffer.from(JSON.stringify({ PK: 'USER#x', SK: 'PROFILE', GSI1PK: 'x', GSI1SK: 'x' })).toString('base64url')}.${mac}`;
      for (const [caller, bad] of [
        [lister, edited],
        [lister, `${payload}.${mac}A`],
        [other.client, cursor],
      ] as const) {
        const result = await caller.get(`/v1/users?cursor=${encodeURIComponent(bad)}`);
        expect(result.status).toBe(400);
        expect(result.body.error.code).toBe('invalid_cursor');
      }
    });

    it('answers 400 validation_error for a limit outside 1..100', async () => {
      for (const limit of ['0', '101', 'many']) {
        const result = await lister.get(`/v1/users?limit=${limit}`);
        expect(result.status).toBe(400);
        expect(result.body.error).toMatchObject({ code: 'validation_error', fields: [{ path: 'limit' }] });
      }
    });
  });

  describe('PATCH /v1/users/{p_user_id}', () => {
    it('suspends and reactivates a user; repeating a status changes nothing', async () => {
      const created = await client.post('/v1/users', { ekyc: ekyc() });
      const id = created.body.p_user_id;

      const suspended = await client.patch(`/v1/users/${id}`, { status: 'Suspended' });
      expect(suspended.status).toBe(200);
      expect(suspended.body).toMatchObject({ p_user_id: id, status: 'Suspended', ekyc: created.body.ekyc });
      expect(suspended.body.p_updated_at > created.body.p_updated_at).toBe(true);

      const again = await client.patch(`/v1/users/${id}`, { status: 'Suspended' });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(suspended.body);
      expect((await client.get(`/v1/users/${id}`)).body.status).toBe('Suspended');

      const reactivated = await client.patch(`/v1/users/${id}`, { status: 'Active' });
      expect(reactivated.status).toBe(200);
      expect(reactivated.body.status).toBe('Active');
    });

    it('answers 404 for another business\'s user and leaves it unchanged', async () => {
      const created = await client.post('/v1/users', { ekyc: ekyc() });
      const result = await other.client.patch(`/v1/users/${created.body.p_user_id}`, { status: 'Suspended' });
      expect(result.status).toBe(404);
      expect(result.body.error.code).toBe('user_not_found');
      expect((await client.get(`/v1/users/${created.body.p_user_id}`)).body.status).toBe('Active');
    });

    it('answers 400 validation_error for an unknown status', async () => {
      const created = await client.post('/v1/users', { ekyc: ekyc() });
      const result = await client.patch(`/v1/users/${created.body.p_user_id}`, { status: 'Terminated' });
      expect(result.status).toBe(400);
      expect(result.body.error.fields[0].path).toBe('status');
    });
  });

  describe('at rest', () => {
    it('keeps no email, phone, name, id number, birth date or address in the clear in any item', async () => {
      const phone = `+8526${String(Math.floor(Math.random() * 10_000_000)).padStart(7, '0')}`;
      const registered = ekyc({
        first_name: 'Wing Sze',
        last_name: 'Au Yeung',
        id_number: `X${randomUUID().slice(0, 8)}`,
        date_of_birth: '1979-08-21',
        phone,
        address: { line1: '88 Des Voeux Road West', city: 'Sheung Wan', country: 'HK' },
      });
      const created = await client.post('/v1/users', { ekyc: registered, external_id: `crm-${randomUUID()}` });
      expect(created.status).toBe(201);
      await client.patch(`/v1/users/${created.body.p_user_id}`, { status: 'Suspended' });

      const items = await scanAllItems();
      const userItem = items.find((item) => item.PK === `USER#${created.body.p_user_id}`);
      expect(userItem, 'the user item was written').toBeDefined();
      const everything = withoutRandomTokens(JSON.stringify(items));
      for (const secret of [registered.email, registered.id_number, 'Wing Sze', 'Au Yeung', '1979-08-21', 'Des Voeux', phone]) {
        expect(everything, secret).not.toContain(secret);
      }
    });

    it('keeps no eKYC in the clear in an idempotent create\'s stored response either', async () => {
      const registered = ekyc({ first_name: 'Ka Ho', last_name: 'Tsang', id_number: `Z${randomUUID().slice(0, 8)}`, date_of_birth: '1981-01-13', phone: '+85261234987' });
      const created = await client.post('/v1/users', { ekyc: registered }, { 'Idempotency-Key': randomUUID() });
      expect(created.status).toBe(201);
      const scanned = JSON.stringify(await scanAllItems());
      expect(scanned).toContain(created.body.p_user_id);
      const everything = withoutRandomTokens(scanned);
      for (const secret of [registered.id_number, '1981-01-13', registered.email, registered.phone, 'Ka Ho', 'Tsang']) {
        expect(everything, secret).not.toContain(secret);
      }
    });
  });
});
