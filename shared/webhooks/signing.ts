/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com), made with the spec's own
 * reference library. `webhook-id` is the event id, identical on every retry and redelivery, so a
 * receiver can drop duplicates; `webhook-timestamp` is the attempt's time, so a captured request
 * cannot be replayed later than the receiver's tolerance.
 *
 * While a rotated-out secret is still valid, the request carries one signature per secret
 * (space-separated, as the spec allows), so a receiver still on the old secret keeps verifying.
 */
import { Webhook } from 'standardwebhooks';

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export function signWebhook(secrets: readonly string[], webhookId: string, at: Date, body: string): SignedHeaders {
  if (secrets.length === 0) throw new Error('No webhook secret to sign with');
  const signatures = secrets.map((secret) => new Webhook(secret).sign(webhookId, at, body));
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
