/**
 * The authorization engine through HTTP, the way a partner (simulate routes) and the card network
 * (network routes) call it.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createBusiness, localStack, useStackEnvironment, type ApiClient } from '../support/stack.ts';

let partner: ApiClient;
let network: ApiClient;

beforeAll(async () => {
  const business = await createBusiness('Authorization specs');
  partner = api(business.api_key);
  network = api(localStack().networkKey);
});

async function topUp(currency: string, amount: string) {
  const response = await partner.post('/v1/simulate/topups', { currency, amount });
  expect(response.status).toBe(201);
}

async function b2bCard(limits: Record<string, string> = {}, currency = 'USD') {
  const response = await partner.post('/v1/cards', { mode: 'B2B', currency, limits });
  expect(response.status).toBe(201);
  return response.body.id as string;
}

async function authorize(cardId: string, amount: string, currency = 'USD', extra: Record<string, string> = {}) {
  return partner.post('/v1/simulate/authorizations', { card_id: cardId, amount, currency, merchant_name: 'Coffee', merchant_country: 'HK', ...extra });
}

async function balance(currency: string) {
  const response = await partner.get('/v1/balances');
  return response.body.data.find((b: { currency: string }) => b.currency === currency) ?? { available: '0', pending: '0' };
}

describe('authorize, reverse, settle (B2B)', () => {
  it('holds the amount, then settles part of it and releases the rest', async () => {
    await topUp('EUR', '100');
    const cardId = await b2bCard({}, 'EUR');
    const auth = await authorize(cardId, '30.50', 'EUR', { merchant_id: 'm-1', mcc: '5812', merchant_city: 'Hong Kong' });
    expect(auth.status).toBe(201);
    expect(auth.body).toMatchObject({
      status: 'Authorized',
      type: 'Sales',
      card: cardId,
      transaction_currency: 'EUR',
      transaction_amount: '-30.5',
      local_currency: 'EUR',
      local_amount: '-30.5',
      final_local_amount: null,
      calculated_fee: '0',
      merchant_id: 'm-1',
      merchant_name: 'Coffee',
      merchant_country: 'HK',
      merchant_city: 'Hong Kong',
      mcc: '5812',
    });
    expect(auth.body.p_created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    expect(await balance('EUR')).toMatchObject({ available: '69.5', pending: '30.5' });

    const settled = await partner.post(`/v1/simulate/authorizations/${auth.body.id}/settle`, { amount: '25' });
    expect(settled.status).toBe(200);
    expect(settled.body).toMatchObject({ status: 'Settled', final_local_amount: '-25' });
    expect(await balance('EUR')).toMatchObject({ available: '75', pending: '0' });

    const again = await partner.post(`/v1/simulate/authorizations/${auth.body.id}/settle`, {});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('transaction_settled');
    const reverse = await partner.post(`/v1/simulate/authorizations/${auth.body.id}/reverse`, {});
    expect(reverse.status).toBe(409);

    const read = await partner.get(`/v1/transactions/${auth.body.id}`);
    expect(read.body).toMatchObject({ id: auth.body.id, status: 'Settled' });
  });

  it('reverses partially, then fully, and refuses a third reversal', async () => {
    await topUp('GBP', '50');
    const cardId = await b2bCard({ daily: '40' }, 'GBP');
    const auth = await authorize(cardId, '40', 'GBP');
    expect(auth.body.status).toBe('Authorized');
    const partial = await partner.post(`/v1/simulate/authorizations/${auth.body.id}/reverse`, { amount: '15' });
    expect(partial.body.status).toBe('Authorized');
    // The reversed amount is back in the daily window: 15 more fits under the 40 limit.
    expect((await authorize(cardId, '15', 'GBP')).body.status).toBe('Authorized');
    const full = await partner.post(`/v1/simulate/authorizations/${auth.body.id}/reverse`, {});
    expect(full.body.status).toBe('Reversed');
    const third = await partner.post(`/v1/simulate/authorizations/${auth.body.id}/reverse`, {});
    expect(third.status).toBe(409);
    expect(third.body.error.code).toBe('transaction_reversed');
    const tooMuch = await partner.post(`/v1/simulate/authorizations/${(await authorize(cardId, '1', 'GBP')).body.id}/settle`, { amount: '2' });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.error.code).toBe('amount_exceeds_authorization');
  });

  it('converts a foreign-currency amount with the FX fee and holds the card-currency total', async () => {
    await topUp('HKD', '1000');
    const cardId = await b2bCard({}, 'HKD');
    const auth = await authorize(cardId, '10', 'USD');
    expect(auth.body).toMatchObject({ status: 'Authorized', transaction_currency: 'USD', transaction_amount: '-10', local_currency: 'HKD', local_amount: '-78.13', calculated_fee: '0.79' });
    expect(await balance('HKD')).toMatchObject({ pending: '78.92' });
  });

  it('charges at least one minor unit for a purchase worth less than one (it used to convert to 0 and hold nothing)', async () => {
    // A business of its own: the JPY balance of the shared one is counted by another spec.
    const client = api((await createBusiness('Sub-unit purchase')).api_key);
    await client.post('/v1/simulate/topups', { currency: 'JPY', amount: '100' });
    const card = await client.post('/v1/cards', { mode: 'B2B', currency: 'JPY' });
    // 0.01 HKD = 0.19 JPY: rounded to the nearest yen that was 0 JPY and no fee; rounded up it is 1 + 1.
    const auth = await client.post('/v1/simulate/authorizations', { card_id: card.body.id, amount: '0.01', currency: 'HKD' });
    expect(auth.body).toMatchObject({ status: 'Authorized', transaction_amount: '-0.01', local_currency: 'JPY', local_amount: '-1', calculated_fee: '1' });
    expect((await client.get('/v1/balances')).body.data).toEqual([{ currency: 'JPY', available: '98', pending: '2' }]);
  });
});

describe('declines', () => {
  it('declines with every reason a card, its limits and its balance can give', async () => {
    await topUp('SGD', '100');
    const cardId = await b2bCard({ transaction: '50', daily: '60', monthly: '70', lifetime: '80' }, 'SGD');
    const expectDecline = async (response: Awaited<ReturnType<typeof authorize>>, reason: string) => {
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ status: 'Declined', decline_reason: reason });
    };
    await expectDecline(await authorize(cardId, '50.01', 'SGD'), 'exceeds_transaction_limit');
    expect((await authorize(cardId, '50', 'SGD')).body.status).toBe('Authorized');
    await expectDecline(await authorize(cardId, '10.01', 'SGD'), 'exceeds_daily_limit');
    await partner.put(`/v1/cards/${cardId}/limits`, { transaction: '50', daily: '0', monthly: '70', lifetime: '80' });
    await expectDecline(await authorize(cardId, '20.01', 'SGD'), 'exceeds_monthly_limit');
    await partner.put(`/v1/cards/${cardId}/limits`, { transaction: '50', daily: '0', monthly: '0', lifetime: '80' });
    await expectDecline(await authorize(cardId, '30.01', 'SGD'), 'exceeds_lifetime_limit');
    await partner.put(`/v1/cards/${cardId}/limits`, { transaction: '0', daily: '0', monthly: '0', lifetime: '0' });
    await expectDecline(await authorize(cardId, '50.01', 'SGD'), 'insufficient_balance');
    await expectDecline(await authorize(cardId, '1', 'BTC'), 'currency_not_supported');
    await expectDecline(await authorize(cardId, '1', 'XYZ'), 'currency_not_supported');

    await partner.post(`/v1/cards/${cardId}/lock`);
    await expectDecline(await authorize(cardId, '1', 'SGD'), 'card_locked');
    await partner.post(`/v1/cards/${cardId}/terminate`);
    await expectDecline(await authorize(cardId, '1', 'SGD'), 'card_terminated');

    // Nothing declined moved money: only the one approval of 50 is held.
    expect(await balance('SGD')).toMatchObject({ available: '50', pending: '50' });
  });

  it('declines a B2C card whose user is suspended, and spends the user\'s own balance', async () => {
    const user = await partner.post('/v1/users', {
      ekyc: {
        first_name: 'Mei',
        last_name: 'Chan',
        date_of_birth: '1990-01-02',
        nationality: 'HK',
        id_type: 'passport',
        id_number: 'K1234567',
        email: 'mei@example.com',
        phone: '+85291234567',
        address: { line1: '1 Queen\'s Road', city: 'Hong Kong', country: 'HK' },
      },
    });
    expect(user.status).toBe(201);
    const card = await partner.post('/v1/cards', { mode: 'B2C', p_user_id: user.body.p_user_id, currency: 'USD' });
    expect(card.status).toBe(201);
    // The user has no balance yet (B2C users are funded by deposits, not the business's top-ups).
    await topUp('USD', '100');
    expect((await authorize(card.body.id, '1')).body.decline_reason).toBe('insufficient_balance');
    await partner.patch(`/v1/users/${user.body.p_user_id}`, { status: 'Suspended' });
    expect((await authorize(card.body.id, '1')).body.decline_reason).toBe('user_suspended');
  });

  it('answers 404 for another business\'s card and 400 for bad input', async () => {
    const other = await createBusiness('Other');
    const foreignCard = await api(other.api_key).post('/v1/cards', { mode: 'B2B' });
    expect((await authorize(foreignCard.body.id, '1')).status).toBe(404);
    const bad = await partner.post('/v1/simulate/authorizations', { card_id: foreignCard.body.id, amount: 12.5, currency: 'usd' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['amount', 'currency']);
    const cardId = await b2bCard();
    const precise = await authorize(cardId, '1.001', 'USD');
    expect(precise.status).toBe(400);
    expect(precise.body.error.fields[0].path).toBe('amount');
  });
});

describe('the network routes', () => {
  it('authorizes by card number, once per network authorization id, and refuses business keys', async () => {
    await topUp('JPY', '10000');
    const cardId = await b2bCard({}, 'JPY');
    const full = await partner.get(`/v1/cards/${cardId}/full`);
    const body = { card_number: full.body.card_number, network_authorization_id: `net-${cardId}`, amount: '1500', currency: 'JPY', merchant_name: 'Ramen' };
    const first = await network.post('/network/authorizations', body);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'Authorized', local_amount: '-1500' });
    const repeat = await network.post('/network/authorizations', body);
    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(first.body);
    expect(await balance('JPY')).toMatchObject({ available: '8500', pending: '1500' });

    const refused = await partner.post('/network/authorizations', body);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('network_credential_required');
    expect((await network.post('/network/authorizations', { ...body, card_number: '3567720000000000', network_authorization_id: 'x' })).status).toBe(404);
    const settle = await network.post(`/network/authorizations/${first.body.id}/settle`, {}, { 'idempotency-key': randomUUID() });
    expect(settle.body).toMatchObject({ status: 'Settled', final_local_amount: '-1500' });
  });
});

describe('network authorization ids are per card', () => {
  /** A funded B2B card of a new business, with its number and a client of that business. */
  async function fundedCard(name: string, currency = 'USD', amount = '100') {
    const business = await createBusiness(name);
    const client = api(business.api_key);
    expect((await client.post('/v1/simulate/topups', { currency, amount })).status).toBe(201);
    const card = await client.post('/v1/cards', { mode: 'B2B', currency });
    const full = await client.get(`/v1/cards/${card.body.id}/full`);
    const balances = async () => (await client.get('/v1/balances')).body.data;
    return { client, cardId: card.body.id as string, cardNumber: full.body.card_number as string, balances };
  }
  const networkId = () => `net-${randomUUID()}`;
  const purchase = (cardNumber: string, id: string, extra: Record<string, string> = {}) => ({
    card_number: cardNumber,
    network_authorization_id: id,
    amount: '12.5',
    currency: 'USD',
    merchant_name: 'Bookshop',
    merchant_country: 'HK',
    ...extra,
  });

  it('refuses the same id for another business\'s card with 409, moving nothing on either card', async () => {
    const first = await fundedCard('Network id owner');
    const second = await fundedCard('Network id other');
    const id = networkId();
    const approved = await network.post('/network/authorizations', purchase(first.cardNumber, id));
    expect(approved.status).toBe(201);
    expect(approved.body).toMatchObject({ status: 'Authorized', card: first.cardId });

    const reused = await network.post('/network/authorizations', purchase(second.cardNumber, id));

    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('network_authorization_conflict');
    expect(JSON.stringify(reused.body)).not.toContain(first.cardId);
    expect(await first.balances()).toEqual([{ currency: 'USD', available: '87.5', pending: '12.5' }]);
    expect(await second.balances()).toEqual([{ currency: 'USD', available: '100', pending: '0' }]);
    expect((await second.client.get(`/v1/cards/${second.cardId}/transactions`)).body.data).toEqual([]);
  });

  it('refuses the same id on the same card with another amount, currency or merchant', async () => {
    const card = await fundedCard('Network id terms');
    const id = networkId();
    expect((await network.post('/network/authorizations', purchase(card.cardNumber, id))).status).toBe(201);

    const changes: Record<string, string>[] = [{ amount: '12.51' }, { currency: 'HKD' }, { merchant_name: 'Newsagent' }];
    for (const change of changes) {
      const response = await network.post('/network/authorizations', purchase(card.cardNumber, id, change));
      expect(response.status, JSON.stringify(change)).toBe(409);
      expect(response.body.error.code).toBe('network_authorization_conflict');
    }
    expect(await card.balances()).toEqual([{ currency: 'USD', available: '87.5', pending: '12.5' }]);
    expect((await card.client.get(`/v1/cards/${card.cardId}/transactions`)).body.data).toHaveLength(1);
  });

  it('answers an exact repeat with 200 and the first body, and ten at once with one hold', async () => {
    const card = await fundedCard('Network id repeats');
    const id = networkId();
    const answers = await Promise.all(Array.from({ length: 10 }, () => network.post('/network/authorizations', purchase(card.cardNumber, id))));

    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(9);
    const first = answers.find((answer) => answer.status === 201)!.body;
    for (const answer of answers) expect(answer.body).toEqual(first);
    const later = await network.post('/network/authorizations', purchase(card.cardNumber, id, { amount: '12.50' }));
    expect(later.status).toBe(200);
    expect(later.body).toEqual(first);
    expect(await card.balances()).toEqual([{ currency: 'USD', available: '87.5', pending: '12.5' }]);
  });

  it('answers a repeat of a declined authorization with the same decline, even once the card could pay', async () => {
    const card = await fundedCard('Network id declines', 'USD', '10');
    const id = networkId();
    const declined = await network.post('/network/authorizations', purchase(card.cardNumber, id));
    expect(declined.status).toBe(201);
    expect(declined.body).toMatchObject({ status: 'Declined', decline_reason: 'insufficient_balance' });
    await card.client.post('/v1/simulate/topups', { currency: 'USD', amount: '100' });

    const repeat = await network.post('/network/authorizations', purchase(card.cardNumber, id));

    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(declined.body);
    expect(await card.balances()).toEqual([{ currency: 'USD', available: '110', pending: '0' }]);
  });

  it('leaves reversal and settlement by transaction id as they were', async () => {
    const card = await fundedCard('Network id adjustments');
    const auth = await network.post('/network/authorizations', purchase(card.cardNumber, networkId()));
    const reversed = await network.post(`/network/authorizations/${auth.body.id}/reverse`, { amount: '2.5' }, { 'idempotency-key': randomUUID() });
    expect(reversed.status).toBe(200);
    expect(reversed.body).toMatchObject({ id: auth.body.id, status: 'Authorized' });
    const settled = await network.post(`/network/authorizations/${auth.body.id}/settle`, {}, { 'idempotency-key': randomUUID() });
    expect(settled.body).toMatchObject({ id: auth.body.id, status: 'Settled', final_local_amount: '-10' });
    expect(await card.balances()).toEqual([{ currency: 'USD', available: '90', pending: '0' }]);
  });

  it('takes a reversal and a settlement that echo a card number, one this stack never tokenized (their rows hold no card-number key)', async () => {
    const card = await fundedCard('Network echoes the number');
    const auth = await network.post('/network/authorizations', purchase(card.cardNumber, networkId()));
    // A number no function of this process has seen, so no cached token can hide a missing grant.
    const echoed = `35677${String(Date.now()).slice(-6)}${String(Math.floor(Math.random() * 1e5)).padStart(5, '0')}`;
    const reversed = await network.post(`/network/authorizations/${auth.body.id}/reverse`, { amount: '2.5', card_number: echoed }, { 'idempotency-key': randomUUID() });
    expect(reversed.status, reversed.text).toBe(200);
    const settled = await network.post(`/network/authorizations/${auth.body.id}/settle`, { card_number: echoed }, { 'idempotency-key': randomUUID() });
    expect(settled.status, settled.text).toBe(200);
    expect(settled.body).toMatchObject({ id: auth.body.id, status: 'Settled', final_local_amount: '-10' });
  });
});

describe('reads', () => {
  it('lists a card\'s transactions newest first with status and time filters', async () => {
    await topUp('USD', '100');
    const cardId = await b2bCard({ transaction: '5' });
    const ids: string[] = [];
    for (const amount of ['1', '2', '6', '3']) ids.push((await authorize(cardId, amount)).body.id);
    const all = await partner.get(`/v1/cards/${cardId}/transactions?limit=3`);
    expect(all.body.data.map((t: { id: string }) => t.id)).toEqual([ids[3], ids[2], ids[1]]);
    const rest = await partner.get(`/v1/cards/${cardId}/transactions?limit=3&cursor=${encodeURIComponent(all.body.next_cursor)}`);
    expect(rest.body.data.map((t: { id: string }) => t.id)).toEqual([ids[0]]);
    expect(rest.body.next_cursor).toBeNull();
    const declined = await partner.get(`/v1/cards/${cardId}/transactions?status=Declined`);
    expect(declined.body.data.map((t: { id: string }) => t.id)).toEqual([ids[2]]);
    const second = (await partner.get(`/v1/transactions/${ids[1]}`)).body.p_created_at as string;
    const third = (await partner.get(`/v1/transactions/${ids[2]}`)).body.p_created_at as string;
    const window = await partner.get(`/v1/cards/${cardId}/transactions?from=${second}&to=${third}`);
    expect(window.body.data.map((t: { id: string }) => t.id)).toEqual([ids[2], ids[1]]);
    expect((await partner.get(`/v1/cards/${cardId}/transactions?from=yesterday`)).status).toBe(400);
  });
});

describe('concurrency', () => {
  it('approves exactly what the daily limit allows out of 100 concurrent authorizations', async () => {
    await topUp('USD', '1000');
    const cardId = await b2bCard({ daily: '25' });
    const results = await Promise.all(Array.from({ length: 100 }, () => authorize(cardId, '1')));
    const approved = results.filter((r) => r.body.status === 'Authorized').length;
    expect(results.every((r) => r.status === 201)).toBe(true);
    expect(approved).toBe(25);
    expect(results.filter((r) => r.body.decline_reason === 'exceeds_daily_limit')).toHaveLength(75);
  });

  it('approves exactly what the balance allows out of 100 concurrent authorizations', async () => {
    const business = await createBusiness('Concurrent balance');
    const client = api(business.api_key);
    await client.post('/v1/simulate/topups', { currency: 'USD', amount: '37' });
    const card = await client.post('/v1/cards', { mode: 'B2B' });
    const results = await Promise.all(
      Array.from({ length: 100 }, () => client.post('/v1/simulate/authorizations', { card_id: card.body.id, amount: '1', currency: 'USD' })),
    );
    expect(results.filter((r) => r.body.status === 'Authorized')).toHaveLength(37);
    const balances = await client.get('/v1/balances');
    expect(balances.body.data).toEqual([{ currency: 'USD', available: '0', pending: '37' }]);
  });

  it('leaves a clean ledger audit after a random mix of authorizations, reversals, settlements and top-ups', async () => {
    const business = await createBusiness('Random mix');
    const client = api(business.api_key);
    await client.post('/v1/simulate/topups', { currency: 'USD', amount: '200' });
    const cards = await Promise.all([1, 2, 3].map(() => client.post('/v1/cards', { mode: 'B2B', limits: { daily: '150' } })));
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const authorized: string[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 20; i++) {
          const op = random(10);
          if (op < 5 || authorized.length === 0) {
            const r = await client.post('/v1/simulate/authorizations', { card_id: cards[random(3)]!.body.id, amount: `${1 + random(20)}.${random(100)}`, currency: 'USD' });
            if (r.body.status === 'Authorized') authorized.push(r.body.id);
          } else if (op < 7) {
            await client.post(`/v1/simulate/authorizations/${authorized[random(authorized.length)]}/reverse`, random(2) ? {} : { amount: '0.5' });
          } else if (op < 9) {
            await client.post(`/v1/simulate/authorizations/${authorized[random(authorized.length)]}/settle`, {});
          } else {
            await client.post('/v1/simulate/topups', { currency: 'USD', amount: '10' });
          }
        }
      }),
    );
    useStackEnvironment();
    const { runLedgerAudit } = await import('../../shared/services/ledger-audit.ts');
    const report = await runLedgerAudit();
    expect(report.postings).toBeGreaterThan(10);
    expect(report.findings).toEqual([]);
  });
});
