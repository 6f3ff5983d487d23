/**
 * The whole card lifecycle a network sends (API.md "Authorization lifecycle"), through HTTP the way
 * the sandbox partner and the card network call it: increments, partial, final and over-captures,
 * expiry and late captures, force posts, refunds, and balances below zero only by network force.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { api, createBusiness, localStack, useStackEnvironment, type ApiClient } from '../support/stack.ts';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from '../support/webhook-receiver.ts';

let network: ApiClient;
let receiver: WebhookReceiver;

beforeAll(async () => {
  network = api(localStack().networkKey);
  receiver = await startWebhookReceiver();
});

afterAll(async () => {
  await receiver?.stop();
});

interface Partner {
  client: ApiClient;
  businessId: string;
  path: string;
}

/** A business of its own (so its balance is its own), funded with `funds` USD, its webhooks to the receiver. */
async function partnerWith(funds: string): Promise<Partner> {
  const business = await createBusiness(`Lifecycle ${randomUUID().slice(0, 8)}`);
  useStackEnvironment();
  const { setWebhookUrl } = await import('../../shared/services/businesses.ts');
  const path = `/lifecycle/${business.business_id}`;
  await setWebhookUrl(business.business_id, receiver.url(path));
  const client = api(business.api_key);
  if (funds !== '0') expect((await client.post('/v1/simulate/topups', { currency: 'USD', amount: funds })).status).toBe(201);
  return { client, businessId: business.business_id, path };
}

async function card(p: Partner, limits: Record<string, string> = {}) {
  const response = await p.client.post('/v1/cards', { mode: 'B2B', currency: 'USD', limits });
  expect(response.status).toBe(201);
  return response.body.id as string;
}

async function authorize(p: Partner, cardId: string, amount: string, mcc = '5999') {
  const response = await p.client.post('/v1/simulate/authorizations', { card_id: cardId, amount, currency: 'USD', merchant_name: 'Shop', merchant_country: 'HK', mcc });
  expect(response.status, response.text).toBe(201);
  return response.body;
}

async function balance(p: Partner) {
  const response = await p.client.get('/v1/balances');
  return response.body.data.find((b: { currency: string }) => b.currency === 'USD') ?? { available: '0', pending: '0' };
}

async function dailySpent(p: Partner, cardId: string) {
  const response = await p.client.get(`/v1/cards/${cardId}/spend`);
  expect(response.status).toBe(200);
  return response.body.daily.spent as string;
}

const ofTransaction = (transactionId: string, action: string) => (request: ReceivedWebhook) => {
  const body = JSON.parse(request.body);
  return body.card_transaction?.id === transactionId && body.action === action;
};

describe('increments', () => {
  it('enlarge the hold when approved, and tell the partner with an Authorization webhook', async () => {
    const p = await partnerWith('500');
    const cardId = await card(p);
    const auth = await authorize(p, cardId, '100', '7011');
    expect(auth).toMatchObject({ status: 'Authorized', held_amount: '-100' });
    expect(auth.hold_expires_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    // Lodging (7011) holds last 30 days.
    expect(Date.parse(auth.hold_expires_at) - Date.parse(auth.p_created_at)).toBeGreaterThan(29 * 86_400_000);

    const increment = await p.client.post(`/v1/simulate/authorizations/${auth.id}/increment`, { amount: '50.25' });
    expect(increment.status, increment.text).toBe(200);
    expect(increment.body).toMatchObject({ id: auth.id, status: 'Authorized', transaction_amount: '-150.25', local_amount: '-150.25', held_amount: '-150.25' });
    expect(await balance(p)).toMatchObject({ available: '349.75', pending: '150.25' });
    expect(await dailySpent(p, cardId)).toBe('150.25');

    const webhook = await receiver.waitFor(p.path, (request) => ofTransaction(auth.id, 'Authorization')(request) && JSON.parse(request.body).card_transaction.held_amount === '-150.25');
    expect(JSON.parse(webhook.body).type).toBe('transaction.authorization');
  });

  it('are declined with the reason and leave the hold as it was (limits, balance, card state)', async () => {
    const p = await partnerWith('130');
    const cardId = await card(p, { daily: '120' });
    const auth = await authorize(p, cardId, '100');

    const overLimit = await p.client.post(`/v1/simulate/authorizations/${auth.id}/increment`, { amount: '21' });
    expect(overLimit.status).toBe(422);
    expect(overLimit.body.error).toMatchObject({ code: 'increment_declined', decline_reason: 'exceeds_daily_limit' });

    const broke = await p.client.post(`/v1/simulate/authorizations/${auth.id}/increment`, { amount: '20' });
    expect(broke.status, broke.text).toBe(200);
    const noMoney = await network.post(`/network/authorizations/${auth.id}/increment`, { amount: '0.01' }, { 'idempotency-key': randomUUID() });
    expect(noMoney.status).toBe(422);
    expect(noMoney.body.error).toMatchObject({ code: 'increment_declined', decline_reason: 'exceeds_daily_limit' });

    expect((await p.client.post(`/v1/cards/${cardId}/lock`)).status).toBe(200);
    const locked = await p.client.post(`/v1/simulate/authorizations/${auth.id}/increment`, { amount: '1' });
    expect(locked.body.error).toMatchObject({ code: 'increment_declined', decline_reason: 'card_locked' });

    const read = await p.client.get(`/v1/transactions/${auth.id}`);
    expect(read.body).toMatchObject({ status: 'Authorized', held_amount: '-120', local_amount: '-120' });
    expect(await balance(p)).toMatchObject({ available: '10', pending: '120' });
  });

  it('decline insufficient_balance when the balance does not cover the extra amount', async () => {
    const p = await partnerWith('100');
    const cardId = await card(p);
    const auth = await authorize(p, cardId, '90');
    const response = await p.client.post(`/v1/simulate/authorizations/${auth.id}/increment`, { amount: '10.01' });
    expect(response.status).toBe(422);
    expect(response.body.error).toMatchObject({ code: 'increment_declined', decline_reason: 'insufficient_balance' });
    expect(await balance(p)).toMatchObject({ available: '10', pending: '90' });
  });
});

describe('an increment on a later day', () => {
  it('is checked and counted in that day’s windows, and a reversal gives each day back what it counted', async () => {
    const p = await partnerWith('1000');
    const cardId = await card(p, { daily: '100' });
    const auth = await authorize(p, cardId, '80', '7011');
    useStackEnvironment();
    const { incrementAuthorization } = await import('../../shared/services/increments.ts');
    const { getCardCounters } = await import('../../shared/db/transactions-repository.ts');
    const { windowPeriods } = await import('../../shared/domain/spend-windows.ts');
    const today = windowPeriods(new Date(), 'UTC');
    const tomorrow = windowPeriods(new Date(Date.now() + 86_400_000), 'UTC');

    // The hotel enlarges the hold tomorrow: 80 spent today does not count against tomorrow's 100.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 86_400_000 });
    try {
      const grown = await incrementAuthorization({ businessId: p.businessId }, auth.id, { amount: '30' });
      expect(grown).toMatchObject({ status: 'Authorized', held_amount: '-110' });
      // Tomorrow's 30 + 80 more is over tomorrow's limit.
      await expect(incrementAuthorization({ businessId: p.businessId }, auth.id, { amount: '80' })).rejects.toMatchObject({ code: 'increment_declined', declineReason: 'exceeds_daily_limit' });
    } finally {
      vi.useRealTimers();
    }
    expect((await getCardCounters(cardId, today)).spent).toMatchObject({ daily: 8000n, lifetime: 11000n });
    expect((await getCardCounters(cardId, tomorrow)).spent.daily).toBe(3000n);
    expect(await dailySpent(p, cardId)).toBe('80');

    // Reversing 50 gives tomorrow its 30 back first, then 20 of today's 80.
    expect((await p.client.post(`/v1/simulate/authorizations/${auth.id}/reverse`, { amount: '50' })).status).toBe(200);
    expect((await getCardCounters(cardId, tomorrow)).spent.daily).toBe(0n);
    expect((await getCardCounters(cardId, today)).spent).toMatchObject({ daily: 6000n, lifetime: 6000n });
    expect((await p.client.post(`/v1/simulate/authorizations/${auth.id}/reverse`, {})).status).toBe(200);
    expect((await getCardCounters(cardId, today)).spent).toMatchObject({ daily: 0n, lifetime: 0n });
    expect(await balance(p)).toMatchObject({ available: '1000', pending: '0' });
  });
});

describe('a hold enlarged every night for three months (a long stay)', () => {
  it('is still released in one transaction: every month and lifetime get everything back, only the oldest days keep what they counted', async () => {
    const p = await partnerWith('1000');
    const cardId = await card(p);
    const auth = await authorize(p, cardId, '10', '7011');
    useStackEnvironment();
    const { incrementAuthorization } = await import('../../shared/services/increments.ts');
    const { reverseAuthorization } = await import('../../shared/services/authorization-adjustments.ts');
    const { getCardCounters } = await import('../../shared/db/transactions-repository.ts');
    const { windowPeriods } = await import('../../shared/domain/spend-windows.ts');
    const start = Date.now();
    const night = (n: number) => start + n * 86_400_000;
    const NIGHTS = 90;

    try {
      // One increment a night: 90 shares in 90 daily counters over four months (UTC business).
      for (let n = 1; n <= NIGHTS; n++) {
        vi.useFakeTimers({ toFake: ['Date'], now: night(n) });
        await incrementAuthorization({ businessId: p.businessId }, auth.id, { amount: '1' });
      }
      // Released on the last night, as time runs: before the bound it was over DynamoDB's 100
      // actions (a ValidationException, a 500 on every try, and a hold no sweep could end).
      vi.useFakeTimers({ toFake: ['Date'], now: night(NIGHTS) + 3_600_000 });
      const released = await reverseAuthorization({ businessId: p.businessId }, auth.id, {});
      expect(released).toMatchObject({ status: 'Reversed' });
    } finally {
      vi.useRealTimers();
    }

    expect(await balance(p)).toMatchObject({ available: '1000', pending: '0' });
    const last = windowPeriods(new Date(night(NIGHTS)), 'UTC');
    const lastCounters = (await getCardCounters(cardId, last)).spent;
    expect(lastCounters).toMatchObject({ daily: 0n, monthly: 0n, lifetime: 0n });
    for (let n = 0; n <= NIGHTS; n += 15) {
      // Every month spanned got everything back; a day's counter at most what it counted.
      const spent = (await getCardCounters(cardId, windowPeriods(new Date(night(n)), 'UTC'))).spent;
      expect(spent.monthly).toBe(0n);
      expect(spent.daily).toBeLessThanOrEqual(n === 0 ? 1000n : 100n);
    }
  });
});

describe('network resends', () => {
  it('replay a partial capture, partial reversal or increment by its message id, and refuse one without it', async () => {
    const p = await partnerWith('500');
    const cardId = await card(p);
    const auth = await authorize(p, cardId, '100');
    const messages = [
      [`/network/authorizations/${auth.id}/increment`, { amount: '20' }],
      [`/network/authorizations/${auth.id}/settle`, { amount: '30', final: false }],
      [`/network/authorizations/${auth.id}/reverse`, { amount: '10' }],
    ] as const;
    for (const [path, body] of messages) {
      const refused = await network.post(path, body);
      expect([refused.status, refused.body.error.code], path).toEqual([400, 'idempotency_key_required']);
      const key = `msg-${randomUUID()}`;
      const first = await network.post(path, body, { 'idempotency-key': key });
      expect(first.status, first.text).toBe(200);
      const resent = await network.post(path, body, { 'idempotency-key': key });
      expect([resent.status, resent.headers.get('idempotent-replayed'), resent.body]).toEqual([200, 'true', first.body]);
    }
    // Each message moved money once: 100 + 20 held, 30 captured, 10 given back.
    expect((await p.client.get(`/v1/transactions/${auth.id}`)).body).toMatchObject({ status: 'Authorized', held_amount: '-80', final_local_amount: '-30' });
    expect(await balance(p)).toMatchObject({ available: '390', pending: '80' });
  });
});

describe('captures', () => {
  it('post partial captures, keep the rest held, and settle on the final one (final_local_amount = sum of captures)', async () => {
    const p = await partnerWith('200');
    const cardId = await card(p);
    const auth = await authorize(p, cardId, '100');

    const first = await p.client.post(`/v1/simulate/authorizations/${auth.id}/settle`, { amount: '30', final: false });
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ status: 'Authorized', held_amount: '-70', final_local_amount: '-30' });
    expect(await balance(p)).toMatchObject({ available: '100', pending: '70' });

    const second = await network.post(`/network/authorizations/${auth.id}/settle`, { amount: '50', final: false }, { 'idempotency-key': randomUUID() });
    expect(second.body).toMatchObject({ status: 'Authorized', held_amount: '-20', final_local_amount: '-80' });

    const last = await p.client.post(`/v1/simulate/authorizations/${auth.id}/settle`, { amount: '10' });
    expect(last.body).toMatchObject({ status: 'Settled', held_amount: '0', final_local_amount: '-90' });
    expect(last.body.hold_expires_at).toBeUndefined();
    // The 10 never captured went back to the balance and to the windows.
    expect(await balance(p)).toMatchObject({ available: '110', pending: '0' });
    expect(await dailySpent(p, cardId)).toBe('90');
    await receiver.waitFor(p.path, (request) => ofTransaction(auth.id, 'Settled')(request) && JSON.parse(request.body).card_transaction.status === 'Settled');
  });

  it('settle when a partial capture takes everything that is held', async () => {
    const p = await partnerWith('50');
    const auth = await authorize(p, await card(p), '40');
    const all = await p.client.post(`/v1/simulate/authorizations/${auth.id}/settle`, { amount: '40', final: false });
    expect(all.body).toMatchObject({ status: 'Settled', held_amount: '0', final_local_amount: '-40' });
  });

  it('allow tips up to 20% of the authorized amount for restaurant MCCs, and nothing over for others', async () => {
    const p = await partnerWith('100');
    const cardId = await card(p);
    const dinner = await authorize(p, cardId, '50', '5812');
    const tooMuch = await p.client.post(`/v1/simulate/authorizations/${dinner.id}/settle`, { amount: '60.01' });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.error.code).toBe('amount_exceeds_authorization');
    const withTip = await p.client.post(`/v1/simulate/authorizations/${dinner.id}/settle`, { amount: '60' });
    expect(withTip.body).toMatchObject({ status: 'Settled', final_local_amount: '-60' });
    expect(await balance(p)).toMatchObject({ available: '40', pending: '0' });
    expect(await dailySpent(p, cardId)).toBe('60');

    const shop = await authorize(p, cardId, '10', '5999');
    const over = await p.client.post(`/v1/simulate/authorizations/${shop.id}/settle`, { amount: '10.01' });
    expect(over.status).toBe(422);
    expect(over.body.error.code).toBe('amount_exceeds_authorization');
  });

  it('refuse bad input with a 400 and a field', async () => {
    const p = await partnerWith('10');
    const auth = await authorize(p, await card(p), '5');
    const badFinal = await p.client.post(`/v1/simulate/authorizations/${auth.id}/settle`, { final: 'yes' });
    expect(badFinal.status).toBe(400);
    expect(badFinal.body.error.fields[0].path).toBe('final');
    const badIncrement = await p.client.post(`/v1/simulate/authorizations/${auth.id}/increment`, { amount: '-3' });
    expect(badIncrement.status).toBe(400);
    expect(badIncrement.body.error.code).toBe('validation_error');
    const precision = await p.client.post(`/v1/simulate/authorizations/${auth.id}/increment`, { amount: '1.001' });
    expect(precision.status).toBe(400);
  });
});

describe('expiry and late captures', () => {
  it('releases the hold (status Expired, windows given back), refuses other changes, and a late capture still posts, even below zero', async () => {
    const p = await partnerWith('50');
    const cardId = await card(p);
    const auth = await authorize(p, cardId, '40');

    const expired = await p.client.post(`/v1/simulate/authorizations/${auth.id}/expire`);
    expect(expired.status, expired.text).toBe(200);
    expect(expired.body).toMatchObject({ status: 'Expired', held_amount: '0' });
    expect(await balance(p)).toMatchObject({ available: '50', pending: '0' });
    expect(await dailySpent(p, cardId)).toBe('0');
    const webhook = await receiver.waitFor(p.path, ofTransaction(auth.id, 'Expired'));
    expect(JSON.parse(webhook.body)).toMatchObject({ type: 'transaction.expiry', card_transaction: { status: 'Expired' } });

    for (const action of ['reverse', 'increment', 'expire']) {
      const refused = await p.client.post(`/v1/simulate/authorizations/${auth.id}/${action}`, action === 'increment' ? { amount: '1' } : {});
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('transaction_expired');
    }

    // Meanwhile the balance was spent elsewhere; the network captures the expired authorization anyway.
    const other = await authorize(p, cardId, '30');
    expect((await p.client.post(`/v1/simulate/authorizations/${other.id}/settle`, {})).status).toBe(200);
    const late = await network.post(`/network/authorizations/${auth.id}/settle`, {}, { 'idempotency-key': randomUUID() });
    expect(late.status, late.text).toBe(200);
    expect(late.body).toMatchObject({ status: 'Settled', final_local_amount: '-40', held_amount: '0' });
    expect(await balance(p)).toMatchObject({ available: '-20', pending: '0' });
    expect(await dailySpent(p, cardId)).toBe('70');

    // Below zero, every authorization declines until the balance is refilled.
    const declined = await authorize(p, cardId, '0.01');
    expect(declined).toMatchObject({ status: 'Declined', decline_reason: 'insufficient_balance' });
    expect((await p.client.post('/v1/simulate/topups', { currency: 'USD', amount: '25' })).status).toBe(201);
    expect(await authorize(p, cardId, '5')).toMatchObject({ status: 'Authorized' });
  });
});

describe('force posts', () => {
  it('post with no authorization, once per network_settlement_id, even below zero', async () => {
    const p = await partnerWith('10');
    const cardId = await card(p);
    const full = await p.client.get(`/v1/cards/${cardId}/full`);
    const body = { card_number: full.body.card_number, network_settlement_id: `fp-${randomUUID()}`, amount: '25', currency: 'USD', merchant_name: 'Toll road', mcc: '4784' };

    const posted = await network.post('/network/settlements', body);
    expect(posted.status, posted.text).toBe(201);
    expect(posted.body).toMatchObject({ status: 'Settled', type: 'Sales', final_local_amount: '-25', held_amount: '0', network_settlement_id: body.network_settlement_id });
    expect(await balance(p)).toMatchObject({ available: '-15', pending: '0' });

    const repeat = await network.post('/network/settlements', body);
    expect(repeat.status).toBe(200);
    expect(repeat.body.id).toBe(posted.body.id);
    const conflict = await network.post('/network/settlements', { ...body, amount: '26' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('network_settlement_conflict');
    expect(await balance(p)).toMatchObject({ available: '-15', pending: '0' });

    const simulated = await p.client.post('/v1/simulate/settlements', { card_id: cardId, network_settlement_id: `fp-${randomUUID()}`, amount: '5', currency: 'USD' });
    expect(simulated.status).toBe(201);
    expect(await balance(p)).toMatchObject({ available: '-20', pending: '0' });
    await receiver.waitFor(p.path, ofTransaction(posted.body.id, 'Settled'));

    const unknownCard = await p.client.post('/v1/simulate/settlements', { card_id: randomUUID(), network_settlement_id: 'x', amount: '5', currency: 'USD' });
    expect(unknownCard.status).toBe(404);
  });
});

describe('refunds', () => {
  it('credit the balance as a Refund (positive amounts), once per network_refund_id, giving nothing back to the windows', async () => {
    const p = await partnerWith('100');
    const cardId = await card(p);
    const purchase = await authorize(p, cardId, '60');
    await p.client.post(`/v1/simulate/authorizations/${purchase.id}/settle`, {});
    const body = { card_id: cardId, network_refund_id: `rf-${randomUUID()}`, amount: '25.5', currency: 'USD', transaction_id: purchase.id, merchant_name: 'Shop' };

    const refund = await p.client.post('/v1/simulate/refunds', body);
    expect(refund.status, refund.text).toBe(201);
    expect(refund.body).toMatchObject({
      type: 'Refund',
      status: 'Settled',
      transaction_amount: '25.5',
      local_amount: '25.5',
      final_local_amount: '25.5',
      refunded_transaction_id: purchase.id,
      network_refund_id: body.network_refund_id,
    });
    expect(await balance(p)).toMatchObject({ available: '65.5', pending: '0' });
    expect(await dailySpent(p, cardId)).toBe('60');

    const repeat = await p.client.post('/v1/simulate/refunds', body);
    expect(repeat.status).toBe(200);
    expect(repeat.body.id).toBe(refund.body.id);
    const conflict = await p.client.post('/v1/simulate/refunds', { ...body, amount: '1' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('network_refund_conflict');
    expect(await balance(p)).toMatchObject({ available: '65.5', pending: '0' });

    const webhook = await receiver.waitFor(p.path, ofTransaction(refund.body.id, 'Refund'));
    expect(JSON.parse(webhook.body).type).toBe('transaction.refund');
    const listed = await p.client.get(`/v1/transactions?type=Refund&card_id=${cardId}`);
    expect(listed.body.data.map((t: { id: string }) => t.id)).toEqual([refund.body.id]);
    // A refund is not an authorization: it cannot be captured, reversed or expired.
    expect((await p.client.post(`/v1/simulate/authorizations/${refund.body.id}/reverse`, {})).status).toBe(404);
  });

  it('come from the network by card number, and refuse a transaction_id of another card', async () => {
    const p = await partnerWith('10');
    const cardId = await card(p);
    const otherCard = await card(p);
    const elsewhere = await authorize(p, otherCard, '1');
    const full = await p.client.get(`/v1/cards/${cardId}/full`);
    const body = { card_number: full.body.card_number, network_refund_id: `rf-${randomUUID()}`, amount: '3', currency: 'USD' };
    const wrong = await network.post('/network/refunds', { ...body, transaction_id: elsewhere.id });
    expect(wrong.status).toBe(404);
    expect(wrong.body.error.code).toBe('transaction_not_found');
    const refund = await network.post('/network/refunds', body);
    expect(refund.status, refund.text).toBe(201);
    expect(await balance(p)).toMatchObject({ available: '12', pending: '1' });
    const missing = await network.post('/network/refunds', { card_number: full.body.card_number, amount: '3', currency: 'USD' });
    expect(missing.status).toBe(400);
    expect(missing.body.error.fields.map((f: { path: string }) => f.path)).toContain('network_refund_id');
  });
});
