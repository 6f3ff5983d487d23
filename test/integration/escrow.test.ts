/**
 * Escrow sub-balances of a business balance (issue 17, shared/domain/escrow.ts) through HTTP,
 * against the local stack's DynamoDB: a B2B balance spread over shard items never overspends under
 * concurrency, declines only when the whole balance is short, shows its sum, and every later move
 * of an authorization lands on the shard that holds it.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createBusiness, scanAllItems, useStackEnvironment, type ApiClient } from '../support/stack.ts';
import { propertySeed } from '../support/property-seed.ts';
import { seededRandom } from '../support/seeded-random.ts';

interface Partner {
  businessId: string;
  client: ApiClient;
}

async function fundedPartner(name: string, amount: string): Promise<Partner> {
  const business = await createBusiness(name);
  const client = api(business.api_key);
  const topUp = await client.post('/v1/simulate/topups', { currency: 'USD', amount });
  expect(topUp.status, topUp.text).toBe(201);
  return { businessId: business.business_id, client };
}

async function cards(partner: Partner, count: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const card = await partner.client.post('/v1/cards', { mode: 'B2B' });
      expect(card.status, card.text).toBe(201);
      return card.body.id as string;
    }),
  );
}

const authorize = (partner: Partner, cardId: string, amount: string) =>
  partner.client.post('/v1/simulate/authorizations', { card_id: cardId, amount, currency: 'USD', merchant_name: 'Escrow' });

async function usd(partner: Partner): Promise<{ available: string; pending: string }> {
  const balances = await partner.client.get('/v1/balances');
  expect(balances.status).toBe(200);
  return balances.body.data.find((b: { currency: string }) => b.currency === 'USD');
}

/** The business's escrow items as stored: shard number -> available and pending (minor units). */
async function escrowItems(businessId: string): Promise<Map<number, { available: bigint; pending: bigint }>> {
  const items = (await scanAllItems()).filter((item) => String(item.PK).startsWith(`ESCROW#${businessId}#USD#`));
  return new Map(items.map((item) => [Number(String(item.escrowShard)), { available: BigInt(String(item.available)), pending: BigInt(String(item.pending)) }]));
}

/**
 * Moves a balance out of the pool into shards: each small hold whose shard is empty refills it with
 * an even share of the balance; releasing the holds returns only their cents to the pool.
 */
async function spreadOverShards(partner: Partner, cardIds: string[], holds = 8): Promise<void> {
  const ids: string[] = [];
  for (let i = 0; i < holds; i++) {
    const auth = await authorize(partner, cardIds[i % cardIds.length]!, '0.01');
    expect(auth.body.status, auth.text).toBe('Authorized');
    ids.push(auth.body.id);
  }
  for (const id of ids) expect((await partner.client.post(`/v1/simulate/authorizations/${id}/reverse`, {})).status).toBe(200);
}

const cents = (text: string) => BigInt(Math.round(Number(text) * 100));

describe('escrow sub-balances of a business balance', () => {
  beforeAll(() => useStackEnvironment());

  it('200 concurrent authorizations over a balance spread across shards never overspend, and decline only when the whole balance is short', async () => {
    const random = seededRandom(propertySeed);
    const partner = await fundedPartner('Escrow concurrency', '500');
    const cardIds = await cards(partner, 10);
    // Spread the balance first: small holds fill shards from the pool; releasing them leaves the money there.
    await spreadOverShards(partner, cardIds, 12);
    const before = await escrowItems(partner.businessId);
    expect([...before.values()].filter((shard) => shard.available > 0n).length, `seed ${propertySeed}`).toBeGreaterThanOrEqual(2);
    expect(await usd(partner)).toEqual({ currency: 'USD', available: '500', pending: '0' });

    // About twice the balance asked at once, in amounts from 0.01 to 9.99.
    const amounts = Array.from({ length: 200 }, () => `${Math.floor(random() * 9)}.${String(1 + Math.floor(random() * 99)).padStart(2, '0')}`);
    const results = await Promise.all(amounts.map((amount, i) => authorize(partner, cardIds[i % cardIds.length]!, amount)));
    const context = `seed ${propertySeed}: ${results.filter((r) => r.status !== 201).map((r) => r.text).join(' | ')}`;
    expect(results.every((r) => r.status === 201), context).toBe(true);
    const approved = results.filter((r) => r.body.status === 'Authorized');
    const declined = results.filter((r) => r.body.status === 'Declined');
    expect(approved.length + declined.length).toBe(200);
    for (const r of declined) expect(r.body.decline_reason, context).toBe('insufficient_balance');
    const spent = approved.reduce((sum, r) => sum + cents(r.body.transaction_amount.replace('-', '')), 0n);
    expect(spent <= 50_000n, `${context}: approved ${spent} of 50000`).toBe(true);
    const after = await usd(partner);
    expect(cents(after.available), context).toBe(50_000n - spent);
    expect(cents(after.pending), context).toBe(spent);
    // Declines only when the whole balance was short: the balance only fell during the burst, so
    // every declined amount is more than what is left now.
    if (declined.length > 0) {
      const smallestDeclined = declined.reduce((min, r) => (cents(r.body.transaction_amount.replace('-', '')) < min ? cents(r.body.transaction_amount.replace('-', '')) : min), 10_000n);
      expect(cents(after.available) < smallestDeclined, `${context}: ${after.available} left, yet ${smallestDeclined} declined`).toBe(true);
    }
    // No shard went below zero, and the items sum to what GET /v1/balances says.
    const shards = await escrowItems(partner.businessId);
    for (const [shard, item] of shards) {
      expect(item.available >= 0n && item.pending >= 0n, `${context}: shard ${shard}`).toBe(true);
    }
    const { runLedgerAudit } = await import('../../shared/services/ledger-audit.ts');
    const report = await runLedgerAudit();
    expect(report.findings.filter((finding) => finding.kind !== 'unbalanced_posting' && 'account' in finding && finding.account.includes(partner.businessId)), context).toEqual([]);
  });

  it('settles, reverses and increments on the shard the authorization holds on', async () => {
    const partner = await fundedPartner('Escrow moves', '100');
    const [cardId] = await cards(partner, 1);
    const auth = await authorize(partner, cardId!, '10');
    expect(auth.body.status, auth.text).toBe('Authorized');
    const held = (await scanAllItems()).find((item) => item.PK === `TXN#${auth.body.id}`)!;
    const shard = Number(String(held.escrowShard));
    expect(Number.isInteger(shard)).toBe(true);
    const pendingOn = async () => (await escrowItems(partner.businessId)).get(shard)!.pending;
    expect(await pendingOn()).toBe(1_000n);

    expect((await partner.client.post(`/v1/simulate/authorizations/${auth.body.id}/increment`, { amount: '5' })).status).toBe(200);
    expect(await pendingOn()).toBe(1_500n);
    expect((await partner.client.post(`/v1/simulate/authorizations/${auth.body.id}/reverse`, { amount: '3' })).status).toBe(200);
    expect(await pendingOn()).toBe(1_200n);
    const settle = await partner.client.post(`/v1/simulate/authorizations/${auth.body.id}/settle`, { amount: '12' });
    expect(settle.status, settle.text).toBe(200);
    expect(await pendingOn()).toBe(0n);
    expect(await usd(partner)).toEqual({ currency: 'USD', available: '88', pending: '0' });
    // No other shard holds anything pending.
    for (const item of (await escrowItems(partner.businessId)).values()) expect(item.pending).toBe(0n);
  });

  it('declines one cent more than the whole balance and approves exactly the whole balance, gathered from every shard', async () => {
    const partner = await fundedPartner('Escrow gather', '20');
    const cardIds = await cards(partner, 4);
    await spreadOverShards(partner, cardIds);
    expect((await authorize(partner, cardIds[0]!, '20.01')).body.decline_reason).toBe('insufficient_balance');
    const all = await authorize(partner, cardIds[1]!, '20');
    expect(all.body.status).toBe('Authorized');
    expect(await usd(partner)).toEqual({ currency: 'USD', available: '0', pending: '20' });
  });

  it('a forced debit takes what the shards hold first: once the balance is below zero, no shard approves', async () => {
    const partner = await fundedPartner('Escrow forced debit', '20');
    const cardIds = await cards(partner, 4);
    await spreadOverShards(partner, cardIds);
    // The network forces 25 on a balance of 20: it ends at -5, and no shard keeps anything to spend.
    const forced = await partner.client.post('/v1/simulate/settlements', { card_id: cardIds[0], network_settlement_id: randomUUID(), amount: '25', currency: 'USD', merchant_name: 'Forced' });
    expect(forced.status, forced.text).toBe(201);
    expect(await usd(partner)).toEqual({ currency: 'USD', available: '-5', pending: '0' });
    for (const [shard, item] of await escrowItems(partner.businessId)) expect(item.available, `shard ${shard}`).toBe(0n);
    for (const cardId of cardIds) expect((await authorize(partner, cardId, '0.01')).body.decline_reason).toBe('insufficient_balance');
    // A top-up of 10 leaves 5 to spend, and exactly 5.
    expect((await partner.client.post('/v1/simulate/topups', { currency: 'USD', amount: '10' })).status).toBe(201);
    expect((await authorize(partner, cardIds[1]!, '5.01')).body.decline_reason).toBe('insufficient_balance');
    expect((await authorize(partner, cardIds[2]!, '5')).body.status).toBe('Authorized');
    expect(await usd(partner)).toEqual({ currency: 'USD', available: '0', pending: '5' });
  });

  it('a hold released after a forced debit took the balance below zero goes back to the pool, not its shard: nothing to approve beyond the balance', async () => {
    const partner = await fundedPartner('Escrow release below zero', '20');
    const [cardId] = await cards(partner, 1);
    const hold = await authorize(partner, cardId!, '20');
    expect(hold.body.status, hold.text).toBe('Authorized');
    const forced = await partner.client.post('/v1/simulate/settlements', { card_id: cardId, network_settlement_id: randomUUID(), amount: '10', currency: 'USD', merchant_name: 'Forced' });
    expect(forced.status, forced.text).toBe(201);
    expect(await usd(partner)).toEqual({ currency: 'USD', available: '-10', pending: '20' });
    expect((await partner.client.post(`/v1/simulate/authorizations/${hold.body.id}/reverse`, {})).status).toBe(200);
    expect(await usd(partner)).toEqual({ currency: 'USD', available: '10', pending: '0' });
    for (const [shard, item] of await escrowItems(partner.businessId)) expect(item.available, `shard ${shard}`).toBe(0n);
    expect((await authorize(partner, cardId!, '10.01')).body.decline_reason).toBe('insufficient_balance');
    expect((await authorize(partner, cardId!, '10')).body.status).toBe('Authorized');
    expect(await usd(partner)).toEqual({ currency: 'USD', available: '0', pending: '10' });
  });

  it('a capture beyond its hold (a tip) takes the excess from available items, and the shard never goes below zero', async () => {
    const partner = await fundedPartner('Escrow over-capture', '100');
    const [cardId] = await cards(partner, 1);
    const auth = await partner.client.post('/v1/simulate/authorizations', { card_id: cardId, amount: '10', currency: 'USD', merchant_name: 'Diner', mcc: '5812' });
    expect(auth.body.status, auth.text).toBe('Authorized');
    // A restaurant may capture up to 20% over: 12 of a 10 hold.
    const settle = await partner.client.post(`/v1/simulate/authorizations/${auth.body.id}/settle`, { amount: '12' });
    expect(settle.status, settle.text).toBe(200);
    expect(await usd(partner)).toEqual({ currency: 'USD', available: '88', pending: '0' });
    for (const [shard, item] of await escrowItems(partner.businessId)) expect(item.available >= 0n && item.pending === 0n, `shard ${shard}`).toBe(true);
  });
});
