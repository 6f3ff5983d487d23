/**
 * The typed TypeScript client of the platform's API, generated from `openapi.json`:
 *
 * - `createPlatformClient({ baseUrl, apiKey })`: an openapi-fetch client whose paths, parameters,
 *   bodies and answers are the types `npm run openapi` generated (`./schema.d.ts`);
 * - `WebhookEvent`: the union of every webhook payload, discriminated by `type`;
 * - `verifyWebhook(secret, body, headers)`: checks a delivery's Standard Webhooks signature and
 *   timestamp, and returns its typed payload.
 *
 *   const platform = createPlatformClient({ baseUrl: 'https://api.example.com/sandbox', apiKey });
 *   const { data, error } = await platform.POST('/v1/cards', { body: { mode: 'B2B', currency: 'USD' } });
 *
 * The integration tests use it (test/integration/typed-client.test.ts and the webhook receiver),
 * so it is exercised against the local stack on every run.
 */
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import type { components, paths, webhooks } from './schema.d.ts';

export type { components, paths, webhooks };
/** A named schema of the API: `Schema<'Card'>`, `Schema<'CardTransaction'>`, ... */
export type Schema<N extends keyof components['schemas']> = components['schemas'][N];

export interface PlatformClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** The stage's base URL, e.g. `https://<api>.execute-api.<region>.amazonaws.com/sandbox` or `http://localhost:3000`. */
  baseUrl: string;
  /** The business API key (or the card network's / chain watcher's credential for their routes). */
  apiKey: string;
}

export type PlatformClient = Client<paths>;

export function createPlatformClient({ baseUrl, apiKey, headers, ...options }: PlatformClientOptions): PlatformClient {
  return createClient<paths>({
    ...options,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: { ...(headers as Record<string, string> | undefined), authorization: `Bearer ${apiKey}` },
  });
}

type WebhookPayloadOf<K extends keyof webhooks> = webhooks[K] extends { post: { requestBody?: { content: { 'application/json': infer P } } } } ? P : never;

/** Every webhook payload the platform sends, discriminated by `type`. */
export type WebhookEvent = { [K in keyof webhooks]: WebhookPayloadOf<K> }[keyof webhooks];
export type WebhookEventType = WebhookEvent['type'];

export { WebhookVerificationError };

/**
 * Verifies a webhook delivery as received (the raw body text and its `webhook-id`,
 * `webhook-timestamp` and `webhook-signature` headers) with the endpoint's `whsec_...` secret, and
 * returns its payload. Throws `WebhookVerificationError` when the signature does not match or the
 * timestamp is more than 5 minutes off. During a secret rotation, try the new secret, then the old.
 */
export function verifyWebhook(secret: string, body: string, headers: Record<string, string | string[] | undefined>): WebhookEvent {
  const one = (name: string) => {
    const value = headers[name] ?? headers[name.toLowerCase()];
    return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
  };
  const signed = { 'webhook-id': one('webhook-id'), 'webhook-timestamp': one('webhook-timestamp'), 'webhook-signature': one('webhook-signature') };
  return new Webhook(secret).verify(body, signed) as WebhookEvent;
}
