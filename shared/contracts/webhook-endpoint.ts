/**
 * The business's own webhook endpoint: its URL, its signing secret's rotation, and a test delivery.
 * The operator's admin commands (`set-webhook-url`, `rotate-webhook-secret`) do the same; these let
 * the partner do it with its API key.
 */
import * as z from '../zod.ts';
import { operation } from './operation.ts';
import { Event } from './resources.ts';

const WebhookEndpoint = z
  .object({
    url: z.nullable(z.string()).check(z.meta({ description: 'Where every event is POSTed; null while none is set.' })),
    previous_secret_valid_until: z
      .nullable(z.iso.datetime())
      .check(z.meta({ description: 'While a rotated-out secret still signs deliveries (besides the current one): until when; null otherwise.' })),
  })
  .check(z.meta({ id: 'WebhookEndpoint', description: "The business's webhook URL (never its secret)." }));

export const SetWebhookEndpointBody = z.object({
  url: z.string().check(z.minLength(1), z.maxLength(2048), z.meta({ description: 'https on a public host (http://localhost is allowed in the local stack).' })),
});

const RotatedWebhookSecret = z
  .object({
    webhook_secret: z.string().check(z.meta({ description: 'The new signing secret (`whsec_...`), shown this once.' })),
    previous_secret_valid_until: z.iso.datetime().check(z.meta({ description: 'Until when the secret it replaces keeps signing too (24 h).' })),
  })
  .check(z.meta({ id: 'RotatedWebhookSecret', description: 'The new webhook signing secret.' }));

/**
 * What the rotation and the test take: nothing. Strict, so a body meant for another route (or a
 * client's mistake) is refused before it changes a secret, rather than silently ignored.
 */
const NoOptions = z.strictObject({}).check(z.meta({ description: 'No options: send `{}` or no body.' }));

const TAG = 'Webhook endpoint';

export const getWebhookEndpoint = operation({
  id: 'getWebhookEndpoint',
  method: 'GET',
  path: '/v1/webhook-endpoint',
  credential: 'business',
  tag: TAG,
  summary: 'Get the webhook URL (never the secret)',
  status: 200,
  response: WebhookEndpoint,
  errors: [],
});

export const setWebhookEndpoint = operation({
  id: 'setWebhookEndpoint',
  method: 'PUT',
  path: '/v1/webhook-endpoint',
  credential: 'business',
  tag: TAG,
  summary: 'Set the webhook URL',
  description: 'The same rules as the operator\'s: https on a public host in production, checked again at every delivery.',
  body: SetWebhookEndpointBody,
  status: 200,
  response: WebhookEndpoint,
  errors: ['invalid_webhook_url'],
});

export const rotateWebhookSecret = operation({
  id: 'rotateWebhookSecret',
  method: 'POST',
  path: '/v1/webhook-endpoint/rotate-secret',
  credential: 'business',
  tag: TAG,
  summary: 'Rotate the webhook signing secret (the old one keeps signing for 24 h)',
  description:
    'Each delivery carries one `v1,` signature per valid secret, so a receiver checking either secret accepts it while it deploys the new one. A second rotation within the 24 h retires the first old secret at once. ' +
    'The new secret is shown once and kept only sealed for the functions that sign deliveries, never in a replay record, so `Idempotency-Key` is not kept: a repeat rotates again (deploy the newest secret; deliveries that fail verification meanwhile are retried).',
  body: NoOptions,
  idempotent: false,
  status: 200,
  response: RotatedWebhookSecret,
  errors: ['webhook_secret_changed'],
});

export const sendTestWebhook = operation({
  id: 'sendTestWebhook',
  method: 'POST',
  path: '/v1/webhook-endpoint/test',
  credential: 'business',
  tag: TAG,
  summary: 'Send a signed `webhook.test` event to the webhook URL',
  description: 'Delivered through the same queue, signing and retries as every event; its delivery shows in `GET /v1/events/{id}`.',
  body: NoOptions,
  status: 202,
  response: Event,
  errors: ['webhook_url_not_set'],
});
