/**
 * The operator's view of every dead-letter queue (`npm run admin -- dead-letters`) and the way
 * back out of it (`npm run admin -- redrive`):
 *
 * - `otp`, `events`: the webhook queues' DLQs, holding messages whose retries ran out (their
 *   events say `failed`). A redrive starts the event's next delivery generation and queues one
 *   message of it, with a fresh retry schedule and the same `webhook-id`; an event delivered since
 *   (a sweep got it through, say) is not sent again, and an OTP past its expiry never is.
 * - `stream`: the table-stream consumers' on-failure queue. The stream source retries without end
 *   (infra/constructs/consumers.ts), so it stays empty; a record there (from before that, or from
 *   a mapping changed by hand) names a shard, a range of sequence numbers and the times its
 *   records arrived, never an event, and the stream keeps records only 24 h. So its redrive does
 *   not read the stream: it queues again every event still in the undelivered index that was
 *   committed in that time window (a minute either side). Whatever the window misses, the sweeper
 *   queues anyway once it is overdue.
 *
 * A move is receive (from the DLQ), start the next generation, send (to the queue), then delete
 * (from the DLQ). A crash in between leaves the message in the DLQ, or the event queued and the
 * message in the DLQ: never neither, and the new generation makes the leftover harmless; an event
 * whose send failed is still in the undelivered index, due now, for the sweeper.
 *
 * Listings show ids, times and counts, never a payload: a message carries card data and sealed
 * codes.
 */
import type { QueueName } from '../routes.ts';
import { config } from '../config.ts';
import { isoFromMicros, nowIso } from '../domain/time.ts';
import { generationOf } from '../domain/webhook-delivery.ts';
import { getEvent, listUndeliveredCommittedBetween, requeueEvent, type StoredEvent } from '../db/events-repository.ts';
import { queuedEvent } from '../db/outbox.ts';
import {
  approximateMessageCount,
  deadLetterQueueUrlOf,
  deleteMessages,
  receiveMessages,
  sendMessages,
  webhookQueueUrl,
} from '../queues/sqs.ts';

export type DeadLetterSource = QueueName | 'stream';
export const DEAD_LETTER_SOURCES: readonly DeadLetterSource[] = ['otp', 'events', 'stream'];

/** Long enough to send and delete a batch before another reader could see it. */
const HIDE_WHILE_MOVING_SECONDS = 60;
/** How many dead letters a listing names (the count covers them all). */
const LISTING_LIMIT = 100;
/** The stream DLQ's time window is widened by this much each side: commit and arrival times differ. */
const STREAM_WINDOW_MARGIN_MS = 60_000;

export interface DeadLetterListing {
  queue: DeadLetterSource;
  count: number;
  messages: Record<string, unknown>[];
}

/** Up to `LISTING_LIMIT` dead letters of `source`, peeked at (left visible), with the queue's count. */
export async function listDeadLetters(source: DeadLetterSource): Promise<DeadLetterListing> {
  const url = await deadLetterUrlOf(source);
  const seen = new Map<string, Record<string, unknown>>();
  // Peeks (visibility 0) sample the queue; a round that shows nothing new ends the listing.
  for (let round = 0; round < 20 && seen.size < LISTING_LIMIT; round++) {
    const before = seen.size;
    for (const message of await receiveMessages(url, 0, 0)) {
      const id = message.MessageId ?? '';
      if (!seen.has(id) && seen.size < LISTING_LIMIT) seen.set(id, { message_id: id, ...(source === 'stream' ? streamSummary(message.Body) : webhookSummary(message.Body)) });
    }
    if (seen.size === before) break;
  }
  return { queue: source, count: await approximateMessageCount(url), messages: [...seen.values()] };
}

export interface RedriveReport {
  queue: DeadLetterSource;
  /** Dead letters taken out of the DLQ. */
  moved: number;
  /** Events queued again (a stream dead letter may name several). */
  requeued: number;
  /** Taken out without a send: their event was delivered since, or is being attempted right now. */
  already_delivered: number;
  /** OTPs past their expiry, taken out without a send (their events say `failed`). */
  expired: number;
  /** Left in the DLQ: unreadable, or naming no event that exists. */
  kept: number;
}

export async function redriveDeadLetters(source: DeadLetterSource): Promise<RedriveReport> {
  const url = await deadLetterUrlOf(source);
  const report: RedriveReport = { queue: source, moved: 0, requeued: 0, already_delivered: 0, expired: 0, kept: 0 };
  for (;;) {
    const messages = await receiveMessages(url, HIDE_WHILE_MOVING_SECONDS, 1);
    if (messages.length === 0) return report;
    const done: string[] = [];
    let unsent = 0;
    for (const message of messages) {
      const events = source === 'stream' ? await eventsOfStreamBatch(message.Body) : await eventOfMessage(message.Body);
      if (!events) {
        report.kept++;
        continue;
      }
      let sent = true;
      for (const event of events) {
        const outcome = await requeue(event);
        if (outcome === 'unsent') sent = false;
        else if (outcome === 'requeued') report.requeued++;
        else if (outcome === 'expired') report.expired++;
        else report.already_delivered++;
      }
      // A dead letter whose event could not be sent stays, and so does the event in the index.
      if (sent) done.push(message.ReceiptHandle ?? '');
      else unsent++;
    }
    await deleteMessages(url, done);
    report.moved += done.length;
    if (unsent > 0) throw new Error(`${unsent} dead letter(s) of ${source} could not be queued again; they stay in its DLQ (${JSON.stringify(report)})`);
  }
}

type RequeueOutcome = 'requeued' | 'expired' | 'settled' | 'unsent';

/**
 * Starts the event's next generation and queues its message, unless it is delivered (or being
 * attempted, or moved on meanwhile: then whatever moved it delivers it) or an expired OTP. Due
 * now in the index: if the send fails, the sweeper takes it after its grace period.
 */
async function requeue(event: StoredEvent): Promise<RequeueOutcome> {
  const nowMs = Date.now();
  if (event.deliverUntil !== undefined && nowMs >= event.deliverUntil * 1000) return 'expired';
  if (event.deliveryStatus === 'delivered') return 'settled';
  const now = nowIso();
  const attempted = event.attemptCount > 0;
  const started = await requeueEvent(
    event,
    { status: attempted ? 'retrying' : 'pending', dueAt: now, sweepCount: 0, nextAttemptAt: attempted ? now : null },
    nowMs,
  );
  if (!started) return 'settled';
  const failed = await sendMessages(webhookQueueUrl(event.queue), [{ id: event.eventId, body: JSON.stringify(queuedEvent(event, event.generation + 1)) }]);
  return failed.size > 0 ? 'unsent' : 'requeued';
}

/** The event a webhook dead letter names, as stored now; undefined if it names none. */
async function eventOfMessage(body: string | undefined): Promise<StoredEvent[] | undefined> {
  const eventId = parse(body)?.eventId;
  if (typeof eventId !== 'string') return undefined;
  const event = await getEvent(eventId);
  return event ? [event] : undefined;
}

/** The undelivered events committed in the time window a stream dead letter names. */
async function eventsOfStreamBatch(body: string | undefined): Promise<StoredEvent[] | undefined> {
  const batch = streamBatchOf(body);
  if (!batch) return undefined;
  const from = Date.parse(batch.approximateArrivalOfFirstRecord) - STREAM_WINDOW_MARGIN_MS;
  const to = Date.parse(batch.approximateArrivalOfLastRecord) + STREAM_WINDOW_MARGIN_MS;
  if (!Number.isFinite(from) || !Number.isFinite(to)) return undefined;
  return listUndeliveredCommittedBetween(isoOfMs(from), isoOfMs(to));
}

/** What Lambda writes to a stream source's on-failure destination: where the batch was, not what it held. */
interface StreamBatchInfo {
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  approximateArrivalOfFirstRecord: string;
  approximateArrivalOfLastRecord: string;
  batchSize: number;
}

function streamBatchOf(body: string | undefined): StreamBatchInfo | undefined {
  const info = parse(body)?.DDBStreamBatchInfo as Partial<StreamBatchInfo> | undefined;
  if (!info || typeof info.approximateArrivalOfFirstRecord !== 'string' || typeof info.approximateArrivalOfLastRecord !== 'string') return undefined;
  return info as StreamBatchInfo;
}

function webhookSummary(body: string | undefined): Record<string, unknown> {
  const message = parse(body);
  return {
    event_id: typeof message?.eventId === 'string' ? message.eventId : null,
    business_id: typeof message?.businessId === 'string' ? message.businessId : null,
    type: typeof message?.type === 'string' ? message.type : null,
    generation: generationOf(message?.generation),
  };
}

function streamSummary(body: string | undefined): Record<string, unknown> {
  const batch = streamBatchOf(body);
  return {
    shard_id: batch?.shardId ?? null,
    start_sequence_number: batch?.startSequenceNumber ?? null,
    end_sequence_number: batch?.endSequenceNumber ?? null,
    batch_size: batch?.batchSize ?? null,
    first_record_at: batch?.approximateArrivalOfFirstRecord ?? null,
    last_record_at: batch?.approximateArrivalOfLastRecord ?? null,
  };
}

async function deadLetterUrlOf(source: DeadLetterSource): Promise<string> {
  if (source !== 'stream') return deadLetterQueueUrlOf(webhookQueueUrl(source));
  const url = config().STREAM_DLQ_URL;
  if (!url) throw new Error('No URL known for the stream dead-letter queue');
  return url;
}

function parse(body: string | undefined): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(body ?? '') as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isoOfMs(ms: number): string {
  return isoFromMicros(BigInt(Math.floor(ms)) * 1000n);
}
