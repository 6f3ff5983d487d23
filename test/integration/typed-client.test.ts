/**
 * The typed client (client/index.ts), used as a partner would against the local stack: every call
 * is typed by the generated description, answers come back as the described shapes, errors as the
 * described error body, and the webhooks it verifies are typed by their `type`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createPlatformClient, verifyWebhook, WebhookVerificationError, type PlatformClient, type Schema, type WebhookEvent } from '../../client/index.ts';
import { conformingFetch, localStack } from '../support/stack.ts';

let platform: PlatformClient;

beforeAll(async () => {
  const { apiBase, apiKey } = localStack();
  // Its exchanges are checked against openapi.json too.
  platform = createPlatformClient({ baseUrl: apiBase, apiKey, fetch: conformingFetch });
});

describe('the typed client', () => {
  it('issues a card, authorizes a purchase on it and reads the transaction, all typed', async () => {
    const topup = await platform.POST('/v1/simulate/topups', { body: { currency: 'USD', amount: '50' } });
    expect(topup.response.status).toBe(201);

    const created = await platform.POST('/v1/cards', { body: { mode: 'B2B', currency: 'USD', nickname: 'typed client' } });
    expect(created.error).toBeUndefined();
    const card: Schema<'Card'> = created.data!;
    expect(card).toMatchObject({ mode: 'B2B', currency: 'USD', status: 'Active', nickname: 'typed client' });

    const read = await platform.GET('/v1/cards/{id}', { params: { path: { id: card.id } } });
    expect(read.data).toEqual(card);

    const authorization = await platform.POST('/v1/simulate/authorizations', {
      body: { card_id: card.id, amount: '12.5', currency: 'USD', merchant_name: 'Typed Cafe', merchant_country: 'HK' },
    });
    expect(authorization.data).toMatchObject({ card: card.id, status: 'Authorized', local_amount: '-12.5' });

    const page = await platform.GET('/v1/cards/{id}/transactions', { params: { path: { id: card.id }, query: { limit: 5 } } });
    expect(page.data!.data.map((txn) => txn.id)).toEqual([authorization.data!.id]);
    expect(page.data!.next_cursor).toBeNull();
  });

  it('answers refusals as the described error body, with their code', async () => {
    const missing = await platform.GET('/v1/cards/{id}', { params: { path: { id: '00000000-0000-4000-8000-000000000000' } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error).toMatchObject({ error: { code: 'card_not_found' } });

    const invalid = await platform.POST('/v1/cards', { body: { mode: 'B2C', currency: 'USD' } });
    expect(invalid.response.status).toBe(400);
    expect(invalid.error!.error.code).toBe('validation_error');
    expect(invalid.error!.error.fields!.length).toBeGreaterThan(0);
  });

  it('reads the description and the event types it is generated from', async () => {
    const description = await platform.GET('/v1/openapi.json');
    expect(description.data!.openapi).toBe('3.1.0');
    const types = await platform.GET('/v1/event-types');
    expect(types.data!.data.map((entry) => entry.type)).toContain('transaction.authorization');
  });

  it("verifies a webhook's signature and types its payload by `type`; a tampered body or another secret is refused", async () => {
    // Real deliveries are verified with it in every webhook spec (test/support/webhook-receiver.ts
    // \`verifyWith\`); here, the refusals, on a body signed with the business's secret.
    const { webhookSecret } = localStack();
    const { Webhook } = await import('standardwebhooks');
    const body = JSON.stringify({ action: 'Settled', type: 'transaction.settlement', card_transaction: { id: 'x' } });
    const id = 'msg_typed_client';
    const timestamp = new Date();
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)), 'webhook-signature': new Webhook(webhookSecret).sign(id, timestamp, body) };

    const event: WebhookEvent = verifyWebhook(webhookSecret, body, headers);
    expect(event.type).toBe('transaction.settlement');
    if (event.type !== 'transaction.settlement') throw new Error('narrowed by type');
    expect(event.action).toBe('Settled');

    expect(() => verifyWebhook(webhookSecret, body.replace('Settled', 'Reversed'), headers)).toThrow(WebhookVerificationError);
    const otherSecret = `whsec_${Buffer.from('another secret, 32 bytes long!!!').toString('base64')}`;
    expect(() => verifyWebhook(otherSecret, body, headers)).toThrow(WebhookVerificationError);
    const stale = { ...headers, 'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000) - 600) };
    expect(() => verifyWebhook(webhookSecret, body, stale)).toThrow(WebhookVerificationError);
  });
});
