/**
 * Outbox events as the partner sees them (`GET /v1/events`) and as the delivery functions and the
 * sweeper record them. An event is two items of its partition `EVENT#<id>`, both written by the
 * commit that reports it (shared/db/outbox.ts):
 *
 * - the event (`SK=EVENT`): type, payload, times; in the business's list index; written once.
 * - its delivery record (`SK=DELIVERY`): the status, every attempt (time, status code or error,
 *   duration), and how delivery is coordinated (shared/domain/webhook-delivery.ts): its
 *   `generation` (deliveries asked for), the owner and lease of the current attempt (`claimedBy`,
 *   `claimToken`, `claimUntil`), and, while it is undelivered, its keys in the sparse index the
 *   sweeper reads (`GSI3PK`/`GSI3SK`, due time first). Every write that changes the status keeps
 *   that index in step in the same update.
 *
 * Splitting them keeps the list index of a busy business written once per event: a claim and a
 * recorded attempt write the small record, not the event and its payload (README "Capacity").
 * Reading an event is one query of its partition; a list page reads its records in one batch.
 *
 * Events committed before the split keep their delivery state on the event item. They read as they
 * are; the first write to their delivery (a claim, a sweep, a redelivery) moves the state to a
 * record of its own, atomically (`moveDeliveryOffEvent`), and then writes it there. With
 * `WRITE_FORMAT` release2 (the deploy that upgrades from release 2, when release-2 functions may
 * still run), nothing is moved and new events carry their state too (shared/db/outbox.ts); writes
 * go to the event item unless it is marked `deliveryRecord` (a function with it on made a record),
 * and then to the record.
 *
 * The attempt list is capped at `MAX_RECORDED_ATTEMPTS` (a full 24 h retry cycle is 22); attempts
 * past it only update the counters and status.
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
import { getItemsConsistently } from './batch-get.ts';
import { db, intAttr, tableName } from './client.ts';
import { idempotencyInProgress } from './idempotency-repository.ts';
import { config } from '../config.ts';
import { eventKeys, UNDELIVERED_SHARDS, undeliveredPartition, type ItemKey } from './keys.ts';
import { gsi1Shard, queryShardsNewestFirst, type Page } from './query-page.ts';
import { DELIVERY_ENTITY, HANDED_TO_RECORD, outboxEntries, outboxEventOf, redeliveryItem, type OutboxEvent } from './outbox.ts';
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
  /** Committed before delivery records: its state is still on the event item (moved on the first write). */
  deliveryOnEvent: boolean;
}

/** The event and its delivery record: one strongly consistent query of the event's partition. */
export async function getEvent(eventId: string): Promise<StoredEvent | undefined> {
  const { PK, SK: eventSK } = eventKeys.event(eventId);
  const deliverySK = eventKeys.delivery(eventId).SK;
  // A query is not isolated from a transaction: one that moved the state between the two items'
  // reads shows an event marked as having a record and no record. Read again.
  for (let round = 0; ; round++) {
    const result = await db().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk AND SK BETWEEN :delivery AND :event',
        ExpressionAttributeValues: { ':pk': PK, ':delivery': deliverySK, ':event': eventSK },
        ConsistentRead: true,
      }),
    );
    const items = result.Items ?? [];
    const event = items.find((item) => item.SK === eventSK);
    const record = items.find((item) => item.SK === deliverySK);
    if (event?.deliveryRecord === true && !record && round < 2) continue;
    return event && storedEvent(event, record);
  }
}

/**
 * One page of a business's events, newest first, merged from the list's write shards; with `type`,
 * only events of that type (under any name it was stored under), filtered after the read: the
 * types share the business's list partitions.
 */
export async function listEventsOfBusiness(businessId: string, limit: number, startKey?: PageKey, type?: EventType): Promise<Page<StoredEvent>> {
  const names = type ? storedTypeNames(type) : [];
  const typeValues = Object.fromEntries(names.map((name, i) => [`:type${i}`, name]));
  const page = await queryShardsNewestFirst(
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
    (item) => item,
    limit,
    startKey,
  );
  const records = await getItemsConsistently(page.items.map((item) => eventKeys.delivery(String(item.eventId))));
  return { ...page, items: page.items.map((item, i) => storedEvent(item, records[i])) };
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
    await updateDelivery(eventId, {
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
    });
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
      await updateDelivery(eventId, attemptUpdate(eventId, generation, attempt, result, { ownGeneration, withAttempt }));
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
): DeliveryUpdate {
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
  return {
    UpdateExpression: `SET ${sets.join(', ')} ADD attemptCount :one${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
    ConditionExpression: conditions.join(' AND '),
    ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
    ExpressionAttributeValues: values,
  };
}

/**
 * Settles an event of `generation` without an attempt: `failed` (an OTP past its expiry),
 * `no_webhook_url`. It leaves the undelivered index and releases any claim. False if a newer
 * generation was asked for meanwhile (which then decides).
 */
export async function settleEvent(eventId: string, generation: number, status: 'failed' | 'no_webhook_url'): Promise<boolean> {
  const same = generationIs(generation);
  try {
    await updateDelivery(eventId, {
      UpdateExpression: 'SET #status = :status REMOVE nextAttemptAt, GSI3PK, GSI3SK, claimToken, claimUntil, sweepCount',
      ConditionExpression: `attribute_exists(PK) AND ${same.expression}`,
      ExpressionAttributeNames: { '#status': 'deliveryStatus' },
      ExpressionAttributeValues: { ':status': status, ...same.values },
    });
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
  const recordsOn = config().WRITE_FORMAT === 'release3';
  if (event.deliveryOnEvent && recordsOn) await moveDeliveryOffEvent(event.eventId);
  // Without records, on the event item unless a function with them moved the state meanwhile (the
  // condition then fails and the caller reads again, finding the record).
  const onEvent = event.deliveryOnEvent && !recordsOn;
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
          Key: onEvent ? eventKeys.event(event.eventId) : eventKeys.delivery(event.eventId),
          UpdateExpression:
            'SET #status = :pending, generation = :next, GSI3PK = :undeliveredPartition, GSI3SK = :undeliveredKey ' +
            'REMOVE nextAttemptAt, claimedBy, claimToken, claimUntil, sweepCount',
          ConditionExpression: `businessId = :business AND ${same.expression}${onEvent ? ` AND ${NO_RECORD}` : ''}`,
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
  const update: DeliveryUpdate = {
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
    await updateDelivery(event.eventId, update);
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
  return withTheirEvents(pages.flatMap((page) => page.Items ?? []));
}

/**
 * Every undelivered event committed between two times (inclusive), from the whole index: for an
 * operator's redrive of the stream DLQ, whose records name a time window, not events. The index
 * holds only undelivered events, so reading it whole is bounded by the backlog, not the history.
 */
export async function listUndeliveredCommittedBetween(fromIso: string, toIso: string): Promise<StoredEvent[]> {
  const records: Record<string, unknown>[] = [];
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
      records.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
  return withTheirEvents(records);
}

/**
 * The events of items read from the undelivered index: delivery records, whose events are read in
 * one batch, and events committed before delivery records, which are their own.
 */
async function withTheirEvents(indexed: Record<string, unknown>[]): Promise<StoredEvent[]> {
  // An event item whose state is on its record has no business in the index: only a release-2
  // function's write can have put it back (its conditions fail on a marked item, but not every
  // write of theirs is conditional). Its record is what is delivered; the stray keys go.
  const records = indexed.filter((item) => item.entity === DELIVERY_ENTITY);
  const ownState = indexed.filter((item) => item.entity !== DELIVERY_ENTITY && item.deliveryRecord !== true);
  const strays = indexed.filter((item) => item.entity !== DELIVERY_ENTITY && item.deliveryRecord === true);
  const [events] = await Promise.all([
    getItemsConsistently(records.map((record) => eventKeys.event(String(record.eventId)))),
    Promise.all(strays.map(dropStrayIndexKeys)),
  ]);
  return [
    ...records.flatMap((record, i) => (events[i] ? [storedEvent(events[i], record)] : [])),
    ...ownState.map((item) => storedEvent(item, undefined)),
  ];
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

async function dropStrayIndexKeys(item: Record<string, unknown>): Promise<void> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: eventKeys.event(String(item.eventId)),
        UpdateExpression: 'REMOVE GSI3PK, GSI3SK',
        ConditionExpression: 'deliveryRecord = :marked AND GSI3SK = :seen',
        ExpressionAttributeValues: { ':marked': true, ':seen': item.GSI3SK },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/**
 * An event from its item and its delivery record; without a record (an event committed before
 * delivery records), from the state on the event item.
 */
function storedEvent(eventItem: Record<string, unknown>, record: Record<string, unknown> | undefined): StoredEvent {
  const event = outboxEventOf(eventItem);
  if (!event) throw new Error(`Item ${String(eventItem.PK)} is not an event`);
  const state = record ?? eventItem;
  const attempts = Array.isArray(state.attempts) ? (state.attempts as Record<string, unknown>[]) : [];
  const nextAttemptAt = typeof state.nextAttemptAt === 'string' ? state.nextAttemptAt : null;
  return {
    ...event,
    deliveryStatus: deliveryStatusOf(state.deliveryStatus, nextAttemptAt !== null),
    attemptCount: intAttr(state.attemptCount),
    attempts: attempts.map((a) => ({
      attemptedAt: String(a.attemptedAt),
      statusCode: a.statusCode === undefined ? null : intAttr(a.statusCode),
      error: typeof a.error === 'string' ? a.error : null,
      durationMs: intAttr(a.durationMs),
    })),
    nextAttemptAt,
    deliveredAt: typeof state.deliveredAt === 'string' ? state.deliveredAt : null,
    generation: generationOf(state.generation),
    sweepCount: intAttr(state.sweepCount),
    undeliveredKey: typeof state.GSI3SK === 'string' ? state.GSI3SK : null,
    deliveryOnEvent: record === undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// Writes of the delivery record

/** An update of an event's delivery record: its expressions (the key and table are added). */
type DeliveryUpdate = Pick<UpdateCommandInput, 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>;

/** "This event item does not hand its delivery to a record" (as every item release 2 wrote). */
const NO_RECORD = 'attribute_not_exists(deliveryRecord)';

/**
 * Sends `update` to where the event's delivery state is. Its condition must require the item
 * (`attribute_exists(PK)`). A refusal throws `ConditionalCheckFailedException` with the item as it
 * was (the record, or the event item holding the state).
 *
 * - `WRITE_FORMAT` release3: to the delivery record. A refusal that reads back no record is an event
 *   committed without one (or none at all): its state is moved to a record and the update sent once more.
 * - release2: to the event item, on condition that it holds the state; a refusal that reads back an
 *   item marked `deliveryRecord` (a function with records on made one) sends it to the record.
 */
async function updateDelivery(eventId: string, update: DeliveryUpdate): Promise<void> {
  const send = (Key: ItemKey, extraCondition?: string) =>
    db().send(
      new UpdateCommand({
        ...update,
        ...(extraCondition ? { ConditionExpression: `(${update.ConditionExpression}) AND ${extraCondition}` } : {}),
        TableName: tableName(),
        Key,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
  const recordsOn = config().WRITE_FORMAT === 'release3';
  try {
    await (recordsOn ? send(eventKeys.delivery(eventId)) : send(eventKeys.event(eventId), NO_RECORD));
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    if (recordsOn && !error.Item) {
      await moveDeliveryOffEvent(eventId);
      await send(eventKeys.delivery(eventId));
      return;
    }
    if (!recordsOn && error.Item?.deliveryRecord?.BOOL === true) {
      await send(eventKeys.delivery(eventId));
      return;
    }
    throw error;
  }
}

/** What an event item of before delivery records keeps of its delivery, and a record holds. */
const DELIVERY_STATE = [
  'deliveryStatus',
  'attemptCount',
  'attempts',
  'nextAttemptAt',
  'deliveredAt',
  'lastAttemptAt',
  'generation',
  'claimedBy',
  'claimToken',
  'claimUntil',
  'sweepCount',
  'GSI3PK',
  'GSI3SK',
] as const;

const MOVE_ROUNDS = 3;

/**
 * Moves the delivery state of an event committed before delivery records to a record of its own,
 * in one transaction: the record is created (only if there is none) and the state, with the
 * undelivered-index keys, removed from the event item, conditional on the state being what was
 * read (a function of the previous release may still write it during a deploy). Does nothing for
 * an event without such state (already moved, or never there), or none at all.
 */
export async function moveDeliveryOffEvent(eventId: string): Promise<void> {
  for (let round = 0; round < MOVE_ROUNDS; round++) {
    const { Item: item } = await db().send(new GetCommand({ TableName: tableName(), Key: eventKeys.event(eventId), ConsistentRead: true }));
    if (!item || item.deliveryStatus === undefined || item.deliveryRecord === true) return;
    const state = Object.fromEntries(DELIVERY_STATE.flatMap((name) => (item[name] === undefined ? [] : [[name, item[name]]])));
    const same = generationIs(generationOf(item.generation));
    // Every attribute a write of the state changes, as read (absent stays absent).
    const watched = ['claimToken', 'lastAttemptAt', 'nextAttemptAt', 'sweepCount', 'GSI3SK'] as const;
    const unchanged = {
      conditions: watched.map((name, i) => (item[name] === undefined ? `attribute_not_exists(${name})` : `${name} = :was${i}`)),
      values: Object.fromEntries(watched.flatMap((name, i) => (item[name] === undefined ? [] : [[`:was${i}`, item[name]]]))),
    };
    const result = await transaction<'moved'>()
      .add({
        Put: {
          TableName: tableName(),
          Item: { ...eventKeys.delivery(eventId), entity: DELIVERY_ENTITY, eventId, businessId: item.businessId, createdAt: item.createdAt, ...state },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      }, 'moved')
      .add(
        {
          Update: {
            TableName: tableName(),
            Key: eventKeys.event(eventId),
            // Marked (HANDED_TO_RECORD), so a function writing release 2's format follows the state
            // to the record from now on, and a release-2 function's conditions all fail.
            UpdateExpression: `SET deliveryRecord = :marked, generation = :handed REMOVE ${DELIVERY_STATE.filter((name) => name !== 'generation').join(', ')}`,
            ConditionExpression: [NO_RECORD, '#status = :status', same.expression, ...unchanged.conditions].join(' AND '),
            ExpressionAttributeNames: { '#status': 'deliveryStatus' },
            ExpressionAttributeValues: {
              ...same.values,
              ':status': item.deliveryStatus,
              ':marked': HANDED_TO_RECORD.deliveryRecord,
              ':handed': HANDED_TO_RECORD.generation,
              ...unchanged.values,
            },
          },
        },
        'moved',
      )
      .commit();
    // Refused: the state changed since it was read (read again), or another writer moved it (the
    // next read finds none and returns).
    if (result.committed) return;
  }
}

/**
 * Commits an event that reports no state change of its own (a test webhook) through the outbox,
 * like every other: the stream brings it to the dispatcher, which queues it for delivery. With the
 * `Idempotency-Key`'s answer in the same transaction, when there is one.
 */
export async function insertStandaloneEvent(event: OutboxEvent, idempotencyCompletion?: TransactItem): Promise<void> {
  const tx = transaction<'idempotency'>().addAll(outboxEntries(event));
  if (idempotencyCompletion) tx.add(idempotencyCompletion, 'idempotency');
  const result = await tx.commit();
  if (!result.committed) throw idempotencyInProgress();
}
