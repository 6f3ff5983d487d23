/**
 * The transactional outbox. A handler never sends to SQS after committing: the event is an item
 * written in the same `TransactWriteItems` as the state change it reports, and the table's stream
 * carries it to the dispatcher, which routes it to its queue. A crash between commit and enqueue
 * therefore loses nothing (invariant 6).
 *
 * The event id is the Standard Webhooks `webhook-id`: stable across every retry and redelivery.
 */
import { tableName } from './client.ts';
import { eventKeys } from './keys.ts';
import type { TransactItem } from './transact.ts';
import type { QueueName } from '../../functions/routes.ts';

export type EventType = 'transaction.authorization' | 'transaction.reversal' | 'transaction.settlement' | 'deposit' | 'three_ds.otp';

export interface OutboxEvent {
  eventId: string;
  businessId: string;
  type: EventType;
  queue: QueueName;
  /** The webhook body, serialized once so every delivery sends the same bytes. */
  payload: string;
  createdAt: string;
  /** Seconds since the epoch after which delivery is pointless (an expired OTP). */
  deliverUntil?: number;
}

export function outboxItem(event: OutboxEvent): TransactItem {
  return {
    Put: {
      TableName: tableName(),
      Item: {
        ...eventKeys.event(event.eventId),
        ...eventKeys.businessListIndex(event.businessId, event.eventId),
        entity: 'event',
        eventId: event.eventId,
        businessId: event.businessId,
        type: event.type,
        queue: event.queue,
        payload: event.payload,
        createdAt: event.createdAt,
        deliverUntil: event.deliverUntil,
        deliveryStatus: 'pending',
        attemptCount: 0,
      },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}
