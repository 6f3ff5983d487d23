/**
 * The partner's view of its webhooks: `GET /v1/events` (each event with its type, payload,
 * delivery status and every attempt) and `POST /v1/events/{id}/redeliver`.
 */
import type { ListEventsQuery } from '../domain/events.ts';
import { newId } from '../domain/ids.ts';
import { nowIso } from '../domain/time.ts';
import { eventView, type EventView } from '../domain/webhook-delivery.ts';
import { ConflictError, notFound, ServiceUnavailableError } from '../errors.ts';
import { decodeCursor, encodeCursor } from '../http/cursor.ts';
import { respond, type HttpResult } from '../http/responses.ts';
import { getEvent, listEventsOfBusiness, requestRedelivery } from '../db/events-repository.ts';

export interface EventList {
  data: EventView[];
  next_cursor: string | null;
}

/** `GET /v1/events`, newest first. */
export async function listEvents(businessId: string, query: ListEventsQuery): Promise<EventList> {
  const scope = { businessId, list: 'events' };
  const page = await listEventsOfBusiness(businessId, query.limit, await decodeCursor(scope, query.cursor));
  return { data: page.items.map(eventView), next_cursor: await encodeCursor(scope, page.lastKey) };
}

/**
 * `POST /v1/events/{id}/redeliver`: queues the event again, with the same `webhook-id`.
 *
 * The handler commits a redelivery request (an outbox insert the dispatcher routes, see
 * shared/db/outbox.ts) instead of sending to SQS itself: starting the event's next delivery
 * generation and queueing it are then one commit. The new generation supersedes any message still
 * waiting for a retry, so a redelivery during a retry schedule is one delivery, not two. An OTP
 * past its expiry is not sent again: the code could no longer be used.
 */
export async function redeliverEvent(businessId: string, eventId: string): Promise<HttpResult<EventView>> {
  // The commit is conditional on the generation read; a sweep or another redelivery in between
  // moves it on, and the request is made again on what they left.
  for (let round = 0; round < MAX_REDELIVERY_ROUNDS; round++) {
    const event = await getEvent(eventId);
    if (!event || event.businessId !== businessId) throw notFound('event');
    if (event.deliverUntil !== undefined && Date.now() >= event.deliverUntil * 1000) {
      throw new ConflictError('event_expired', 'This event expired (a 3DS code is only valid for 5 minutes); it cannot be redelivered.');
    }
    if (await requestRedelivery(event, businessId, newId(), nowIso())) {
      return respond(202, eventView({ ...event, deliveryStatus: 'pending', nextAttemptAt: null }));
    }
  }
  throw new ServiceUnavailableError();
}

const MAX_REDELIVERY_ROUNDS = 5;
