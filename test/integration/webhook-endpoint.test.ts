/**
 * Webhook self-service over HTTP, the way a partner uses it with its API key: set the URL, send a
 * test event, rotate the secret, and check on a real receiver (test/support/webhook-receiver.ts)
 * that deliveries verify with the old secret and with the new one during the 24 h overlap.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createBusiness, type ApiClient } from '../support/stack.ts';
import { startWebhookReceiver, verifyWith, webhookId, type WebhookReceiver } from '../support/webhook-receiver.ts';

let receiver: WebhookReceiver;
let partner: ApiClient;
let originalSecret: string;
const PATH = `/hooks-${randomUUID()}`;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  const business = await createBusiness(`webhook-self-service-${randomUUID()}`);
  partner = api(business.api_key);
  originalSecret = business.webhook_secret;
});

afterAll(async () => {
  await receiver?.stop();
});

async function sendTest(): Promise<{ id: string; delivery: Awaited<ReturnType<WebhookReceiver['waitFor']>> }> {
  const sent = await partner.post('/v1/webhook-endpoint/test');
  expect(sent.status, sent.text).toBe(202);
  expect(sent.body).toMatchObject({ type: 'webhook.test', delivery_status: 'pending', payload: { type: 'webhook.test' } });
  const delivery = await receiver.waitFor(PATH, (request) => webhookId(request) === sent.body.id);
  return { id: sent.body.id, delivery };
}

describe('/v1/webhook-endpoint', () => {
  it('starts with no URL, and refuses a test event until one is set', async () => {
    const endpoint = await partner.get('/v1/webhook-endpoint');
    expect(endpoint.status).toBe(200);
    expect(endpoint.body).toEqual({ url: null, previous_secret_valid_until: null });
    const refused = await partner.post('/v1/webhook-endpoint/test');
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('webhook_url_not_set');
  });

  it('refuses a URL the operator path refuses', async () => {
    for (const url of ['ftp://example.com/hooks', 'https://user:secret@example.com/hooks', 'hooks']) {
      const refused = await partner.put('/v1/webhook-endpoint', { url });
      expect(refused.status, url).toBe(400);
      expect(refused.body.error.code, url).toBe('invalid_webhook_url');
    }
  });

  it('sets the URL, and delivers a signed webhook.test event there through the outbox', async () => {
    const set = await partner.put('/v1/webhook-endpoint', { url: receiver.url(PATH) });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ url: receiver.url(PATH), previous_secret_valid_until: null });
    expect((await partner.get('/v1/webhook-endpoint')).body.url).toBe(receiver.url(PATH));

    const { id, delivery } = await sendTest();
    const payload = verifyWith([originalSecret], delivery);
    expect(payload).toMatchObject({ type: 'webhook.test', p_created_at: expect.any(String) });
    // Listed with the business's events, delivered, and found by its type.
    await expect.poll(async () => (await partner.get(`/v1/events/${id}`)).body.delivery_status, { timeout: 15_000 }).toBe('delivered');
    const listed = await partner.get('/v1/events?type=webhook.test');
    expect(listed.body.data.map((event: { id: string }) => event.id)).toContain(id);
    const types = await partner.get('/v1/event-types');
    expect(types.body.data.map((entry: { type: string }) => entry.type)).toContain('webhook.test');
  });

  it('rotates the secret: the new one is shown once, and both sign deliveries during the overlap', async () => {
    const before = Date.now();
    const rotated = await partner.post('/v1/webhook-endpoint/rotate-secret');
    expect(rotated.status).toBe(200);
    expect(rotated.body).toEqual({ webhook_secret: expect.stringMatching(/^whsec_/), previous_secret_valid_until: expect.any(String) });
    expect(rotated.body.webhook_secret).not.toBe(originalSecret);
    expect(Date.parse(rotated.body.previous_secret_valid_until) - before).toBeGreaterThan(23.9 * 3600_000);
    const endpoint = await partner.get('/v1/webhook-endpoint');
    expect(endpoint.body.previous_secret_valid_until).toBe(rotated.body.previous_secret_valid_until);
    expect(endpoint.text).not.toContain(rotated.body.webhook_secret.slice(6));

    const { delivery } = await sendTest();
    expect(String(delivery.headers['webhook-signature']).split(' ')).toHaveLength(2);
    // A receiver still on the old secret, and one already on the new, both accept it.
    expect(verifyWith([originalSecret], delivery)).toMatchObject({ type: 'webhook.test' });
    expect(verifyWith([rotated.body.webhook_secret], delivery)).toMatchObject({ type: 'webhook.test' });
    expect(() => verifyWith([`whsec_${Buffer.alloc(32, 7).toString('base64')}`], delivery)).toThrow();
  });

  it('keeps no replay of a rotation (its answer is the secret): the same Idempotency-Key rotates again, and the newest secret signs', async () => {
    const key = randomUUID();
    const first = await partner.post('/v1/webhook-endpoint/rotate-secret', undefined, { 'Idempotency-Key': key });
    const again = await partner.post('/v1/webhook-endpoint/rotate-secret', undefined, { 'Idempotency-Key': key });
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(again.body.webhook_secret).not.toBe(first.body.webhook_secret);
    const { delivery } = await sendTest();
    // Both rotations' secrets sign (the second retired the one before the first at once).
    verifyWith([again.body.webhook_secret], delivery);
    verifyWith([first.body.webhook_secret], delivery);
  });
});
