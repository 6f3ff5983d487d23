/**
 * Webhook self-service: the business reads and sets its webhook URL, rotates its signing secret and
 * asks for a test delivery, with its API key. The rules are the operator's (shared/services/
 * businesses.ts): the same URL check, the same 24 h overlap of the old and new secret.
 */
import { eventView, type EventView } from '../domain/webhook-delivery.ts';
import type { EventPayload } from '../domain/event-types.ts';
import { newId } from '../domain/ids.ts';
import { nowIso } from '../domain/time.ts';
import { ApiError } from '../errors.ts';
import { requireBusiness, type StoredBusiness } from '../db/businesses-repository.ts';
import { insertStandaloneEvent } from '../db/events-repository.ts';
import type { IdempotencyScope } from '../db/idempotency-repository.ts';
import type { OutboxEvent } from '../db/outbox.ts';
import { rotateWebhookSecret as rotateSecret, setWebhookUrl } from './businesses.ts';

export interface WebhookEndpointView {
  url: string | null;
  previous_secret_valid_until: string | null;
}

function endpointView(business: StoredBusiness, now = Date.now()): WebhookEndpointView {
  const until = business.previousWebhookSecretExpiresAt;
  return {
    url: business.webhookUrl ?? null,
    previous_secret_valid_until: business.previousWebhookSecretSealed && until && Date.parse(until) > now ? until : null,
  };
}

/** `GET /v1/webhook-endpoint` */
export async function getWebhookEndpoint(businessId: string): Promise<WebhookEndpointView> {
  return endpointView(await requireBusiness(businessId));
}

/** `PUT /v1/webhook-endpoint` */
export async function setWebhookEndpoint(businessId: string, url: string): Promise<WebhookEndpointView> {
  await setWebhookUrl(businessId, url);
  return endpointView(await requireBusiness(businessId));
}

/** `POST /v1/webhook-endpoint/rotate-secret`: the new secret, shown once. */
export async function rotateWebhookSecret(businessId: string): Promise<{ webhook_secret: string; previous_secret_valid_until: string }> {
  const rotated = await rotateSecret(businessId);
  return { webhook_secret: rotated.webhook_secret, previous_secret_valid_until: rotated.previous_secret_valid_until };
}

/** `POST /v1/webhook-endpoint/test`: a `webhook.test` event, committed to the outbox like any other. */
export async function sendTestWebhook(businessId: string, idempotency?: IdempotencyScope): Promise<EventView> {
  const business = await requireBusiness(businessId);
  if (!business.webhookUrl) throw new ApiError('webhook_url_not_set');
  const createdAt = nowIso();
  const payload: EventPayload<'webhook.test'> = { type: 'webhook.test', p_business_id: businessId, p_created_at: createdAt };
  const event: OutboxEvent = { eventId: newId(), businessId, type: payload.type, queue: 'events', payload: JSON.stringify(payload), createdAt };
  const view = eventView({ ...event, deliveryStatus: 'pending', attemptCount: 0, attempts: [], nextAttemptAt: null, deliveredAt: null });
  await insertStandaloneEvent(event, idempotency?.completionItem(view));
  return view;
}
