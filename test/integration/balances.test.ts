/**
 * Balance reads over HTTP. Nothing credits a balance yet in these tests (topups and deposits have
 * their own suites), so a new user and a new business have no balances.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createBusiness } from '../support/stack.ts';

type Client = ReturnType<typeof api>;

describe('balances API', () => {
  let client: Client;
  let other: Client;
  let userId: string;

  beforeAll(async () => {
    const business = await createBusiness(`balances-${randomUUID()}`);
    client = api(business.api_key);
    other = api((await createBusiness(`balances-other-${randomUUID()}`)).api_key);
    const created = await client.post('/v1/users', {
      ekyc: {
        first_name: 'Mei',
        last_name: 'Lin',
        date_of_birth: '1985-11-02',
        nationality: 'SG',
        id_type: 'national_id',
        id_number: 'S1234567D',
        email: `mei.lin.${randomUUID()}@example.com`,
        phone: '+6591234567',
        address: { line1: '10 Anson Road', city: 'Singapore', postal_code: '079903', country: 'SG' },
      },
    });
    expect(created.status).toBe(201);
    userId = created.body.p_user_id;
  });

  it('lists no balances for a user nothing was credited to', async () => {
    const result = await client.get(`/v1/users/${userId}/balances`);
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ data: [] });
  });

  it('answers 404 user_not_found for another business\'s user and for a malformed id', async () => {
    for (const [caller, id] of [
      [other, userId],
      [client, 'nope'],
    ] as const) {
      const result = await caller.get(`/v1/users/${id}/balances`);
      expect(result.status).toBe(404);
      expect(result.body.error.code).toBe('user_not_found');
    }
  });

  it('lists no B2B balances for a business that was never funded', async () => {
    const result = await client.get('/v1/balances');
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ data: [] });
  });
});
