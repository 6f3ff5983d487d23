/**
 * Outbox events as the partner sees them (`GET /v1/events`) and as the delivery functions record
 * them: every attempt (time, status code or error, duration) is appended to the event's own item,
 * with the resulting delivery status.
 *
 * Attempts live on the event item, so listing events needs no second query. An item is capped at
 * 400 KB; the attempt list is capped at `MAX_RECORDED_ATTEMPTS` (a full 24 h retry cycle is 22)
 * and attempts past it only update the counters and status.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DELIVERY_STATUSES, type DeliveryAttempt, type DeliveryStatus } from '../domain/webhook-delivery.ts';
import { notFound } from '../errors.ts';
import type { PageKey } from '../http/cursor.ts';
import { db, intAttr, tableName } from './client.ts';
import { eventKeys } from './keys.ts';
import { GSI1_KEY, queryNewestFirst, type Page } from './query-page.ts';
import { outboxEventOf, redeliveryItem, type OutboxEvent } from './outbox.ts';
import { transactWrite } from './transact.ts';

export const MAX_RECORDED_ATTEMPTS = 100;

export interface StoredEvent extends OutboxEvent {
  deliveryStatus: DeliveryStatus;
  attemptCount: number;
  attempts: DeliveryAttempt[];
  nextAttemptAt: string | null;
  deliveredAt: string | null;
}

export async function getEvent(eventId: string): Promise<StoredEvent | undefined> {
  const result = await db().send(new GetCommand({ TableName: tableName(), Key: eventKeys.event(eventId), ConsistentRead: true }));
  return result.Item ? fromItem(result.Item) : undefined;
}

/** One page of a business's events, newest first. */
export function listEventsOfBusiness(businessId: string, limit: number, startKey?: PageKey): Promise<Page<StoredEvent>> {
  return queryNewestFirst(
    { IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :partition', ExpressionAttributeValues: { ':partition': eventKeys.businessListPartition(businessId) } },
    GSI1_KEY,
    fromItem,
    limit,
    startKey,
  );
}

export interface AttemptResult {
  status: DeliveryStatus;
  /** When the next attempt is due (status `failed`). */
  nextAttemptAt?: string;
  /** Set on success. */
  deliveredAt?: string;
}

/** Appends an attempt to the event and sets its delivery status. */
export async function recordAttempt(eventId: string, attempt: DeliveryAttempt, result: AttemptResult): Promise<void> {
  const names: Record<string, string> = { '#status': 'deliveryStatus' };
  const values: Record<string, unknown> = { ':status': result.status, ':one': 1, ':at': attempt.attemptedAt };
  const sets = ['#status = :status', 'lastAttemptAt = :at'];
  const removes: string[] = [];
  if (result.nextAttemptAt) {
    sets.push('nextAttemptAt = :next');
    values[':next'] = result.nextAttemptAt;
  } else {
    removes.push('nextAttemptAt');
  }
  if (result.deliveredAt) {
    sets.push('deliveredAt = :delivered');
    values[':delivered'] = result.deliveredAt;
  }
  const update = (withAttempt: boolean) => {
    const expression = `SET ${[...sets, ...(withAttempt ? ['attempts = list_append(if_not_exists(attempts, :none), :attempt)'] : [])].join(', ')} ADD attemptCount :one${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`;
    return new UpdateCommand({
      TableName: tableName(),
      Key: eventKeys.event(eventId),
      UpdateExpression: expression,
      ConditionExpression: withAttempt ? 'attribute_exists(PK) AND (attribute_not_exists(attemptCount) OR attemptCount < :cap)' : 'attribute_exists(PK)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: withAttempt
        ? { ...values, ':none': [], ':attempt': [attemptItem(attempt)], ':cap': MAX_RECORDED_ATTEMPTS }
        : values,
    });
  };
  try {
    await db().send(update(true));
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    // The list is full (or the event is gone, which the second update reports).
    await db().send(update(false));
  }
}

/** Sets the delivery status without an attempt (no webhook URL; an expired OTP; a redrive). */
export async function setDeliveryStatus(eventId: string, status: DeliveryStatus): Promise<void> {
  await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: eventKeys.event(eventId),
      UpdateExpression: 'SET #status = :status REMOVE nextAttemptAt',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeNames: { '#status': 'deliveryStatus' },
      ExpressionAttributeValues: { ':status': status },
    }),
  );
}

/**
 * Commits a redelivery request (which the stream turns into a queued message) and marks the
 * event pending again, atomically; only for an event of `businessId`.
 */
export async function requestRedelivery(event: StoredEvent, businessId: string, requestId: string, requestedAt: string): Promise<void> {
  await transactWrite(
    [
      redeliveryItem(event, requestId, requestedAt),
      {
        Update: {
          TableName: tableName(),
          Key: eventKeys.event(event.eventId),
          UpdateExpression: 'SET #status = :pending REMOVE nextAttemptAt',
          ConditionExpression: 'businessId = :business',
          ExpressionAttributeNames: { '#status': 'deliveryStatus' },
          ExpressionAttributeValues: { ':pending': 'pending', ':business': businessId },
        },
      },
    ],
    { onConditionFailed: () => notFound('event') },
  );
}

function attemptItem(attempt: DeliveryAttempt): Record<string, unknown> {
  return {
    attemptedAt: attempt.attemptedAt,
    statusCode: attempt.statusCode ?? undefined,
    error: attempt.error ?? undefined,
    durationMs: attempt.durationMs,
  };
}

function fromItem(item: Record<string, unknown>): StoredEvent {
  const event = outboxEventOf(item);
  if (!event) throw new Error(`Item ${String(item.PK)} is not an event`);
  const status = String(item.deliveryStatus);
  const attempts = Array.isArray(item.attempts) ? (item.attempts as Record<string, unknown>[]) : [];
  return {
    ...event,
    deliveryStatus: (DELIVERY_STATUSES as readonly string[]).includes(status) ? (status as DeliveryStatus) : 'pending',
    attemptCount: intAttr(item.attemptCount),
    attempts: attempts.map((a) => ({
      attemptedAt: String(a.attemptedAt),
      statusCode: a.statusCode === undefined ? null : intAttr(a.statusCode),
      error: typeof a.error === 'string' ? a.error : null,
      durationMs: intAttr(a.durationMs),
    })),
    nextAttemptAt: typeof item.nextAttemptAt === 'string' ? item.nextAttemptAt : null,
    deliveredAt: typeof item.deliveredAt === 'string' ? item.deliveredAt : null,
  };
}
