/**
 * Platform transfers over HTTP, the way a partner moves money between its users: eKYC-checked,
 * instant, atomic, and every rejection moves nothing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createBusiness, useStackEnvironment, type ApiClient } from '../support/stack.ts';
import { startWebhookReceiver, verifyWith } from '../support/webhook-receiver.ts';

let partner: ApiClient;
let businessId: string;
let other: ApiClient;

beforeAll(async () => {
  const business = await createBusiness(`transfers-${randomUUID()}`);
  partner = api(business.api_key);
  businessId = business.business_id;
  other = api((await createBusiness(`transfers-other-${randomUUID()}`)).api_key);
});

interface Person {
  p_user_id: string;
  first_name: string;
  last_name: string;
  id_number: string;
}

async function register(client: ApiClient = partner, names = { first_name: 'Siu Ming', last_name: 'Wong' }): Promise<Person> {
  const idNumber = `Z${randomBytes(4).readUInt32BE() % 90_000_000 + 10_000_000}`;
  const created = await client.post('/v1/users', {
    ekyc: {
      ...names,
      date_of_birth: '1992-11-03',
      nationality: 'HK',
      id_type: 'passport',
      id_number: idNumber,
      email: `siuming.${randomUUID()}@example.com`,
      phone: '+85298765432',
      address: { line1: '3 Des Voeux Road', city: 'Hong Kong', country: 'HK' },
    },
  });
  expect(created.status).toBe(201);
  return { p_user_id: created.body.p_user_id, ...names, id_number: idNumber };
}

/** Funds a user's USD the way B2C users are funded: a USDT deposit to their TRON address. */
async function fund(person: Person, usd: string, client: ApiClient = partner): Promise<void> {
  const address = await client.post(`/v1/users/${person.p_user_id}/wallet-addresses`, { chain: 'TRON' });
  const deposit = await client.post('/v1/simulate/deposits', {
    chain: 'TRON',
    address: address.body.address,
    asset: 'USDT',
    amount: usd,
    tx_hash: randomBytes(32).toString('hex'),
    log_index: 0,
  });
  expect(deposit.status).toBe(201);
}

async function usd(person: Person, client: ApiClient = partner): Promise<string> {
  const response = await client.get(`/v1/users/${person.p_user_id}/balances`);
  return response.body.data.find((b: { currency: string }) => b.currency === 'USD')?.available ?? '0';
}

function transfer(sender: Person, receiver: Person, amount: string, extra: Record<string, unknown> = {}) {
  return { sender_party: sender, receiver_party: receiver, currency: 'USD', amount, ...extra };
}

describe('POST /v1/transfers', () => {
  it('moves the amount at once and answers Completed; the transfer can be read and listed for both users', async () => {
    const [alice, bob] = [await register(), await register(partner, { first_name: 'Ka Ho', last_name: 'Lee' })];
    await fund(alice, '100');
    // Parties are matched after normalization: case, surrounding and repeated spaces do not matter.
    const stated = { ...alice, first_name: '  SIU   ming ', last_name: 'wong', id_number: alice.id_number.toLowerCase() };
    const done = await partner.post('/v1/transfers', transfer(stated, bob, '35.5', { reference: 'rent share' }));
    expect(done.status).toBe(201);
    expect(done.body).toMatchObject({
      p_business_id: businessId,
      status: 'Completed',
      sender_party: { p_user_id: alice.p_user_id },
      receiver_party: { p_user_id: bob.p_user_id },
      currency: 'USD',
      amount: '35.5',
      reference: 'rent share',
    });
    expect(JSON.stringify(done.body)).not.toContain(alice.id_number);
    expect([await usd(alice), await usd(bob)]).toEqual(['64.5', '35.5']);

    const read = await partner.get(`/v1/transfers/${done.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(done.body);
    for (const person of [alice, bob]) {
      const listed = await partner.get(`/v1/transfers?p_user_id=${person.p_user_id}`);
      expect(listed.status).toBe(200);
      expect(listed.body).toEqual({ data: [done.body], next_cursor: null });
    }
    const all = await partner.get('/v1/transfers?limit=100');
    expect(all.body.data.map((t: { id: string }) => t.id)).toContain(done.body.id);
  });

  it('lets the receiver spend at once, and lists a user\'s transfers newest first with a cursor', async () => {
    const [alice, bob] = [await register(), await register()];
    await fund(alice, '30');
    const ids: string[] = [];
    for (const amount of ['10', '5', '1']) ids.push((await partner.post('/v1/transfers', transfer(alice, bob, amount))).body.id);
    ids.push((await partner.post('/v1/transfers', transfer(bob, alice, '16'))).body.id);
    expect([await usd(alice), await usd(bob)]).toEqual(['30', '0']);

    const first = await partner.get(`/v1/transfers?p_user_id=${bob.p_user_id}&limit=3`);
    expect(first.body.data.map((t: { id: string }) => t.id)).toEqual(ids.slice().reverse().slice(0, 3));
    const rest = await partner.get(`/v1/transfers?p_user_id=${bob.p_user_id}&limit=3&cursor=${encodeURIComponent(first.body.next_cursor)}`);
    expect(rest.body).toEqual({ data: [expect.objectContaining({ id: ids[0] })], next_cursor: null });
    const foreignCursor = await partner.get(`/v1/transfers?p_user_id=${alice.p_user_id}&cursor=${encodeURIComponent(first.body.next_cursor)}`);
    expect(foreignCursor.status).toBe(400);
    expect(foreignCursor.body.error.code).toBe('invalid_cursor');
  });

  it('replays the first response for a repeated Idempotency-Key and moves the money once', async () => {
    const [alice, bob] = [await register(), await register()];
    await fund(alice, '20');
    const key = randomUUID();
    const first = await partner.post('/v1/transfers', transfer(alice, bob, '8'), { 'Idempotency-Key': key });
    const second = await partner.post('/v1/transfers', transfer(alice, bob, '8'), { 'Idempotency-Key': key });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.text).toBe(first.text);
    expect([await usd(alice), await usd(bob)]).toEqual(['12', '8']);
    const reused = await partner.post('/v1/transfers', transfer(alice, bob, '9'), { 'Idempotency-Key': key });
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe('idempotency_key_reused');
  });

  it('replays a refusal for a repeated Idempotency-Key: refused for the balance, it stays refused after the sender is funded', async () => {
    const [alice, bob] = [await register(), await register()];
    const key = randomUUID();
    const refused = await partner.post('/v1/transfers', transfer(alice, bob, '8'), { 'Idempotency-Key': key });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('insufficient_balance');

    await fund(alice, '20');
    const replay = await partner.post('/v1/transfers', transfer(alice, bob, '8'), { 'Idempotency-Key': key });
    expect(replay.status).toBe(422);
    // The first response, byte for byte (its request_id included), and no transfer.
    expect(replay.text).toBe(refused.text);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect([await usd(alice), await usd(bob)]).toEqual(['20', '0']);

    // A new key is a new request, judged on today's balance.
    const fresh = await partner.post('/v1/transfers', transfer(alice, bob, '8'), { 'Idempotency-Key': randomUUID() });
    expect(fresh.status).toBe(201);
  });

  it('succeeds exactly 10 times out of 30 concurrent transfers from a sender who can afford 10', async () => {
    const [alice, bob] = [await register(), await register()];
    await fund(alice, '100');
    const responses = await Promise.all(Array.from({ length: 30 }, () => partner.post('/v1/transfers', transfer(alice, bob, '10'))));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 422)).toHaveLength(20);
    expect(new Set(responses.filter((r) => r.status === 422).map((r) => r.body.error.code))).toEqual(new Set(['insufficient_balance']));
    expect([await usd(alice), await usd(bob)]).toEqual(['0', '100']);
    expect((await partner.get(`/v1/transfers?p_user_id=${alice.p_user_id}&limit=100`)).body.data).toHaveLength(10);
  });
});

describe('the Transfer webhook', () => {
  it('is delivered to the partner, signed, carrying the transfer; a rejected transfer sends none', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const business = await createBusiness(`transfers-webhook-${randomUUID()}`);
      useStackEnvironment();
      const { setWebhookUrl } = await import('../../shared/services/businesses.ts');
      await setWebhookUrl(business.business_id, receiver.url('/transfers'));
      const client = api(business.api_key);
      const [alice, bob] = [await register(client), await register(client)];
      await fund(alice, '5', client);
      expect((await client.post('/v1/transfers', transfer(alice, bob, '6'))).status).toBe(422);
      const done = await client.post('/v1/transfers', transfer(alice, bob, '5'));
      expect(done.status).toBe(201);

      const delivered = await receiver.waitFor('/transfers', (request) => request.body.includes('"Transfer"'));
      expect(verifyWith([business.webhook_secret], delivered)).toEqual({ action: 'Transfer', type: 'transfer.completed', transfer: done.body });
      const events = await client.get('/v1/events');
      expect(events.body.data.filter((event: { type: string }) => event.type === 'transfer.completed')).toHaveLength(1);
    } finally {
      await receiver.stop();
    }
  });
});

describe('rejections: each says why and moves nothing', () => {
  let alice: Person;
  let bob: Person;

  beforeAll(async () => {
    alice = await register();
    bob = await register(partner, { first_name: 'Wing', last_name: 'Cheung' });
    await fund(alice, '50');
  });

  async function expectRejected(body: unknown, status: number, code: string) {
    const response = await partner.post('/v1/transfers', body);
    expect(response.status, JSON.stringify(response.body)).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect(response.body.error.message).toBeTruthy();
    expect([await usd(alice), await usd(bob)]).toEqual(['50', '0']);
    return response;
  }

  it('ekyc_mismatch when the sender\'s or the receiver\'s names or id number differ from the registration', async () => {
    const senderWrong = await expectRejected(transfer({ ...alice, first_name: 'Siu Ling' }, bob, '1'), 422, 'ekyc_mismatch');
    expect(senderWrong.body.error.party).toBe('sender');
    const receiverWrong = await expectRejected(transfer(alice, { ...bob, id_number: `${bob.id_number}9` }, '1'), 422, 'ekyc_mismatch');
    expect(receiverWrong.body.error.party).toBe('receiver');
    await expectRejected(transfer(alice, { ...bob, last_name: 'Cheng' }, '1'), 422, 'ekyc_mismatch');
    // Someone else's identity under the sender's id is a mismatch too.
    await expectRejected(transfer({ ...alice, first_name: bob.first_name, last_name: bob.last_name, id_number: bob.id_number }, bob, '1'), 422, 'ekyc_mismatch');
  });

  it('insufficient_balance when the sender lacks the amount in that currency', async () => {
    await expectRejected(transfer(alice, bob, '50.01'), 422, 'insufficient_balance');
    await expectRejected(transfer(alice, bob, '1', { currency: 'HKD' }), 422, 'insufficient_balance');
  });

  it('user_not_active when either party is suspended', async () => {
    const carol = await register();
    await partner.patch(`/v1/users/${carol.p_user_id}`, { status: 'Suspended' });
    await expectRejected(transfer(alice, carol, '1'), 409, 'user_not_active');
    await expectRejected(transfer(carol, alice, '1'), 409, 'user_not_active');
  });

  it('same_user when the parties are the same user', async () => {
    await expectRejected(transfer(alice, alice, '1'), 422, 'same_user');
  });

  it('404 user_not_found for a user of another business or no user at all', async () => {
    const stranger = await register(other);
    await fund(stranger, '5', other);
    await expectRejected(transfer(alice, stranger, '1'), 404, 'user_not_found');
    await expectRejected(transfer(stranger, alice, '1'), 404, 'user_not_found');
    await expectRejected(transfer(alice, { ...bob, p_user_id: randomUUID() }, '1'), 404, 'user_not_found');
    expect(await usd(stranger, other)).toBe('5');
  });

  it('400 validation_error for a malformed body, naming the fields', async () => {
    const cases: [unknown, string][] = [
      [transfer(alice, bob, '1.001'), 'amount'],
      [transfer(alice, bob, '0'), 'amount'],
      [transfer(alice, bob, '-1'), 'amount'],
      [transfer(alice, bob, '1', { currency: 'USDT' }), 'currency'],
      [{ ...transfer(alice, bob, '1'), sender_party: { p_user_id: alice.p_user_id } }, 'sender_party.first_name'],
    ];
    for (const [body, field] of cases) {
      const response = await expectRejected(body, 400, 'validation_error');
      expect(response.body.error.fields.map((f: { path: string }) => f.path)).toContain(field);
    }
  });

  it('a transfer of another business, or none, is a 404', async () => {
    const done = await partner.post('/v1/transfers', transfer(alice, bob, '1'));
    expect(done.status).toBe(201);
    expect((await other.get(`/v1/transfers/${done.body.id}`)).status).toBe(404);
    expect((await partner.get(`/v1/transfers/${randomUUID()}`)).body.error.code).toBe('transfer_not_found');
    expect((await partner.get('/v1/transfers/not-a-uuid')).status).toBe(404);
    // A filter names a user like a path does: another business's, or no id at all, is 404 user_not_found.
    for (const [client, filter] of [[other, alice.p_user_id], [partner, 'not-a-uuid'], [partner, 'a'.repeat(2100)]] as const) {
      const listed = await client.get(`/v1/transfers?p_user_id=${filter}`);
      expect(listed.status).toBe(404);
      expect(listed.body.error.code).toBe('user_not_found');
    }
    const back = await partner.post('/v1/transfers', transfer(bob, alice, '1'));
    expect(back.status).toBe(201);
  });
});

describe('ledger', () => {
  it('stays clean: every balance equals the replay of its postings', async () => {
    useStackEnvironment();
    const { runLedgerAudit } = await import('../../shared/services/ledger-audit.ts');
    const report = await runLedgerAudit();
    expect(report.postings).toBeGreaterThan(0);
    expect(report.findings).toEqual([]);
  });
});
