import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret } from '../../../shared/crypto/credentials.ts';
import { signWebhook } from '../../../shared/webhooks/signing.ts';

describe('webhook signatures', () => {
  const body = '{"action":"Authorization"}';

  it('follow Standard Webhooks: the reference library verifies them', () => {
    const secret = generateWebhookSecret();
    const at = new Date();
    const headers = signWebhook([secret], 'evt-1', at, body);
    expect(headers['webhook-id']).toBe('evt-1');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(at.getTime() / 1000)));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual({ action: 'Authorization' });
  });

  it('carry one signature per secret during a rotation, each verifying on its own', () => {
    const [current, previous] = [generateWebhookSecret(), generateWebhookSecret()];
    const headers = signWebhook([current, previous], 'evt-2', new Date(), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const secret of [current, previous]) expect(new Webhook(secret).verify(body, { ...headers })).toBeDefined();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, { ...headers })).toThrow();
  });

  it('do not verify a changed body', () => {
    const secret = generateWebhookSecret();
    const headers = signWebhook([secret], 'evt-3', new Date(), body);
    expect(() => new Webhook(secret).verify('{"action":"Settled"}', { ...headers })).toThrow();
  });
});
