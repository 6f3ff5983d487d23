/**
 * Real-time authorization decisions over HTTP against the local stack, with a real local endpoint
 * that approves, declines, partially approves, answers slowly, answers 500 and answers garbage.
 * Each business here is its own (the endpoint is per business), so the shared sandbox business
 * of the other specs is never asked.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../client/index.ts';
import { api, createBusiness, type ApiClient } from '../support/stack.ts';

type Reply = { status?: number; body?: unknown; raw?: string; delayMs?: number };

interface Asked {
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let endpointUrl: string;
let reply: (asked: Asked) => Reply = () => ({ body: { approved: true } });
const asked: Asked[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      asked.push(request);
      const answer = reply(request);
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
        res.end(answer.raw ?? JSON.stringify(answer.body ?? {}));
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpointUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/decide`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A business with a funded USD balance, a card, and (optionally) its endpoint set. */
async function partner(settings?: { timeout_ms?: number; stand_in?: 'approve' | 'decline' }) {
  const business = await createBusiness('decisions');
  const client = api(business.api_key);
  expect((await client.post('/v1/simulate/topups', { currency: 'USD', amount: '1000' })).status).toBe(201);
  const card = await client.post('/v1/cards', { mode: 'B2B', currency: 'USD' });
  expect(card.status).toBe(201);
  let secret: string | undefined;
  if (settings) {
    const set = await client.put('/v1/authorization-endpoint', { url: endpointUrl, ...settings });
    expect(set.status).toBe(200);
    secret = set.body.secret;
  }
  return { client, cardId: card.body.id as string, secret: secret!, businessId: business.business_id };
}

function authorize(client: ApiClient, cardId: string, amount = '40') {
  return client.post('/v1/simulate/authorizations', { card_id: cardId, amount, currency: 'USD', merchant_name: 'Decided Shop', merchant_country: 'HK' });
}

describe('the authorization endpoint', () => {
  it('is set (secret shown once), read (no secret), rotated (a new secret) and deleted', async () => {
    const { client } = await partner();
    expect((await client.get('/v1/authorization-endpoint')).status).toBe(404);
    const set = await client.put('/v1/authorization-endpoint', { url: endpointUrl });
    expect(set.body).toEqual({ url: endpointUrl, timeout_ms: 1500, stand_in: 'decline', secret: expect.stringMatching(/^whsec_/) });
    const changed = await client.put('/v1/authorization-endpoint', { url: endpointUrl, timeout_ms: 300, stand_in: 'approve' });
    expect(changed.body).toEqual({ url: endpointUrl, timeout_ms: 300, stand_in: 'approve' });
    expect((await client.get('/v1/authorization-endpoint')).body).toEqual({ url: endpointUrl, timeout_ms: 300, stand_in: 'approve' });
    const rotated = await client.post('/v1/authorization-endpoint/rotate-secret');
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(set.body.secret);
    expect((await client.delete('/v1/authorization-endpoint')).status).toBe(200);
    expect((await client.get('/v1/authorization-endpoint')).status).toBe(404);
  });

  it('refuses bad settings: a timeout out of 100-2500, an unknown stand-in, a URL that is not http(s)', async () => {
    const { client } = await partner();
    for (const body of [
      { url: endpointUrl, timeout_ms: 99 },
      { url: endpointUrl, timeout_ms: 2501 },
      { url: endpointUrl, stand_in: 'maybe' },
      { url: 'ftp://example.com/decide' },
    ]) {
      const response = await client.put('/v1/authorization-endpoint', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe('an authorization with an endpoint set', () => {
  it('is asked with a signed authorization.request (Pending, with the balance), and approved by the partner', async () => {
    const { client, cardId, secret } = await partner({ timeout_ms: 2000 });
    asked.length = 0;
    reply = () => ({ body: { approved: true, metadata: { risk: 'low' } } });
    const approved = await authorize(client, cardId);
    expect(approved.status).toBe(201);
    expect(approved.body).toMatchObject({ status: 'Authorized', decision: { source: 'partner' }, metadata: { risk: 'low' } });
    expect(asked).toHaveLength(1);
    const request = verifyWebhook(secret, asked[0]!.body, asked[0]!.headers as Record<string, string>) as unknown as Record<string, any>;
    expect(request.type).toBe('authorization.request');
    expect(request.card_transaction).toMatchObject({ card: cardId, status: 'Pending', local_amount: '-40' });
    expect(request.balance).toEqual({ currency: 'USD', available: '1000' });
    // The decision is on the transaction as read later, too.
    const read = await client.get(`/v1/transactions/${approved.body.id}`);
    expect(read.body.decision).toEqual(approved.body.decision);
  });

  it('declines as the partner says, with its reason, and holds nothing', async () => {
    const { client, cardId } = await partner({ timeout_ms: 2000 });
    reply = () => ({ body: { approved: false, decline_reason: 'velocity_rule_7' } });
    const declined = await authorize(client, cardId);
    expect(declined.body).toMatchObject({ status: 'Declined', decline_reason: 'partner_declined', partner_reason: 'velocity_rule_7', decision: { source: 'partner' } });
    expect((await client.get('/v1/balances')).body.data).toContainEqual({ currency: 'USD', available: '1000', pending: '0' });
  });

  it('holds only a partial approval', async () => {
    const { client, cardId } = await partner({ timeout_ms: 2000 });
    reply = () => ({ body: { approved: true, amount: '25.5' } });
    const partial = await authorize(client, cardId, '40');
    expect(partial.body).toMatchObject({ status: 'Authorized', approved_amount: '-25.5', decision: { source: 'partner' } });
    expect((await client.get('/v1/balances')).body.data).toContainEqual({ currency: 'USD', available: '974.5', pending: '25.5' });
  });

  it.each([
    ['answers 500', { status: 500, body: { approved: true } }, 'status_500'],
    ['answers garbage', { raw: '<html>not json</html>' }, 'invalid_answer'],
    ['answers an approval above the request', { body: { approved: true, amount: '40.01' } }, 'amount_above_request'],
    ['answers a malformed body', { body: { approved: 'yes' } }, 'invalid_answer'],
  ] as const)('applies the stand-in when the endpoint %s', async (_name, answer, reason) => {
    const declining = await partner({ timeout_ms: 2000, stand_in: 'decline' });
    reply = () => answer;
    const declined = await authorize(declining.client, declining.cardId);
    expect(declined.body).toMatchObject({ status: 'Declined', decline_reason: 'stand_in_declined', decision: { source: 'stand_in', reason } });

    const approving = await partner({ timeout_ms: 2000, stand_in: 'approve' });
    const approved = await authorize(approving.client, approving.cardId);
    expect(approved.body).toMatchObject({ status: 'Authorized', decision: { source: 'stand_in', reason } });
  });

  it('records the platform as the decider when the partner approved but the balance is short', async () => {
    const { client, cardId } = await partner({ timeout_ms: 2000 });
    reply = () => ({ body: { approved: true } });
    const short = await authorize(client, cardId, '1000.01');
    expect(short.body).toMatchObject({ status: 'Declined', decline_reason: 'insufficient_balance', decision: { source: 'platform' } });
  });

  it('applies the stand-in at the timeout, and never the late answer', async () => {
    const { client, cardId, businessId } = await partner({ timeout_ms: 300, stand_in: 'decline' });
    reply = () => ({ body: { approved: true }, delayMs: 1200 });
    const started = Date.now();
    const declined = await authorize(client, cardId);
    const took = Date.now() - started;
    expect(declined.body).toMatchObject({ status: 'Declined', decline_reason: 'stand_in_declined', decision: { source: 'stand_in', reason: 'timeout' } });
    // Within the budget plus the platform's own time, well before the late answer.
    expect(took).toBeLessThan(1200);
    // The late approval arrives later and changes nothing.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const read = await client.get(`/v1/transactions/${declined.body.id}`);
    expect(read.body).toMatchObject({ status: 'Declined', decline_reason: 'stand_in_declined' });
    expect(businessId).toBeTruthy();
  });

  it('is not asked when the platform declines first, nor once the endpoint is deleted', async () => {
    const { client, cardId } = await partner({ timeout_ms: 2000 });
    asked.length = 0;
    reply = () => ({ body: { approved: true } });
    expect((await client.put(`/v1/cards/${cardId}/limits`, { transaction: '10', daily: '0', monthly: '0', lifetime: '0' })).status).toBe(200);
    const tooMuch = await authorize(client, cardId, '40');
    expect(tooMuch.body).toMatchObject({ status: 'Declined', decline_reason: 'exceeds_transaction_limit', decision: { source: 'platform' } });
    expect((await client.put(`/v1/cards/${cardId}/limits`, { transaction: '0', daily: '0', monthly: '0', lifetime: '0' })).status).toBe(200);
    expect((await client.post(`/v1/cards/${cardId}/lock`)).status).toBe(200);
    const locked = await authorize(client, cardId);
    expect(locked.body).toMatchObject({ status: 'Declined', decline_reason: 'card_locked', decision: { source: 'platform' } });
    expect((await client.post(`/v1/cards/${cardId}/unlock`)).status).toBe(200);
    expect((await client.delete('/v1/authorization-endpoint')).status).toBe(200);
    // The authorization path's cache of the endpoint lives 5 s.
    await new Promise((resolve) => setTimeout(resolve, 5_100));
    const alone = await authorize(client, cardId);
    expect(alone.body).toMatchObject({ status: 'Authorized', decision: { source: 'platform' } });
    // The platform declined the first two before asking, and the last after the endpoint was gone.
    expect(asked.filter((request) => JSON.parse(request.body).card_transaction.card === cardId)).toHaveLength(0);
  });

  it('is neither asked nor opened by force posts and refunds, even as the first calls for the business', async () => {
    // Their rows may not open the endpoint's secret (shared/routes.ts): reading the business for
    // its timezone must not try to, or the first force post or refund after a cold start fails.
    for (const first of ['/v1/simulate/settlements', '/v1/simulate/refunds']) {
      const { client, cardId } = await partner({ timeout_ms: 2000 });
      asked.length = 0;
      reply = () => ({ body: { approved: true } });
      const body = { card_id: cardId, amount: '5', currency: 'USD', merchant_name: 'Posted Shop', merchant_country: 'HK' };
      const posted = await client.post(first, { ...body, ...(first.endsWith('refunds') ? { network_refund_id: `rf-${cardId}` } : { network_settlement_id: `fp-${cardId}` }) });
      expect(posted.status, `${first}: ${posted.text}`).toBe(201);
      expect(asked).toHaveLength(0);
      // The authorization path still finds the endpoint and asks it.
      expect((await authorize(client, cardId)).body).toMatchObject({ status: 'Authorized', decision: { source: 'partner' } });
      expect(asked).toHaveLength(1);
    }
  });
});
