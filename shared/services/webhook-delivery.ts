/**
 * Webhook delivery: the consumer of the `otp` and `events` queues. For each message it claims the
 * event for one attempt, POSTs it to the business's webhook URL, signed per Standard Webhooks, and
 * records the attempt (time, status code or error, duration) on the event's delivery record.
 *
 * - A message of an older delivery generation than the event's, a duplicate of the message that
 *   owns the current one, or one whose event is already delivered is acked without a POST
 *   (shared/domain/webhook-delivery.ts explains the generations and claims).
 * - A 2xx within the timeout (10 s) is delivered; the message is deleted.
 * - Anything else is retried: the message is hidden for the next backoff delay (exponential, with
 *   jitter, shared/domain/webhook-delivery.ts) and reported as a batch item failure, so SQS hands
 *   it back when the delay is over; the event says `retrying` and when the next attempt is due.
 *   After the attempt that used the queue's last receive, the event is marked `failed` and the
 *   message made visible at once: its next receive exceeds the queue's `maxReceiveCount` and SQS
 *   moves it to the DLQ, where `npm run admin -- redrive` finds it.
 * - An OTP is never sent past its expiry: once expired (or when the next retry would be), it is
 *   marked `failed` and its remaining receives pass without a POST, taking it to the DLQ.
 * - A business without a webhook URL: the event is marked `no_webhook_url` (visible in
 *   `GET /v1/events`, redeliverable once a URL is set), and the message is done.
 *
 * Errors of one message never fail the batch: each is caught and the message retried after its
 * backoff delay. If the event's record is what failed, the event stays undelivered in the
 * sweeper's index, which queues it again once it is overdue.
 */
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import * as z from '../zod.ts';
import type { QueueName } from '../routes.ts';
import { config } from '../config.ts';
import { openSecret } from '../crypto/envelope.ts';
import { eventTypeOf, payloadWithType } from '../domain/event-types.ts';
import { otpWebhookBody } from '../domain/three-ds.ts';
import { isoFromMicros, nowIso } from '../domain/time.ts';
import { webhookTargetRules } from '../domain/webhook-addresses.ts';
import {
  attemptsCovering,
  isSuccessStatus,
  OTP_RETRY,
  retryDelaySeconds,
  TRANSACTION_EVENT_RETRY,
  type DeliveryAttempt,
  type RetryPolicy,
} from '../domain/webhook-delivery.ts';
import { logger } from '../logger.ts';
import { getBusiness, type StoredBusiness } from '../db/businesses-repository.ts';
import { claimAttempt, recordAttempt, settleEvent, type AttemptResult } from '../db/events-repository.ts';
import { FIRST_GENERATION, otpSealContext, type QueuedEvent } from '../db/outbox.ts';
import { recordWebhookAttempt } from '../metrics.ts';
import { delayMessage } from '../queues/sqs.ts';
import { postWebhook } from '../webhooks/http-post.ts';
import { signWebhook } from '../webhooks/signing.ts';
import { webhookSigningSecrets } from './businesses.ts';

export const RETRY_POLICIES: Record<QueueName, RetryPolicy> = { otp: OTP_RETRY, events: TRANSACTION_EVENT_RETRY };

/** The queue's `maxReceiveCount`: as many receives as the retry schedule needs to span its window. */
export function maxReceiveCountOf(queue: QueueName): number {
  return attemptsCovering(RETRY_POLICIES[queue]);
}

const USER_AGENT = 'card-platform-webhooks/1';

const QueuedEventMessage = z.object({
  eventId: z.string().check(z.minLength(1)),
  businessId: z.string().check(z.minLength(1)),
  type: z.string(),
  queue: z.enum(['otp', 'events']),
  payload: z.string(),
  createdAt: z.string(),
  deliverUntil: z.optional(z.number().check(z.int())),
  otpSealed: z.optional(z.string()),
  // Messages queued before generations existed carry none: they are of the first.
  generation: z._default(z.number().check(z.int(), z.gte(1)), FIRST_GENERATION),
});

type Outcome = 'done' | 'retry';

export async function deliverQueuedEvents(queue: QueueName, records: readonly SQSRecord[]): Promise<SQSBatchResponse> {
  const businesses = new Map<string, Promise<StoredBusiness | undefined>>();
  const businessOf = (businessId: string) => {
    let business = businesses.get(businessId);
    if (!business) {
      // Consistent: a webhook URL set just before the event was committed must be seen.
      business = getBusiness(businessId, true);
      businesses.set(businessId, business);
    }
    return business;
  };
  const outcomes = await Promise.all(
    records.map((record) =>
      deliver(queue, record, businessOf).catch(async (error: unknown): Promise<Outcome> => {
        logger.error('webhook delivery failed unexpectedly; the message will be retried', {
          messageId: record.messageId,
          errorName: (error as Error)?.name,
          errorMessage: (error as Error)?.message,
        });
        // After its backoff delay, not the queue's whole visibility timeout: a throttled table
        // is a passing fault.
        await scheduleReturn(record, retryDelaySeconds(RETRY_POLICIES[queue], receiveCountOf(record), Math.random, config().WEBHOOK_RETRY_DELAY_SCALE));
        return 'retry';
      }),
    ),
  );
  return { batchItemFailures: records.filter((_, i) => outcomes[i] === 'retry').map((record) => ({ itemIdentifier: record.messageId })) };
}

async function deliver(queue: QueueName, record: SQSRecord, businessOf: (id: string) => Promise<StoredBusiness | undefined>): Promise<Outcome> {
  const parsed = QueuedEventMessage.safeParse(safeJson(record.body));
  if (!parsed.success) {
    // It can never succeed: let its receives run out so it parks in the DLQ, visible.
    logger.error('malformed webhook message', { messageId: record.messageId });
    return 'retry';
  }
  const event = parsed.data as QueuedEvent;
  const receiveCount = receiveCountOf(record);
  const ids = { eventId: event.eventId, generation: event.generation, messageId: record.messageId };

  const claim = await claimAttempt(event.eventId, { generation: event.generation, messageId: record.messageId }, Date.now());
  switch (claim.verdict) {
    case 'claimed':
      break;
    case 'superseded':
    case 'settled':
      logger.info(`webhook message not sent: ${claim.verdict === 'settled' ? 'its event is settled' : 'a newer message delivers its event'}`, ids);
      return 'done';
    case 'given_up':
      // Retries are over: on to the DLQ, where it stays visible.
      await scheduleReturn(record, 0);
      return 'retry';
    case 'in_flight':
      await scheduleReturn(record, Math.max(1, Math.ceil(((claim.claimUntilMs ?? Date.now()) - Date.now()) / 1000)));
      return 'retry';
    case 'missing':
      logger.error('webhook message for an unknown event', ids);
      return 'retry';
  }

  if (event.deliverUntil !== undefined && Date.now() >= event.deliverUntil * 1000) {
    await settleEvent(event.eventId, event.generation, 'failed');
    recordWebhookAttempt('failed'); // expired before this attempt: nothing was sent
    await scheduleReturn(record, 0);
    return 'retry';
  }

  const business = await businessOf(event.businessId);
  if (business && !business.webhookUrl) {
    await settleEvent(event.eventId, event.generation, 'no_webhook_url');
    recordWebhookAttempt('skipped');
    return 'done';
  }

  const cfg = config();
  const attemptedAt = nowIso();
  let attempt: DeliveryAttempt;
  if (!business) {
    logger.error('webhook for an unknown business', { eventId: event.eventId, businessId: event.businessId });
    attempt = { attemptedAt, statusCode: null, error: 'unknown_business', durationMs: 0 };
  } else {
    const body = event.otpSealed
      ? otpWebhookBody(event.payload, await openSecret<string>(event.otpSealed, otpSealContext(event)))
      : payloadWithType(event.payload, eventTypeOf(event.type));
    const at = new Date(Date.parse(attemptedAt));
    const headers = {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      ...signWebhook(await webhookSigningSecrets(business, at), event.eventId, at, body),
    };
    const outcome = await postWebhook(business.webhookUrl as string, headers, body, { ...webhookTargetRules(cfg), timeoutMs: cfg.WEBHOOK_TIMEOUT_MS });
    attempt = {
      attemptedAt,
      statusCode: 'statusCode' in outcome ? outcome.statusCode : null,
      error: 'error' in outcome ? outcome.error : null,
      durationMs: outcome.durationMs,
    };
  }
  const log = { ...ids, businessId: event.businessId, type: event.type, attempt: receiveCount, statusCode: attempt.statusCode, error: attempt.error, durationMs: attempt.durationMs };

  if (attempt.statusCode !== null && isSuccessStatus(attempt.statusCode)) {
    logger.info('webhook delivered', log);
    await recordSafely(event, attempt, { status: 'delivered', deliveredAt: nowIso() });
    return 'done';
  }

  const policy = RETRY_POLICIES[queue];
  const retriesLeft = receiveCount < maxReceiveCountOf(queue);
  let delaySeconds = retriesLeft ? retryDelaySeconds(policy, receiveCount, Math.random, cfg.WEBHOOK_RETRY_DELAY_SCALE) : 0;
  const expiresMs = event.deliverUntil === undefined ? undefined : event.deliverUntil * 1000;
  const pastExpiry = expiresMs !== undefined && Date.now() + delaySeconds * 1000 >= expiresMs;
  if (!retriesLeft || pastExpiry) {
    logger.warn('webhook failed; no retries left, it goes to the dead-letter queue', log);
    await recordSafely(event, attempt, { status: 'failed' });
    // Back at once: the next receive exceeds maxReceiveCount and SQS moves it. An OTP with receives
    // left comes back once expired instead, and its remaining receives pass without a POST.
    delaySeconds = !retriesLeft || expiresMs === undefined ? 0 : Math.max(0, Math.ceil((expiresMs - Date.now()) / 1000));
  } else {
    logger.info('webhook failed; retrying', { ...log, retryInSeconds: delaySeconds });
    await recordSafely(event, attempt, { status: 'retrying', nextAttemptAt: isoFromMicros(BigInt(Date.now() + delaySeconds * 1000) * 1000n) });
  }
  await scheduleReturn(record, delaySeconds);
  return 'retry';
}

function receiveCountOf(record: SQSRecord): number {
  return Math.max(1, Number(record.attributes.ApproximateReceiveCount) || 1);
}

/** Hides the message until its next attempt. If that fails, it returns after the queue's own visibility timeout. */
async function scheduleReturn(record: SQSRecord, seconds: number): Promise<void> {
  try {
    await delayMessage(record.eventSourceARN, record.receiptHandle, seconds);
  } catch (error) {
    logger.warn('could not schedule the retry; the queue visibility timeout applies', { messageId: record.messageId, errorName: (error as Error)?.name });
  }
}

/**
 * The attempt happened whether or not it can be recorded, so the message goes on as its outcome
 * says. An unrecorded success leaves the event undelivered in the sweeper's index: it is sent once
 * more (same `webhook-id`) rather than never.
 */
async function recordSafely(event: QueuedEvent, attempt: DeliveryAttempt, result: AttemptResult): Promise<void> {
  // Counted whether or not the record is written: the attempt happened. No latency when no POST was made.
  recordWebhookAttempt(result.status, attempt.error === 'unknown_business' ? undefined : attempt.durationMs);
  try {
    await recordAttempt(event.eventId, event.generation, attempt, result);
  } catch (error) {
    logger.error('could not record a webhook attempt', { eventId: event.eventId, errorName: (error as Error)?.name, errorMessage: (error as Error)?.message });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
