/**
 * The transactional outbox. A handler never sends to SQS after committing: the event is an item
 * written in the same `TransactWriteItems` as the state change it reports (with its delivery
 * record, `outboxEntries`), and the table's stream carries it to the dispatcher, which routes it to
 * its queue. A crash between commit and enqueue therefore loses nothing (invariant 6).
 *
 * The event id is the Standard Webhooks `webhook-id`: stable across every retry and redelivery.
 */
import { config } from '../config.ts';
import { eventTypeOf, type EventType } from '../domain/event-types.ts';
import { generationOf } from '../domain/webhook-delivery.ts';
import { intAttr, tableName } from './client.ts';
import { eventKeys } from './keys.ts';
import type { TaggedItem, TransactItem } from './transact.ts';
import type { QueueName } from '../routes.ts';

export interface OutboxEvent {
  eventId: string;
  businessId: string;
  /** The payload's `type` (shared/domain/event-types.ts); events stored under a legacy name read as its successor. */
  type: EventType;
  queue: QueueName;
  /** The webhook body, serialized once so every delivery sends the same bytes. */
  payload: string;
  createdAt: string;
  /** Seconds since the epoch after which delivery is pointless (an expired OTP). */
  deliverUntil?: number;
  /**
   * 3DS only: the one-time code, envelope-encrypted for the delivery function, which adds it to
   * `payload` when it POSTs. The code is never at rest in clear: not here, not in `payload`.
   */
  otpSealed?: string;
}

/**
 * A webhook message: the event, and the delivery generation it was queued for (see
 * shared/domain/webhook-delivery.ts): a consumer whose message is of an older generation than the
 * event's acks it without a POST.
 */
export interface QueuedEvent extends OutboxEvent {
  generation: number;
}

/** The first generation: what the commit itself asks for. */
export const FIRST_GENERATION = 1;

/** Encryption context of a sealed OTP: it opens only as the code of this event of this business. */
export function otpSealContext(event: { businessId: string; eventId: string }): Record<string, string> {
  return { business_id: event.businessId, event_id: event.eventId, purpose: 'otp' };
}

/**
 * The outbox items of `event`, for the transaction that commits the change it reports: the event
 * itself (the webhook, written once: it is what `GET /v1/events` lists, in the business's list
 * index) and its delivery record (shared/db/events-repository.ts), undelivered from the start and
 * due at once, in the sparse index the sweeper reads: if the stream never brings the event to a
 * queue, the sweeper finds it there. Every attempt writes the small delivery record, never the
 * event, so a busy business's list index is written once per event (README "Capacity"). The event
 * item says so (`deliveryRecord`): a writer that finds it follows the state to the record.
 *
 * With `WRITE_FORMAT` release2 (the deploy that upgrades from release 2), one item, as release 2
 * wrote it: the event with its delivery state and undelivered-index keys.
 */
export function outboxEntries(event: OutboxEvent): TaggedItem<never>[] {
  const eventItem = { ...eventKeys.event(event.eventId), ...eventKeys.businessListIndex(event.businessId, event.eventId), entity: 'event', ...eventFields(event) };
  const undelivered = {
    ...eventKeys.undeliveredIndex(event.eventId, event.createdAt),
    deliveryStatus: 'pending',
    attemptCount: 0,
    generation: FIRST_GENERATION,
  };
  const put = (Item: Record<string, unknown>): TaggedItem<never> => ({ item: { Put: { TableName: tableName(), Item, ConditionExpression: 'attribute_not_exists(PK)' } } });
  if (config().WRITE_FORMAT === 'release2') return [put({ ...eventItem, ...undelivered })];
  return [
    put({ ...eventItem, ...HANDED_TO_RECORD }),
    put({ ...eventKeys.delivery(event.eventId), entity: DELIVERY_ENTITY, eventId: event.eventId, businessId: event.businessId, createdAt: event.createdAt, ...undelivered }),
  ];
}

/**
 * What marks an event item whose delivery state is on its record: `deliveryRecord`, which this
 * release's writes check, and a generation no delivery ever has, which fails every condition of a
 * release-2 function (they hold only for the generation they act on, 1 when absent).
 */
export const HANDED_TO_RECORD = { deliveryRecord: true, generation: 0 } as const;

/** The `entity` of an event's delivery record (not an outbox insert: the dispatcher's stream filter passes it by). */
export const DELIVERY_ENTITY = 'webhook_delivery';

/** Redelivery requests are only needed until the stream has carried them (24 h retention). */
const REDELIVERY_TTL_SECONDS = 2 * 24 * 60 * 60;

/**
 * A partner's redelivery request, committed instead of sending to SQS from the API handler: an
 * insert under the event's partition (its `entity` passes the dispatcher's stream filter) that
 * carries the event as first committed, so the queued message is the same event with the same
 * `webhook-id`, for the delivery generation the request starts. It has no list-index keys: it is
 * not an event of its own.
 */
export function redeliveryItem(event: OutboxEvent, generation: number, requestId: string, requestedAt: string): TransactItem {
  return {
    Put: {
      TableName: tableName(),
      Item: {
        ...eventKeys.redelivery(event.eventId, requestId),
        entity: 'event_redelivery',
        ...eventFields(event),
        generation,
        requestedAt,
        expiresAt: Math.floor(Date.now() / 1000) + REDELIVERY_TTL_SECONDS,
      },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}

function eventFields(event: OutboxEvent) {
  return {
    eventId: event.eventId,
    businessId: event.businessId,
    type: event.type,
    queue: event.queue,
    payload: event.payload,
    createdAt: event.createdAt,
    deliverUntil: event.deliverUntil,
    otpSealed: event.otpSealed,
  };
}

/** The message that queues `event` for delivery `generation`: the event as committed, nothing of its record. */
export function queuedEvent(event: OutboxEvent, generation: number): QueuedEvent {
  const { eventId, businessId, type, queue, payload, createdAt, deliverUntil, otpSealed } = event;
  return {
    eventId,
    businessId,
    type,
    queue,
    payload,
    createdAt,
    ...(deliverUntil !== undefined ? { deliverUntil } : {}),
    ...(otpSealed !== undefined ? { otpSealed } : {}),
    generation,
  };
}

/** The message an outbox item (an event, or a redelivery request) asks the dispatcher to queue. */
export function queuedEventOf(item: Record<string, unknown>): QueuedEvent | undefined {
  const event = outboxEventOf(item);
  return event && { ...event, generation: generationOf(item.generation) };
}

/**
 * The event an outbox item (an event, or a redelivery request) carries, from its stored attributes
 * (a stream image, unmarshalled). Undefined for any other item.
 */
export function outboxEventOf(item: Record<string, unknown>): OutboxEvent | undefined {
  if (item.entity !== 'event' && item.entity !== 'event_redelivery') return undefined;
  const deliverUntil = item.deliverUntil === undefined || item.deliverUntil === null ? undefined : intAttr(item.deliverUntil);
  return {
    eventId: String(item.eventId),
    businessId: String(item.businessId),
    type: eventTypeOf(item.type),
    queue: String(item.queue) as QueueName,
    payload: String(item.payload),
    createdAt: String(item.createdAt),
    ...(deliverUntil !== undefined ? { deliverUntil } : {}),
    ...(typeof item.otpSealed === 'string' ? { otpSealed: item.otpSealed } : {}),
  };
}
