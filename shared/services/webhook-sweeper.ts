/**
 * The webhook sweeper: a scheduled function (every minute in AWS, a timer in the local stack) and
 * the backstop of invariant 6. Every path to a delivery can stall without anyone noticing: the
 * stream holds a record only 24 h, a dispatcher send can fail after the stream moved on, a message
 * whose invocations crash burns its receives into the DLQ before its event is marked failed, and a
 * recording that failed leaves an event looking undelivered. All of these leave the event where
 * the sweeper looks: in the sparse index of undelivered events, due at a time now past.
 *
 * Each run takes the events overdue by more than the grace period (oldest due first, bounded), and
 * for each starts its next delivery generation and sends one message of it to its queue. A message
 * of the old generation still in a queue is then acked without a POST, so a sweep that was not
 * needed costs a message, never a second delivery. An event waits the grace period past its due
 * time: on commit that is its creation, while retrying its next attempt, so a retry scheduled
 * hours ahead is never swept early. A swept event is due again one grace period later, doubling
 * with each sweep no attempt followed, so a backed-up queue is not sent a copy of its backlog every
 * minute. An OTP past its expiry is not queued: it is marked `failed`.
 */
import type { QueueName } from '../routes.ts';
import { config } from '../config.ts';
import { isoFromMicros } from '../domain/time.ts';
import { nextSweepDueMs } from '../domain/webhook-delivery.ts';
import { UNDELIVERED_SHARDS } from '../db/keys.ts';
import { listOverdueEvents, requeueEvent, settleEvent, type StoredEvent } from '../db/events-repository.ts';
import { queuedEvent } from '../db/outbox.ts';
import { logger } from '../logger.ts';
import { sendMessages, webhookQueueUrl, type OutgoingMessage } from '../queues/sqs.ts';

export interface SweepReport {
  /** Events overdue when the run looked. */
  overdue: number;
  /** Queued again, with a new generation. */
  requeued: number;
  /** OTPs past their expiry, marked failed instead. */
  expired: number;
  /** Changed since the index was read (an attempt, a redelivery, another run): left alone. */
  moved: number;
  /** Re-generated but not accepted by SQS: still in the index, taken again when due. */
  unsent: number;
}

export async function sweepUndeliveredEvents(nowMs = Date.now()): Promise<SweepReport> {
  const cfg = config();
  const graceSeconds = cfg.WEBHOOK_SWEEP_GRACE_SECONDS;
  const overdue = await listOverdueEvents(isoOf(nowMs - graceSeconds * 1000), Math.ceil(cfg.WEBHOOK_SWEEP_LIMIT / UNDELIVERED_SHARDS));
  const report: SweepReport = { overdue: overdue.length, requeued: 0, expired: 0, moved: 0, unsent: 0 };
  const messages = new Map<QueueName, OutgoingMessage[]>();

  for (const event of overdue) {
    if (event.deliverUntil !== undefined && nowMs >= event.deliverUntil * 1000) {
      if (await settleEvent(event.eventId, event.generation, 'failed')) report.expired++;
      else report.moved++;
      continue;
    }
    if (!(await requeueEvent(event, sweepOf(event, nowMs, graceSeconds), nowMs))) {
      report.moved++;
      continue;
    }
    const queued = messages.get(event.queue) ?? [];
    queued.push({ id: event.eventId, body: JSON.stringify(queuedEvent(event, event.generation + 1)) });
    messages.set(event.queue, queued);
  }

  for (const [queue, batch] of messages) {
    const failed = await sendMessages(webhookQueueUrl(queue), batch);
    report.requeued += batch.length - failed.size;
    report.unsent += failed.size;
  }
  if (report.overdue > 0) logger.warn('webhook sweep: undelivered events were overdue', { ...report });
  return report;
}

function sweepOf(event: StoredEvent, nowMs: number, graceSeconds: number) {
  const retrying = event.deliveryStatus === 'retrying';
  return {
    status: retrying ? ('retrying' as const) : ('pending' as const),
    dueAt: isoOf(nextSweepDueMs(nowMs, graceSeconds, event.sweepCount)),
    sweepCount: event.sweepCount + 1,
    // The message sent now is visible at once: that is when the next attempt is due.
    nextAttemptAt: retrying ? isoOf(nowMs) : null,
    seenUndeliveredKey: event.undeliveredKey ?? undefined,
  };
}

function isoOf(ms: number): string {
  return isoFromMicros(BigInt(Math.floor(ms)) * 1000n);
}
