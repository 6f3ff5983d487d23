/**
 * 3-D Secure through HTTP: the card network (or a sandbox partner) asks for a challenge, the
 * partner's webhook receiver gets the one-time code, and the network verifies what the cardholder
 * typed. One spec per rule: single use, five wrong codes lock, ten wrong codes per card in 24 hours
 * (however they race), expiry, the code bound to its own verification, no challenge for a locked,
 * terminated or expired card or a suspended user, and the code never at rest in clear.
 */
import { randomUUID } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createBusiness, localStack, scanAllItems, useStackEnvironment, type ApiClient } from '../support/stack.ts';
import { startWebhookReceiver, verifyWith, type WebhookReceiver } from '../support/webhook-receiver.ts';

/** The 3DS OTP body of API.md: exactly these fields. */
const OTP_FIELDS = [
  'type', 'p_business_id', 'card_reference_id', 'verification_id', 'business_name', 'card_num', 'transaction_currency', 'transaction_amount',
  'merchant_id', 'merchant_country', 'merchant_city', 'merchant_name', 'p_created_at', 'otp_code',
];

let receiver: WebhookReceiver;
let partner: ApiClient;
let network: ApiClient;
let business: { business_id: string; api_key: string; webhook_secret: string };
const hookPath = '/3ds';

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  business = await createBusiness('speed pay');
  useStackEnvironment();
  const { setWebhookUrl } = await import('../../shared/services/businesses.ts');
  await setWebhookUrl(business.business_id, receiver.url(hookPath));
  partner = api(business.api_key);
  network = api(localStack().networkKey);
});

afterAll(async () => {
  await receiver?.stop();
});

async function card(): Promise<{ id: string; card_num: string }> {
  const response = await partner.post('/v1/cards', { mode: 'B2B', currency: 'HKD' });
  expect(response.status).toBe(201);
  return response.body;
}

async function challenge(cardId: string, extra: Record<string, string> = {}): Promise<{ verificationId: string; code: string; body: any }> {
  const response = await partner.post('/v1/simulate/3ds', {
    card_id: cardId, amount: '101', currency: 'HKD', merchant_name: 'Tea House', merchant_id: 'mid-7', merchant_country: 'HK', ...extra,
  });
  expect(response.status).toBe(201);
  const verificationId = response.body.verification_id as string;
  const delivery = await receiver.waitFor(hookPath, (request) => JSON.parse(request.body).verification_id === verificationId);
  const body = verifyWith([business.webhook_secret], delivery);
  return { verificationId, code: body.otp_code, body: { ...body, response: response.body } };
}

const verify = (verificationId: string, otpCode: string) => partner.post(`/v1/simulate/3ds/${verificationId}/verify`, { otp_code: otpCode });
const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe('a 3DS challenge', () => {
  it('sends a 6-digit code to the webhook, signed, with exactly the fields of API.md', async () => {
    const c = await card();
    const { verificationId, code, body } = await challenge(c.id, { merchant_city: '' });
    expect(code).toMatch(/^\d{6}$/);
    const { response, ...webhook } = body;
    expect(Object.keys(webhook).sort()).toEqual([...OTP_FIELDS].sort());
    expect(webhook).toEqual({
      type: 'three_ds.otp',
      p_business_id: business.business_id,
      card_reference_id: c.id,
      verification_id: verificationId,
      business_name: 'speed pay',
      card_num: c.card_num,
      transaction_currency: 'HKD',
      transaction_amount: '-101',
      merchant_id: 'mid-7',
      merchant_country: 'HK',
      merchant_city: '',
      merchant_name: 'Tea House',
      p_created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
      otp_code: code,
    });
    // Five minutes from the challenge.
    expect(Date.parse(response.expires_at) - Date.parse(webhook.p_created_at)).toBe(5 * 60 * 1000);
  });

  it('verifies the right code once; using it again is refused', async () => {
    const { verificationId, code } = await challenge((await card()).id);
    const first = await verify(verificationId, code);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ verification_id: verificationId, status: 'Verified', attempts_remaining: 5 });
    const again = await verify(verificationId, code);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('verification_already_used');
  });

  it('answers Failed with the attempts remaining for each wrong code, and Locked at the fifth, even for the right code after', async () => {
    const { verificationId, code } = await challenge((await card()).id);
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push((await verify(verificationId, wrong(code))).body);
    expect(answers.map((a) => [a.status, a.attempts_remaining])).toEqual([
      ['Failed', 4],
      ['Failed', 3],
      ['Failed', 2],
      ['Failed', 1],
      ['Locked', 0],
    ]);
    const right = await verify(verificationId, code);
    expect(right.status).toBe(200);
    expect(right.body).toEqual({ verification_id: verificationId, status: 'Locked', attempts_remaining: 0 });
  });

  it('counts at most five wrong codes when they arrive concurrently', async () => {
    const { verificationId, code } = await challenge((await card()).id);
    const answers = await Promise.all(Array.from({ length: 12 }, () => verify(verificationId, wrong(code))));
    const statuses = answers.map((a) => a.body.status);
    expect(statuses.filter((s) => s === 'Failed')).toHaveLength(4);
    expect(statuses.filter((s) => s === 'Locked')).toHaveLength(8);
    expect((await verify(verificationId, code)).body.status).toBe('Locked');
  });

  it('answers Expired once the five minutes are over, even for the right code, and the OTP is not redelivered', async () => {
    const { verificationId, code } = await challenge((await card()).id);
    // Five minutes pass: the verification's expiry and its event's delivery deadline move into the past.
    useStackEnvironment();
    const { db, tableName } = await import('../../shared/db/client.ts');
    await db().send(
      new UpdateCommand({ TableName: tableName(), Key: { PK: `THREEDS#${verificationId}`, SK: 'THREEDS' }, UpdateExpression: 'SET otpExpiresAtMs = :past', ExpressionAttributeValues: { ':past': Date.now() - 1 } }),
    );
    const answer = await verify(verificationId, code);
    expect(answer.body).toEqual({ verification_id: verificationId, status: 'Expired', attempts_remaining: 5 });
    expect((await verify(verificationId, code)).body.status).toBe('Expired');

    const event = (await partner.get('/v1/events?limit=100')).body.data.find((e: any) => e.payload.verification_id === verificationId);
    expect(event.type).toBe('three_ds.otp');
    await db().send(
      new UpdateCommand({ TableName: tableName(), Key: { PK: `EVENT#${event.id}`, SK: 'EVENT' }, UpdateExpression: 'SET deliverUntil = :past', ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 1 } }),
    );
    const redelivery = await partner.post(`/v1/events/${event.id}/redeliver`);
    expect(redelivery.status).toBe(409);
    expect(redelivery.body.error.code).toBe('event_expired');
  });

  it('binds a code to its own verification: the code of one challenge fails another for the same card and amount', async () => {
    const c = await card();
    const first = await challenge(c.id);
    const second = await challenge(c.id);
    if (first.code === second.code) return; // one chance in a million: nothing to compare
    expect((await verify(second.verificationId, first.code)).body).toMatchObject({ status: 'Failed', attempts_remaining: 4 });
    expect((await verify(second.verificationId, second.code)).body.status).toBe('Verified');
  });

  it.each(['lock', 'terminate'])('is refused for a card after %s (409), and no code is issued', async (action) => {
    const c = await card();
    expect((await partner.post(`/v1/cards/${c.id}/${action}`)).status).toBe(200);
    const response = await partner.post('/v1/simulate/3ds', { card_id: c.id, amount: '10', currency: 'HKD' });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe(action === 'lock' ? 'card_locked' : 'card_terminated');
    // Nothing was committed, so there is no event to deliver.
    const listed = (await partner.get('/v1/events?limit=100')).body.data;
    expect(listed.filter((e: any) => e.payload.card_reference_id === c.id)).toEqual([]);
  });

  it("keeps another business's verification out of reach (404)", async () => {
    const { verificationId, code } = await challenge((await card()).id);
    const other = await createBusiness('Other 3DS business');
    const response = await api(other.api_key).post(`/v1/simulate/3ds/${verificationId}/verify`, { otp_code: code });
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('verification_not_found');
    expect((await verify(verificationId, code)).body.status).toBe('Verified');
  });

  it('stores the code nowhere in clear: only its keyed hash, and sealed inside the event until delivered', async () => {
    const { verificationId, code } = await challenge((await card()).id);
    const items = await scanAllItems();
    const values = (item: unknown): unknown[] =>
      item && typeof item === 'object' ? Object.values(item).flatMap(values) : [item];
    for (const item of items) expect(values(item).map(String), String(item.PK)).not.toContain(code);
    const verification = items.find((item) => item.PK === `THREEDS#${verificationId}`)!;
    expect(verification.otpHash).toEqual(expect.any(String));
    const event = items.find((item) => item.entity === 'event' && String(item.payload).includes(verificationId))!;
    expect(JSON.parse(String(event.payload))).not.toHaveProperty('otp_code');
    expect(event.otpSealed).toEqual(expect.any(String));
    // The partner's listing shows the event without the code.
    const listed = (await partner.get('/v1/events?limit=100')).body.data.find((e: any) => e.payload.verification_id === verificationId);
    expect(listed.payload).not.toHaveProperty('otp_code');
  });
});

describe("a card's budget of wrong codes", () => {
  /** The wrong codes each verification counted, as stored (a Locked one keeps its count). */
  async function counted(verificationIds: string[]): Promise<number[]> {
    useStackEnvironment();
    const { db, tableName } = await import('../../shared/db/client.ts');
    const { GetCommand } = await import('@aws-sdk/lib-dynamodb');
    return Promise.all(
      verificationIds.map(async (id) => {
        const item = (await db().send(new GetCommand({ TableName: tableName(), Key: { PK: `THREEDS#${id}`, SK: 'THREEDS' }, ConsistentRead: true }))).Item!;
        return Number(item.wrongAttempts);
      }),
    );
  }

  it('takes at most 10 wrong codes in 24 hours across all its challenges: then pending ones lock and new ones are refused', async () => {
    const c = await card();
    const [a, b, c3] = [await challenge(c.id), await challenge(c.id), await challenge(c.id)];
    const statuses = async (v: { verificationId: string; code: string }, times: number) => {
      const answers = [];
      for (let i = 0; i < times; i++) answers.push((await verify(v.verificationId, wrong(v.code))).body);
      return answers.map((answer) => `${answer.status} ${answer.attempts_remaining}`);
    };
    expect(await statuses(a, 4)).toEqual(['Failed 4', 'Failed 3', 'Failed 2', 'Failed 1']);
    expect(await statuses(b, 4)).toEqual(['Failed 4', 'Failed 3', 'Failed 2', 'Failed 1']);
    expect(await statuses(c3, 2)).toEqual(['Failed 4', 'Failed 3']);

    // The 11th wrong code, whichever challenge it is for, is not checked: the verification locks.
    expect(await statuses(a, 1)).toEqual(['Locked 0']);
    expect(await statuses(b, 1)).toEqual(['Locked 0']);
    // So does the right code of a pending challenge of the card.
    expect((await verify(c3.verificationId, c3.code)).body).toEqual({ verification_id: c3.verificationId, status: 'Locked', attempts_remaining: 0 });
    expect(await counted([a.verificationId, b.verificationId, c3.verificationId])).toEqual([4, 4, 2]);

    const refused = await partner.post('/v1/simulate/3ds', { card_id: c.id, amount: '10', currency: 'HKD' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('otp_attempts_exhausted');
    const full = await partner.get(`/v1/cards/${c.id}/full`);
    const byNetwork = await network.post('/network/3ds/challenges', { card_number: full.body.card_number, amount: '10', currency: 'HKD' });
    expect(byNetwork.status).toBe(409);
    expect(byNetwork.body.error.code).toBe('otp_attempts_exhausted');

    // Another card of the same business keeps its own budget.
    const other = await challenge((await card()).id);
    expect((await verify(other.verificationId, other.code)).body.status).toBe('Verified');
  });

  it('checks at most 10 of 20 wrong codes racing across 4 challenges of one card', async () => {
    const c = await card();
    const challenges = [];
    for (let i = 0; i < 4; i++) challenges.push(await challenge(c.id));
    const answers = await Promise.all(challenges.flatMap((v) => Array.from({ length: 5 }, () => verify(v.verificationId, wrong(v.code)))));
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((answer) => answer.body.status))).toEqual(new Set(['Failed', 'Locked']));
    expect(answers.filter((answer) => answer.body.status === 'Failed').length).toBeLessThanOrEqual(10);

    const perChallenge = await counted(challenges.map((v) => v.verificationId));
    expect(perChallenge.reduce((sum, n) => sum + n, 0)).toBe(10);
    for (const v of challenges) expect((await verify(v.verificationId, v.code)).body.status).toBe('Locked');
    expect((await partner.post('/v1/simulate/3ds', { card_id: c.id, amount: '10', currency: 'HKD' })).body.error.code).toBe('otp_attempts_exhausted');
  });
});

describe('which cards may be challenged', () => {
  it('refuses a card past its expiry month (409 card_expired), and issues no code', async () => {
    const c = await card();
    // Five years and more pass: the card's expiry follows from its issue date.
    useStackEnvironment();
    const { db, tableName } = await import('../../shared/db/client.ts');
    const issued = new Date();
    issued.setUTCFullYear(issued.getUTCFullYear() - 6);
    await db().send(
      new UpdateCommand({ TableName: tableName(), Key: { PK: `CARD#${c.id}`, SK: 'CARD' }, UpdateExpression: 'SET createdAt = :issued', ExpressionAttributeValues: { ':issued': issued.toISOString() } }),
    );
    const response = await partner.post('/v1/simulate/3ds', { card_id: c.id, amount: '10', currency: 'HKD' });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('card_expired');
    const listed = (await partner.get('/v1/events?limit=100')).body.data;
    expect(listed.filter((e: any) => e.payload.card_reference_id === c.id)).toEqual([]);
  });

  it("refuses a B2C card whose user is suspended (409 user_suspended), and challenges it again once the user is reactivated", async () => {
    const user = await partner.post('/v1/users', {
      ekyc: {
        first_name: 'Siu Ming', last_name: 'Wong', date_of_birth: '1992-11-03', nationality: 'HK', id_type: 'passport', id_number: 'K1234567',
        email: `siuming.${randomUUID().slice(0, 8)}@example.com`, phone: '+85298765432', address: { line1: '3 Des Voeux Road', city: 'Hong Kong', country: 'HK' },
      },
    });
    expect(user.status).toBe(201);
    const userId = user.body.p_user_id;
    const issued = await partner.post('/v1/cards', { mode: 'B2C', p_user_id: userId, currency: 'HKD' });
    expect(issued.status).toBe(201);
    expect((await partner.patch(`/v1/users/${userId}`, { status: 'Suspended' })).status).toBe(200);
    const refused = await partner.post('/v1/simulate/3ds', { card_id: issued.body.id, amount: '10', currency: 'HKD' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('user_suspended');

    expect((await partner.patch(`/v1/users/${userId}`, { status: 'Active' })).status).toBe(200);
    const { verificationId, code } = await challenge(issued.body.id);
    expect((await verify(verificationId, code)).body.status).toBe('Verified');
  });
});

describe('the network routes', () => {
  it("challenge a card by number and verify with the card network's key; a business key is refused", async () => {
    const c = await card();
    const full = await partner.get(`/v1/cards/${c.id}/full`);
    const response = await network.post('/network/3ds/challenges', { card_number: full.body.card_number, amount: '12.5', currency: 'USD', merchant_name: 'Shop' });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ verification_id: expect.any(String), expires_at: expect.any(String) });
    const verificationId = response.body.verification_id;
    const delivery = await receiver.waitFor(hookPath, (request) => JSON.parse(request.body).verification_id === verificationId);
    const body = verifyWith([business.webhook_secret], delivery);
    expect(body).toMatchObject({ card_reference_id: c.id, transaction_amount: '-12.5', transaction_currency: 'USD' });

    const refused = await partner.post(`/network/3ds/challenges/${verificationId}/verify`, { otp_code: body.otp_code });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('network_credential_required');
    const verified = await network.post(`/network/3ds/challenges/${verificationId}/verify`, { otp_code: body.otp_code });
    expect(verified.body).toEqual({ verification_id: verificationId, status: 'Verified', attempts_remaining: 5 });
  });

  it('answers 404 for an unknown card number and 400 for a malformed code', async () => {
    const unknown = await network.post('/network/3ds/challenges', { card_number: '3567720000000000', amount: '1', currency: 'USD' });
    expect(unknown.status).toBe(404);
    const malformed = await network.post('/network/3ds/challenges/0190a3c4-0000-7000-8000-000000000001/verify', { otp_code: '12345' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.fields).toEqual([{ path: 'otp_code', message: 'must be the 6-digit code' }]);
  });
});
