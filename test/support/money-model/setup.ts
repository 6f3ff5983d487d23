/**
 * One run's world: a business under test (two users with deposit addresses, two B2B cards and a
 * B2C card, a funded balance) and another business with a card, a user and a hold, which the
 * run's requests must never move.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { cents, type Model, type ModelCard, type ModelUser } from './model.ts';
import { call, post, type Real } from './real.ts';

export async function setupRun(apiBase: string, networkKey: string): Promise<{ model: Model; real: Real }> {
  const { createBusiness } = await import('../../../shared/services/businesses.ts');
  const [business, other] = await Promise.all([createBusiness({ name: `model-${randomUUID()}` }), createBusiness({ name: `other-${randomUUID()}` })]);
  const real: Real = { apiBase, keys: { partner: business.api_key, other: other.api_key, network: networkKey }, exchanges: [], retried503: 0, retriedInProgress: 0 };

  const users: ModelUser[] = [];
  for (let i = 0; i < 2; i++) users.push(await createUser(real, 'partner'));
  const cards: ModelCard[] = [];
  for (const body of [{ mode: 'B2B' }, { mode: 'B2B' }, { mode: 'B2C', p_user_id: users[0]!.id }]) cards.push(await createCard(real, 'partner', body, body.mode === 'B2C' ? 0 : 'business'));
  expect((await post(real, 'partner', '/v1/simulate/topups', { currency: 'USD', amount: '200.00' })).status).toBe(201);

  const otherUser = await createUser(real, 'other');
  const otherCard = await createCard(real, 'other', { mode: 'B2B' }, 'business');
  expect((await call(real, 'other', 'POST', '/v1/simulate/topups', { currency: 'USD', amount: '100.00' })).status).toBe(201);
  const hold = await call(real, 'other', 'POST', '/v1/simulate/authorizations', { card_id: otherCard.id, amount: '1.00', currency: 'USD', merchant_name: 'Other' });
  expect(hold.body.status).toBe('Authorized');
  real.exchanges.length = 0; // replays are of the run's own requests

  const model: Model = {
    business: { available: cents('200.00'), pending: 0n },
    users,
    cards,
    transactions: [],
    networkPostings: [],
    deposits: [],
    other: { balance: { available: cents('99.00'), pending: cents('1.00') }, cardId: otherCard.id, cardNumber: otherCard.number, userId: otherUser.id, transactionId: hold.body.id },
  };
  return { model, real };
}

async function createUser(real: Real, caller: 'partner' | 'other'): Promise<ModelUser> {
  const ekyc = { first_name: 'Mei', last_name: `Chan${randomUUID().slice(0, 4)}`, id_number: `M${Math.floor(10_000_000 + Math.random() * 89_999_999)}` };
  const created = await call(real, caller, 'POST', '/v1/users', {
    ekyc: {
      ...ekyc,
      date_of_birth: '1990-01-01',
      nationality: 'HK',
      id_type: 'passport',
      email: `${randomUUID()}@example.com`,
      phone: '+85290000000',
      address: { line1: '1 Model Road', city: 'Hong Kong', country: 'HK' },
    },
  });
  expect(created.status, created.text).toBe(201);
  const wallet = await call(real, caller, 'POST', `/v1/users/${created.body.p_user_id}/wallet-addresses`, { chain: 'TRON' });
  expect(wallet.status, wallet.text).toBe(201);
  return { id: created.body.p_user_id, status: 'Active', ekyc, balance: { available: 0n, pending: 0n }, address: wallet.body.address };
}

async function createCard(real: Real, caller: 'partner' | 'other', body: Record<string, unknown>, owner: ModelCard['owner']): Promise<ModelCard> {
  const created = await call(real, caller, 'POST', '/v1/cards', { ...body, currency: 'USD' });
  expect(created.status, created.text).toBe(201);
  const full = await call(real, caller, 'GET', `/v1/cards/${created.body.id}/full`);
  return {
    id: created.body.id,
    number: full.body.card_number,
    owner,
    status: 'Active',
    limits: { transaction: 0n, daily: 0n, monthly: 0n, lifetime: 0n },
    spent: new Map(),
  };
}
