/**
 * The partner's view of its webhooks: `GET /v1/events` (each event with its type, payload,
 * delivery status and every attempt, optionally of one type), `GET /v1/events/{id}`,
 * `POST /v1/events/{id}/redeliver`, and the catalogue of event types (`GET /v1/event-types`).
 */
import { eventTypeCatalogue, type EventTypeView } from '../domain/event-types.ts';
import type { ListEventsQuery } from '../domain/events.ts';
import { newId } from '../domain/ids.ts';
import { nowIso } from '../domain/time.ts';
import { eventView, type EventView } from '../domain/webhook-delivery.ts';
import { ApiError, notFound } from '../errors.ts';
import { decodeCursor, listPage, type ListPage } from '../http/cursor.ts';
import { respond, type HttpResult } from '../http/responses.ts';
import { getEvent, listEventsOfBusiness, requestRedelivery } from '../db/events-repository.ts';

export type EventList = ListPage<EventView>;

/** `GET /v1/events?type=`, newest first. */
export async function listEvents(businessId: string, query: ListEventsQuery): Promise<EventList> {
  const scope = { businessId, list: `events?type=${query.type ?? ''}` };
  const page = await listEventsOfBusiness(businessId, query.limit, await decodeCursor(scope, query.cursor), query.type);
  return listPage(scope, page.items.map(eventView), page.lastKey);
}

/** `GET /v1/events/{id}`; another business's event is a 404 like a missing one. */
export async function getEventView(businessId: string, eventId: string): Promise<EventView> {
  const event = await getEvent(eventId);
  if (!event || event.businessId !== businessId) throw notFound('event');
  return eventView(event);
}

/** `GET /v1/event-types`: the same catalogue for every business. */
export async function listEventTypes(): Promise<{ data: EventTypeView[] }> {
  return { data: eventTypeCatalogue() };
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
      throw new ApiError('event_expired');
    }
    if (await requestRedelivery(event, businessId, newId(), nowIso())) {
      return respond(202, eventView({ ...event, deliveryStatus: 'pending', nextAttemptAt: null }));
    }
  }
  throw new ApiError('service_unavailable');
}

const MAX_REDELIVERY_ROUNDS = 5;
