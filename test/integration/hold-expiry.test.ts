/**
 * The hold-expiry sweeper against a local stack of its own (its clock is moved on by days, which
 * would expire the holds of every other suite on the shared stack): holds past their expiry are
 * released (status Expired, balance and windows given back, an `Expired` webhook), by MCC (7 days,
 * 30 for lodging), never twice, never one that was captured, reversed or extended first. The local
 * stack runs the same sweeper on a timer, as EventBridge does in AWS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const DAY_MS = 86_400_000;

let stack: LocalStack;
let receiver: WebhookReceiver;
let sweeper: typeof import('../../shared/services/hold-expiry.ts');

beforeAll(async () => {
  stack = await startLocalStack({ inMemory: true, port: 0, quiet: true, scheduleIntervalMs: 1_000 });
  receiver = await startWebhookReceiver({ eventTypesFrom: { apiBase: stack.apiBase, apiKey: stack.credentials.api_key } });
  const businesses = await import('../../shared/services/businesses.ts');
  await businesses.setWebhookUrl(stack.credentials.business_id, receiver.url('/expiry'));
  sweeper = await import('../../shared/services/hold-expiry.ts');
  expect((await call('POST', '/v1/simulate/topups', { currency: 'USD', amount: '1000' })).status).toBe(201);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await receiver?.stop();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${stack.apiBase}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.credentials.api_key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function authorize(cardId: string, amount: string, mcc: string) {
  const response = await call('POST', '/v1/simulate/authorizations', { card_id: cardId, amount, currency: 'USD', mcc, merchant_name: 'Hold' });
  expect(response.body.status).toBe('Authorized');
  return response.body.id as string;
}

async function usd() {
  const response = await call('GET', '/v1/balances');
  return response.body.data.find((b: { currency: string }) => b.currency === 'USD');
}

describe('the hold-expiry sweeper', () => {
  it('runs in the local stack on a timer, like the EventBridge rule in AWS', () => {
    expect(Object.keys(stack.pollers.byName)).toContain('transactions/expire-holds');
  });

  it('releases holds past their expiry by MCC, once, and leaves captured, reversed and extended ones alone', async () => {
    const card = await call('POST', '/v1/cards', { mode: 'B2B', currency: 'USD' });
    const cardId = card.body.id as string;
    const shop = await authorize(cardId, '10', '5999');
    const hotel = await authorize(cardId, '200', '7011');
    const captured = await authorize(cardId, '5', '5999');
    const reversed = await authorize(cardId, '6', '5999');
    const extended = await authorize(cardId, '7', '5999');
    expect((await call('POST', `/v1/simulate/authorizations/${captured}/settle`, {})).status).toBe(200);
    expect((await call('POST', `/v1/simulate/authorizations/${reversed}/reverse`, {})).status).toBe(200);
    expect(await usd()).toMatchObject({ available: '778', pending: '217' });

    // Nothing is due yet: the timer's runs (every second here) have expired nothing.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await sweeper.expireDueHolds(Date.now())).toMatchObject({ due: 0, expired: 0 });

    // The extended hold is incremented, which starts its 7 days again from now: a sweep just
    // before that is due releases the others of its age, and leaves it alone.
    const increment = await call('POST', `/v1/simulate/authorizations/${extended}/increment`, { amount: '1' });
    expect(increment.status).toBe(200);
    const incrementedExpiry = Date.parse(increment.body.hold_expires_at);
    expect(incrementedExpiry).toBeGreaterThan(Date.parse((await call('GET', `/v1/transactions/${shop}`)).body.hold_expires_at) + 1_000);

    const sevenDays = await sweeper.expireDueHolds(incrementedExpiry - 500);
    expect(sevenDays).toMatchObject({ expired: 1, failed: 0 });
    const shopTxn = await call('GET', `/v1/transactions/${shop}`);
    expect(shopTxn.body).toMatchObject({ status: 'Expired', held_amount: '0' });
    expect((await call('GET', `/v1/transactions/${hotel}`)).body.status).toBe('Authorized');
    expect((await call('GET', `/v1/transactions/${extended}`)).body.status).toBe('Authorized');
    expect(await usd()).toMatchObject({ available: '787', pending: '208' });
    await receiver.waitFor('/expiry', (request) => {
      const body = JSON.parse(request.body);
      return body.action === 'Expired' && body.type === 'transaction.expiry' && body.card_transaction.id === shop;
    });

    // A second run finds nothing more (the expired hold left the index).
    expect(await sweeper.expireDueHolds(incrementedExpiry - 500)).toMatchObject({ due: 0, expired: 0 });

    const weekOn = await sweeper.expireDueHolds(Date.now() + 8 * DAY_MS);
    expect(weekOn).toMatchObject({ expired: 1, failed: 0 });
    expect((await call('GET', `/v1/transactions/${extended}`)).body.status).toBe('Expired');
    expect((await call('GET', `/v1/transactions/${hotel}`)).body.status).toBe('Authorized');

    const monthOn = await sweeper.expireDueHolds(Date.now() + 31 * DAY_MS);
    expect(monthOn).toMatchObject({ expired: 1, failed: 0 });
    expect((await call('GET', `/v1/transactions/${hotel}`)).body.status).toBe('Expired');
    expect(await usd()).toMatchObject({ available: '995', pending: '0' });
    const spend = await call('GET', `/v1/cards/${cardId}/spend`);
    expect(spend.body.daily.spent).toBe('5');

    // The hotel captures its expired authorization late: it posts.
    const late = await call('POST', `/v1/simulate/authorizations/${hotel}/settle`, { amount: '180' });
    expect(late.body).toMatchObject({ status: 'Settled', final_local_amount: '-180' });
    expect(await usd()).toMatchObject({ available: '815', pending: '0' });
  }, 60_000);

  it('expires holds of an earlier release once index-transactions gives them their expiry, and lets a late capture post in parts', async () => {
    const card = await call('POST', '/v1/cards', { mode: 'B2B', currency: 'USD' });
    const cardId = card.body.id as string;
    const shop = await authorize(cardId, '10', '5999');
    const hotel = await authorize(cardId, '20', '7011');
    const before = await usd();

    // As a hold of the previous release was stored: no expiry, not in the expiry index.
    const { db, tableName } = await import('../../shared/db/client.ts');
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    for (const id of [shop, hotel]) {
      await db().send(new UpdateCommand({ TableName: tableName(), Key: { PK: `TXN#${id}`, SK: 'TXN' }, UpdateExpression: 'REMOVE holdExpiresAt, GSI4PK, GSI4SK' }));
    }
    expect((await sweeper.expireDueHolds(Date.now() + 40 * DAY_MS)).expired).toBe(0);
    expect((await call('GET', `/v1/transactions/${shop}`)).body.status).toBe('Authorized');

    const { indexOlderTransactions } = await import('../../shared/services/transactions.ts');
    expect(await indexOlderTransactions()).toMatchObject({ expiring: 2 });
    expect(await indexOlderTransactions()).toMatchObject({ expiring: 0 });
    const dated = (await call('GET', `/v1/transactions/${hotel}`)).body;
    expect(Date.parse(dated.hold_expires_at) - Date.parse(dated.p_created_at)).toBe(30 * DAY_MS);

    expect(await sweeper.expireDueHolds(Date.now() + 8 * DAY_MS)).toMatchObject({ expired: 1, failed: 0 });
    expect((await call('GET', `/v1/transactions/${shop}`)).body.status).toBe('Expired');
    expect(await sweeper.expireDueHolds(Date.now() + 31 * DAY_MS)).toMatchObject({ expired: 1, failed: 0 });
    expect(await usd()).toMatchObject({ available: String(Number(before.available) + 30), pending: String(Number(before.pending) - 30) });

    // The shop captures late, in two parts: the final one takes what the expiry released and the
    // first did not, once (10 in all, never 4 + 10).
    const part = await call('POST', `/v1/simulate/authorizations/${shop}/settle`, { amount: '4', final: false });
    expect(part.body).toMatchObject({ status: 'Expired', final_local_amount: '-4' });
    const rest = await call('POST', `/v1/simulate/authorizations/${shop}/settle`, {});
    expect(rest.body).toMatchObject({ status: 'Settled', final_local_amount: '-10' });
    expect(await usd()).toMatchObject({ available: String(Number(before.available) + 20), pending: String(Number(before.pending) - 30) });
  }, 60_000);
});
