/**
 * Webhook delivery rules (API.md "Events and webhooks"): what counts as delivered, how long and how
 * often a failed delivery is retried, and what a partner sees of it in `GET /v1/events`. Pure.
 *
 * Retries are SQS redeliveries: after a failed attempt the consumer hides the message for the next
 * backoff delay (`ChangeMessageVisibility`), and SQS moves it to the queue's DLQ once it has been
 * received `maxReceiveCount` times. So the retry window is a property of the queue: its
 * `maxReceiveCount` is the number of attempts whose backoff delays add up to the window, computed
 * here from the same schedule the consumer uses (`attemptsCovering`), so the two cannot disagree.
 *
 * Jitter only ever lengthens a delay (x1 to x1.2), which spreads a burst of retries apart while
 * keeping the nominal schedule a lower bound: the last attempt is never earlier than the window's
 * end. (A consumer crash, as opposed to a failed POST, burns a receive without a backoff delay;
 * the consumer catches every per-message error so that only an infrastructure failure can do that.)
 */

/** SQS limits a message's visibility to 12 hours from its receipt. */
export const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;
/** Jitter lengthens each delay by up to this fraction. */
export const JITTER_FRACTION = 0.2;

export interface RetryPolicy {
  /** Delay after the first failed attempt; each further failure doubles it... */
  firstDelaySeconds: number;
  /** ...up to this cap (at most 12 h, SQS's visibility limit). */
  maxDelaySeconds: number;
  /** The last attempt happens no earlier than this long after the first. */
  retryForSeconds: number;
}

/** Transaction events: at least 24 h of retries (API.md); delays 10 s, 20 s, ... capped at 2 h. */
export const TRANSACTION_EVENT_RETRY: RetryPolicy = { firstDelaySeconds: 10, maxDelaySeconds: 2 * 60 * 60, retryForSeconds: 24 * 60 * 60 };

/** How long a 3DS one-time code is valid, and so how long its webhook is worth retrying. */
export const OTP_TTL_SECONDS = 5 * 60;

/** 3DS OTPs: retried until the code expires, never past it; delays 2 s, 4 s, ... capped at 1 min. */
export const OTP_RETRY: RetryPolicy = { firstDelaySeconds: 2, maxDelaySeconds: 60, retryForSeconds: OTP_TTL_SECONDS };

/** The nominal delay after the `failedAttempts`-th failed attempt (1-based), before jitter. */
export function nominalDelaySeconds(policy: RetryPolicy, failedAttempts: number): number {
  if (failedAttempts < 1) throw new RangeError('failedAttempts starts at 1');
  const exponential = policy.firstDelaySeconds * 2 ** Math.min(failedAttempts - 1, 30);
  return Math.min(exponential, policy.maxDelaySeconds, MAX_VISIBILITY_SECONDS);
}

/**
 * The number of attempts (first one included) whose nominal delays span `retryForSeconds`: the
 * queue's `maxReceiveCount`.
 */
export function attemptsCovering(policy: RetryPolicy): number {
  let elapsed = 0;
  let attempts = 1;
  while (elapsed < policy.retryForSeconds) {
    elapsed += nominalDelaySeconds(policy, attempts);
    attempts += 1;
  }
  return attempts;
}

/**
 * The delay before the next attempt after `failedAttempts` failures: the nominal delay lengthened
 * by jitter, then multiplied by `scale` (1 in AWS; tests shrink it, see WEBHOOK_RETRY_DELAY_SCALE).
 * Whole seconds, as SQS visibility timeouts are.
 */
export function retryDelaySeconds(policy: RetryPolicy, failedAttempts: number, random: () => number = Math.random, scale = 1): number {
  const jittered = nominalDelaySeconds(policy, failedAttempts) * (1 + JITTER_FRACTION * random());
  return Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(jittered * scale));
}

// ---------------------------------------------------------------------------------------------
// Delivery status and attempts, as recorded on the event and shown in `GET /v1/events`

/**
 * - `pending`: queued, no attempt yet (or queued again by a redelivery or a redrive);
 * - `delivered`: the last attempt got a 2xx;
 * - `failed`: the last attempt failed and another is scheduled (`next_attempt_at`);
 * - `dead_lettered`: retries are over (or the OTP expired); the message is in the DLQ;
 * - `no_webhook_url`: the business has no webhook URL; the event can be redelivered once it has one.
 */
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'dead_lettered', 'no_webhook_url'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface DeliveryAttempt {
  attemptedAt: string;
  /** The receiver's HTTP status, when it answered. */
  statusCode: number | null;
  /** Why the attempt failed without (or besides) a status: timeout, refused address, ... */
  error: string | null;
  durationMs: number;
}

export function isSuccessStatus(statusCode: number): boolean {
  return statusCode >= 200 && statusCode <= 299;
}

export interface DeliveryAttemptView {
  attempted_at: string;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

export function attemptView(attempt: DeliveryAttempt): DeliveryAttemptView {
  return { attempted_at: attempt.attemptedAt, status_code: attempt.statusCode, error: attempt.error, duration_ms: attempt.durationMs };
}

/** An event as `GET /v1/events` shows it. The payload is the webhook body (an OTP's without its code). */
export interface EventView {
  id: string;
  p_business_id: string;
  type: string;
  payload: unknown;
  delivery_status: DeliveryStatus;
  attempt_count: number;
  attempts: DeliveryAttemptView[];
  next_attempt_at: string | null;
  delivered_at: string | null;
  p_created_at: string;
}

export interface EventRecord {
  eventId: string;
  businessId: string;
  type: string;
  payload: string;
  deliveryStatus: DeliveryStatus;
  attemptCount: number;
  attempts: DeliveryAttempt[];
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

export function eventView(event: EventRecord): EventView {
  return {
    id: event.eventId,
    p_business_id: event.businessId,
    type: event.type,
    payload: JSON.parse(event.payload) as unknown,
    delivery_status: event.deliveryStatus,
    attempt_count: event.attemptCount,
    attempts: event.attempts.map(attemptView),
    next_attempt_at: event.nextAttemptAt,
    delivered_at: event.deliveredAt,
    p_created_at: event.createdAt,
  };
}
