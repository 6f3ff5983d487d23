/**
 * Outbox events as the partner sees them (`GET /v1/events`) and as the delivery functions and the
 * sweeper record them: every attempt (time, status code or error, duration) is appended to the
 * event's own item, with the resulting delivery status.
 *
 * Attempts live on the event item, so listing events needs no second query. An item is capped at
 * 400 KB; the attempt list is capped at `MAX_RECORDED_ATTEMPTS` (a full 24 h retry cycle is 22)
 * and attempts past it only update the counters and status.
 *
 * The item is also where delivery is coordinated (shared/domain/webhook-delivery.ts): its
 * `generation` (deliveries asked for), the owner and lease of the current attempt (`claimedBy`,
 * `claimToken`, `claimUntil`), and, while it is undelivered, its keys in the sparse index the
 * sweeper reads (`GSI3PK`/`GSI3SK`, due time first). Every write that changes the status keeps
 * that index in step in the same update.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { storedTypeNames, type EventType } from '../domain/event-types.ts';
import {
  ATTEMPT_CLAIM_SECONDS,
  claimVerdict,
  deliveryStatusOf,
  generationOf,
  type ClaimVerdict,
  type DeliveryAttempt,
  type DeliveryStatus,
} from '../domain/webhook-delivery.ts';
import type { PageKey } from '../http/cursor.ts';
import { db, intAttr, tableName } from './client.ts';
import { idempotencyInProgress } from './idempotency-repository.ts';
import { eventKeys, UNDELIVERED_SHARDS, undeliveredPartition } from './keys.ts';
import { gsi1Shard, queryShardsNewestFirst, type Page } from './query-page.ts';
import { outboxEventOf, outboxItem, redeliveryItem, type OutboxEvent } from './outbox.ts';
import { transaction, type TransactItem } from './transact.ts';

export const MAX_RECORDED_ATTEMPTS = 100;

export interface StoredEvent extends OutboxEvent {
  deliveryStatus: DeliveryStatus;
  attemptCount: number;
  attempts: DeliveryAttempt[];
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  /** Deliveries asked for so far (1 at commit); the current one's messages carry it. */
  generation: number;
  /** Sweeps since the last attempt. */
  sweepCount: number;
  /** Its sort key in the undelivered index (`<due at>#<id>`), while it is undelivered. */
  undeliveredKey: string | null;
}

export async function getEvent(eventId: string): Promise<StoredEvent | undefined> {
  const result = await db().send(new GetCommand({ TableName: tableName(), Key: eventKeys.event(eventId), ConsistentRead: true }));
  return result.Item ? fromItem(result.Item) : undefined;
}

/**
 * One page of a business's events, newest first, merged from the list's write shards; with `type`,
 * only events of that type (under any name it was stored under), filtered after the read: the
 * types share the business's list partitions.
 */
export function listEventsOfBusiness(businessId: string, limit: number, startKey?: PageKey, type?: EventType): Promise<Page<StoredEvent>> {
  const names = type ? storedTypeNames(type) : [];
  const typeValues = Object.fromEntries(names.map((name, i) => [`:type${i}`, name]));
  return queryShardsNewestFirst(
    eventKeys.businessListPartitions(businessId),
    (partition, before) => {
      const shard = gsi1Shard(partition, before);
      return {
        ...shard,
        ...(type ? { FilterExpression: `#type IN (${Object.keys(typeValues).join(', ')})`, ExpressionAttributeNames: { '#type': 'type' } } : {}),
        ExpressionAttributeValues: { ...shard.ExpressionAttributeValues, ...typeValues },
      };
    },
    'GSI1SK',
    fromItem,
    limit,
    startKey,
  );
}

// ---------------------------------------------------------------------------------------------
// Attempts: claim, then record

export interface AttemptClaim {
  verdict: ClaimVerdict;
  /** Identifies this attempt's claim (its own write, if the SDK retried it). */
  token: string;
  /** When the claim that refused this one ends (`in_flight`). */
  claimUntilMs?: number;
}

/**
 * Claims the event for one attempt by the message `messageId` of delivery `generation`: the
 * condition holds only for the current generation, for its owner message (or the first to claim
 * it), while the event is undelivered and no other attempt holds the lease. A refusal reads the
 * item back with the failed write (no second request) and says why (`claimVerdict`).
 */
export async function claimAttempt(eventId: string, message: { generation: number; messageId: string }, nowMs: number): Promise<AttemptClaim> {
  const token = `${message.messageId}:${nowMs}:${Math.random().toString(36).slice(2)}`;
  const generation = generationIs(message.generation);
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: eventKeys.event(eventId),
        UpdateExpression: 'SET claimedBy = :message, claimToken = :token, claimUntil = :until',
        ConditionExpression: [
          'attribute_exists(PK)',
          generation.expression,
          STILL_UNDELIVERED,
          '(attribute_not_exists(claimedBy) OR claimedBy = :message)',
          '(attribute_not_exists(claimUntil) OR claimUntil < :now)',
        ].join(' AND '),
        ExpressionAttributeNames: { '#status': 'deliveryStatus' },
        ExpressionAttributeValues: {
          ...generation.values,
          ...STILL_UNDELIVERED_VALUES,
          ':message': message.messageId,
          ':token': token,
          ':until': nowMs + ATTEMPT_CLAIM_SECONDS * 1000,
          ':now': nowMs,
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { verdict: 'claimed', token };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const old = error.Item ? unmarshall(error.Item, { wrapNumbers: true }) : undefined;
    const state = old && {
      generation: generationOf(old.generation),
      status: deliveryStatusOf(old.deliveryStatus, typeof old.nextAttemptAt === 'string'),
      claimedBy: typeof old.claimedBy === 'string' ? old.claimedBy : undefined,
      claimToken: typeof old.claimToken === 'string' ? old.claimToken : undefined,
      claimUntilMs: old.claimUntil === undefined ? undefined : intAttr(old.claimUntil),
    };
    return { verdict: claimVerdict(state, { ...message, token }, nowMs), token, claimUntilMs: state?.claimUntilMs };
  }
}

export type AttemptResult =
  | { status: 'delivered'; deliveredAt: string }
  | { status: 'retrying'; nextAttemptAt: string }
  | { status: 'failed' };

/**
 * Appends an attempt to the event and, if the event is still at the attempt's generation, sets
 * the resulting status, moves or removes its undelivered-index keys and releases the claim. An
 * attempt overtaken by a partner's redelivery (which starts a new generation even while one is in
 * flight) is recorded, but decides nothing: the new generation delivers again, as asked.
 */
export async function recordAttempt(eventId: string, generation: number, attempt: DeliveryAttempt, result: AttemptResult): Promise<void> {
  let ownGeneration = true;
  let withAttempt = true;
  for (let round = 0; round < 3; round++) {
    try {
      await db().send(attemptUpdate(eventId, generation, attempt, result, { ownGeneration, withAttempt }));
      return;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const old = error.Item ? unmarshall(error.Item, { wrapNumbers: true }) : undefined;
      if (!old) throw new Error(`Event ${eventId} does not exist`);
      // Already written: the SDK retried a write whose response was lost.
      if (old.lastAttemptAt === attempt.attemptedAt) return;
      const overtaken: boolean = ownGeneration && generationOf(old.generation) !== generation;
      const full: boolean = withAttempt && intAttr(old.attemptCount) >= MAX_RECORDED_ATTEMPTS;
      if (!overtaken && !full) throw error;
      ownGeneration &&= !overtaken;
      withAttempt &&= !full;
    }
  }
}

function attemptUpdate(
  eventId: string,
  generation: number,
  attempt: DeliveryAttempt,
  result: AttemptResult,
  variant: { ownGeneration: boolean; withAttempt: boolean },
): UpdateCommand {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':one': 1, ':at': attempt.attemptedAt };
  const sets = ['lastAttemptAt = :at'];
  const removes: string[] = [];
  const conditions = ['attribute_exists(PK)', '(attribute_not_exists(lastAttemptAt) OR lastAttemptAt <> :at)'];
  if (variant.withAttempt) {
    sets.push('attempts = list_append(if_not_exists(attempts, :none), :attempt)');
    conditions.push('(attribute_not_exists(attemptCount) OR attemptCount < :cap)');
    Object.assign(values, { ':none': [], ':attempt': [attemptItem(attempt)], ':cap': MAX_RECORDED_ATTEMPTS });
  }
  if (variant.ownGeneration) {
    const same = generationIs(generation);
    conditions.push(same.expression);
    Object.assign(values, same.values, { ':status': result.status });
    names['#status'] = 'deliveryStatus';
    sets.push('#status = :status');
    removes.push('claimToken', 'claimUntil', 'sweepCount');
    if (result.status === 'retrying') {
      const index = eventKeys.undeliveredIndex(eventId, result.nextAttemptAt);
      sets.push('nextAttemptAt = :next', 'GSI3PK = :undeliveredPartition', 'GSI3SK = :undeliveredKey');
      Object.assign(values, { ':next': result.nextAttemptAt, ':undeliveredPartition': index.GSI3PK, ':undeliveredKey': index.GSI3SK });
    } else {
      removes.push('nextAttemptAt', 'GSI3PK', 'GSI3SK');
    }
    if (result.status === 'delivered') {
      sets.push('deliveredAt = :delivered');
      values[':delivered'] = result.deliveredAt;
    }
  }
  return new UpdateCommand({
    TableName: tableName(),
    Key: eventKeys.event(eventId),
    UpdateExpression: `SET ${sets.join(', ')} ADD attemptCount :one${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
    ConditionExpression: conditions.join(' AND '),
    ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
    ExpressionAttributeValues: values,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  });
}

/**
 * Settles an event of `generation` without an attempt: `failed` (an OTP past its expiry),
 * `no_webhook_url`. It leaves the undelivered index and releases any claim. False if a newer
 * generation was asked for meanwhile (which then decides).
 */
export async function settleEvent(eventId: string, generation: number, status: 'failed' | 'no_webhook_url'): Promise<boolean> {
  const same = generationIs(generation);
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: eventKeys.event(eventId),
        UpdateExpression: 'SET #status = :status REMOVE nextAttemptAt, GSI3PK, GSI3SK, claimToken, claimUntil, sweepCount',
        ConditionExpression: `attribute_exists(PK) AND ${same.expression}`,
        ExpressionAttributeNames: { '#status': 'deliveryStatus' },
        ExpressionAttributeValues: { ':status': status, ...same.values },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// New generations: a partner's redelivery, a sweep, a redrive

/**
 * Commits a partner's redelivery request (which the stream turns into a queued message) and
 * starts the event's next generation, atomically; only for an event of `businessId`, and only if
 * the event is still at the generation read (`event.generation`). Returns false when it moved on
 * meanwhile (the caller reads again). The new generation owns nothing and no claim: it is
 * delivered even if an attempt of the old one is in flight, as the partner asked.
 */
export async function requestRedelivery(event: StoredEvent, businessId: string, requestId: string, requestedAt: string): Promise<boolean> {
  const same = generationIs(event.generation);
  const index = eventKeys.undeliveredIndex(event.eventId, requestedAt);
  // The request id is fresh, so only the event's own condition can fail: the caller read this
  // event of this business consistently, so a failed condition means its generation moved on (an
  // attempt never changes it; a sweep, redrive or redelivery does).
  const result = await transaction<'moved'>()
    .add(redeliveryItem(event, event.generation + 1, requestId, requestedAt))
    .add(
      {
        Update: {
          TableName: tableName(),
          Key: eventKeys.event(event.eventId),
          UpdateExpression:
            'SET #status = :pending, generation = :next, GSI3PK = :undeliveredPartition, GSI3SK = :undeliveredKey ' +
            'REMOVE nextAttemptAt, claimedBy, claimToken, claimUntil, sweepCount',
          ConditionExpression: `businessId = :business AND ${same.expression}`,
          ExpressionAttributeNames: { '#status': 'deliveryStatus' },
          ExpressionAttributeValues: {
            ...same.values,
            ':pending': 'pending',
            ':next': event.generation + 1,
            ':business': businessId,
            ':undeliveredPartition': index.GSI3PK,
            ':undeliveredKey': index.GSI3SK,
          },
        },
      },
      'moved',
    )
    .commit();
  return result.committed;
}


export interface Requeue {
  /** The status it shows while queued again. */
  status: 'pending' | 'retrying';
  /** When the sweeper may take it again if nothing happened to it by then. */
  dueAt: string;
  sweepCount: number;
  nextAttemptAt: string | null;
  /** Sweeps only: the index key the sweeper read, so an attempt recorded since then wins. */
  seenUndeliveredKey?: string;
}

/**
 * Starts the event's next generation for a sweep or a redrive, which then queue one message of it.
 * Conditional on the generation read, on the event not being delivered (neither may send a
 * delivered event again) and on no attempt being in flight. False if any of that changed.
 */
export async function requeueEvent(event: StoredEvent, requeue: Requeue, nowMs: number): Promise<boolean> {
  const same = generationIs(event.generation);
  const index = eventKeys.undeliveredIndex(event.eventId, requeue.dueAt);
  const conditions = [
    'attribute_exists(PK)',
    same.expression,
    '#status <> :delivered',
    '(attribute_not_exists(claimUntil) OR claimUntil < :now)',
    ...(requeue.seenUndeliveredKey ? ['GSI3SK = :seen'] : []),
  ];
  const input: UpdateCommandInput = {
    TableName: tableName(),
    Key: eventKeys.event(event.eventId),
    UpdateExpression:
      'SET generation = :next, #status = :status, GSI3PK = :undeliveredPartition, GSI3SK = :undeliveredKey, sweepCount = :sweeps' +
      (requeue.nextAttemptAt ? ', nextAttemptAt = :nextAttempt' : '') +
      ` REMOVE claimedBy, claimToken, claimUntil${requeue.nextAttemptAt ? '' : ', nextAttemptAt'}`,
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: { '#status': 'deliveryStatus' },
    ExpressionAttributeValues: {
      ...same.values,
      ':next': event.generation + 1,
      ':status': requeue.status,
      ':delivered': 'delivered',
      ':now': nowMs,
      ':undeliveredPartition': index.GSI3PK,
      ':undeliveredKey': index.GSI3SK,
      ':sweeps': requeue.sweepCount,
      ...(requeue.nextAttemptAt ? { ':nextAttempt': requeue.nextAttemptAt } : {}),
      ...(requeue.seenUndeliveredKey ? { ':seen': requeue.seenUndeliveredKey } : {}),
    },
  };
  try {
    await db().send(new UpdateCommand(input));
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// The undelivered index

/**
 * Undelivered events due before `beforeIso`, oldest due first, at most `limitPerShard` from each
 * shard of the index. Eventually consistent, like every GSI read: the writes that act on what
 * it returns are conditional on what it showed.
 */
export async function listOverdueEvents(beforeIso: string, limitPerShard: number): Promise<StoredEvent[]> {
  const pages = await Promise.all(
    Array.from({ length: UNDELIVERED_SHARDS }, (_, shard) =>
      db().send(
        new QueryCommand({
          TableName: tableName(),
          IndexName: 'GSI3',
          KeyConditionExpression: 'GSI3PK = :partition AND GSI3SK < :before',
          ExpressionAttributeValues: { ':partition': undeliveredPartition(shard), ':before': beforeIso },
          ScanIndexForward: true,
          Limit: limitPerShard,
        }),
      ),
    ),
  );
  return pages.flatMap((page) => (page.Items ?? []).map(fromItem));
}

/**
 * Every undelivered event committed between two times (inclusive), from the whole index: for an
 * operator's redrive of the stream DLQ, whose records name a time window, not events. The index
 * holds only undelivered events, so reading it whole is bounded by the backlog, not the history.
 */
export async function listUndeliveredCommittedBetween(fromIso: string, toIso: string): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for (let shard = 0; shard < UNDELIVERED_SHARDS; shard++) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await db().send(
        new QueryCommand({
          TableName: tableName(),
          IndexName: 'GSI3',
          KeyConditionExpression: 'GSI3PK = :partition',
          FilterExpression: 'createdAt BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':partition': undeliveredPartition(shard), ':from': fromIso, ':to': toIso },
          ExclusiveStartKey: startKey,
        }),
      );
      events.push(...(page.Items ?? []).map(fromItem));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
  return events;
}

// ---------------------------------------------------------------------------------------------

/**
 * "This event is still at generation g". Events written before generations existed have none and
 * are at the first.
 */
function generationIs(generation: number): { expression: string; values: Record<string, unknown> } {
  return generation === 1
    ? { expression: '(attribute_not_exists(generation) OR generation = :generation)', values: { ':generation': 1 } }
    : { expression: 'generation = :generation', values: { ':generation': generation } };
}

/**
 * Still to deliver: pending or retrying, or, as written before `retrying` existed, `failed` with
 * a next attempt (shared/domain/webhook-delivery.ts `deliveryStatusOf`). Only those are claimed.
 */
const STILL_UNDELIVERED = '(#status IN (:pending, :retrying) OR attribute_exists(nextAttemptAt))';
const STILL_UNDELIVERED_VALUES = { ':pending': 'pending', ':retrying': 'retrying' };

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
  const attempts = Array.isArray(item.attempts) ? (item.attempts as Record<string, unknown>[]) : [];
  const nextAttemptAt = typeof item.nextAttemptAt === 'string' ? item.nextAttemptAt : null;
  return {
    ...event,
    deliveryStatus: deliveryStatusOf(item.deliveryStatus, nextAttemptAt !== null),
    attemptCount: intAttr(item.attemptCount),
    attempts: attempts.map((a) => ({
      attemptedAt: String(a.attemptedAt),
      statusCode: a.statusCode === undefined ? null : intAttr(a.statusCode),
      error: typeof a.error === 'string' ? a.error : null,
      durationMs: intAttr(a.durationMs),
    })),
    nextAttemptAt,
    deliveredAt: typeof item.deliveredAt === 'string' ? item.deliveredAt : null,
    generation: generationOf(item.generation),
    sweepCount: intAttr(item.sweepCount),
    undeliveredKey: typeof item.GSI3SK === 'string' ? item.GSI3SK : null,
  };
}

/**
 * Commits an event that reports no state change of its own (a test webhook) through the outbox,
 * like every other: the stream brings it to the dispatcher, which queues it for delivery. With the
 * `Idempotency-Key`'s answer in the same transaction, when there is one.
 */
export async function insertStandaloneEvent(event: OutboxEvent, idempotencyCompletion?: TransactItem): Promise<void> {
  const tx = transaction<'idempotency'>().add(outboxItem(event));
  if (idempotencyCompletion) tx.add(idempotencyCompletion, 'idempotency');
  const result = await tx.commit();
  if (!result.committed) throw idempotencyInProgress();
}
