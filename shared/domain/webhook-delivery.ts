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

import { payloadWithType, type EventType } from './event-types.ts';

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
// Delivery status and attempts, as recorded on the event's delivery record and shown in `GET /v1/events`

/**
 * - `pending`: committed (or queued again by a partner's redelivery), no attempt of it yet;
 * - `retrying`: an attempt failed and retries remain (`next_attempt_at` says when the next is due);
 * - `delivered`: an attempt got a 2xx;
 * - `failed`: retries are over (or the OTP expired): the message is in the DLQ, where an operator's
 *   redrive can take it back to its queue;
 * - `no_webhook_url`: the business has no webhook URL; the event can be redelivered once it has one.
 */
export const DELIVERY_STATUSES = ['pending', 'retrying', 'delivered', 'failed', 'no_webhook_url'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Statuses after which nothing more happens to an event unless someone asks (redeliver, redrive). */
export function isSettled(status: DeliveryStatus): boolean {
  return status === 'delivered' || status === 'failed' || status === 'no_webhook_url';
}

/**
 * The status of a stored event. Events recorded before `retrying` existed say `failed` for a
 * scheduled retry (they carry a next attempt time) and `dead_lettered` for what is now `failed`.
 */
export function deliveryStatusOf(stored: unknown, hasNextAttempt: boolean): DeliveryStatus {
  if (stored === 'dead_lettered') return 'failed';
  if (stored === 'failed' && hasNextAttempt) return 'retrying';
  return (DELIVERY_STATUSES as readonly unknown[]).includes(stored) ? (stored as DeliveryStatus) : 'pending';
}

// ---------------------------------------------------------------------------------------------
// Delivery generations and attempt claims: why an event is POSTed once per request for it
//
// Messages of one event can outnumber the deliveries anyone asked for: the stream hands the
// dispatcher a record again after a crash between its send and its checkpoint (a duplicate
// message), a partner's redelivery or an operator's redrive queues a new message while an older
// one may still wait for its retry, and the sweeper re-queues events whose message it presumes
// lost. So the event item, not the message, decides what is delivered:
//
// - Its `generation` counts the deliveries asked for: 1 at commit, +1 for each redelivery, sweep
//   and redrive, each of which queues one message carrying the new generation. A message whose
//   generation is no longer the event's is stale: the consumer acks it without a POST.
// - The first message of the current generation to claim the event owns that generation
//   (`claimedBy`, its SQS message id); a duplicate of it (another message, same generation) is
//   acked without a POST, so a failing event follows one retry schedule, not one per copy.
// - Each attempt is a conditional claim (`claimUntil`, a lease) taken before the POST and released
//   when the outcome is recorded; no second attempt starts while one is in flight.
// - A settled event (delivered, failed, no webhook URL) is never claimed: only a redelivery or a
//   redrive (a new generation) sends it again, and a sweep never takes a settled event.
//
// Delivery stays at least once (a crash after the POST and before the record sends again, with
// the same `webhook-id`), but no path sends an event twice because two messages exist for it.

/**
 * How long an attempt's claim holds: longer than any delivery function's timeout (so a claim
 * outlives the invocation that took it, and a live attempt is never doubled), shorter than any
 * queue's visibility timeout (six times the function's), so a message whose invocation crashed
 * comes back to an expired claim and is attempted again.
 */
export const ATTEMPT_CLAIM_SECONDS = 60;

/** The generation of a stored event or a message: both start at 1, also when written before generations existed. */
export function generationOf(value: unknown): number {
  const parsed = Number(typeof value === 'object' && value !== null && 'value' in value ? (value as { value: unknown }).value : value);
  return Number.isInteger(parsed) && parsed >= 1 ? parsed : 1;
}

/** What the event item says about one message's claim, as read back when a claim is refused. */
export interface ClaimState {
  generation: number;
  status: DeliveryStatus;
  claimedBy?: string;
  claimToken?: string;
  claimUntilMs?: number;
}

/**
 * Why a message may not attempt its event (or, `claimed`, that the refused write was in fact its
 * own, retried by the SDK after a lost response):
 * - `superseded`: a newer generation was asked for, or another message owns this one: ack, no POST;
 * - `settled`: this generation is delivered (or has no URL): ack, no POST;
 * - `given_up`: this message's retries are over: let it go on to the DLQ;
 * - `in_flight`: an attempt holds the claim: come back when its lease ends;
 * - `missing`: no such event.
 */
export type ClaimVerdict = 'claimed' | 'superseded' | 'settled' | 'given_up' | 'in_flight' | 'missing';

export function claimVerdict(state: ClaimState | undefined, message: { generation: number; messageId: string; token: string }, nowMs: number): ClaimVerdict {
  if (!state) return 'missing';
  if (state.claimToken === message.token) return 'claimed';
  if (state.generation !== message.generation) return 'superseded';
  if (state.claimedBy !== undefined && state.claimedBy !== message.messageId) return 'superseded';
  if (state.status === 'failed') return 'given_up';
  if (isSettled(state.status)) return 'settled';
  if (state.claimUntilMs !== undefined && state.claimUntilMs >= nowMs) return 'in_flight';
  // The condition failed for a reason the state read back no longer shows (it changed in between).
  return 'in_flight';
}

// ---------------------------------------------------------------------------------------------
// The sweeper: re-queues events whose delivery stalled

export { SWEEP_GRACE_SECONDS } from './webhook-sweep-grace.ts';

/** Consecutive sweeps of one event double the wait before the next, up to 2^5 grace periods. */
const MAX_SWEEP_DOUBLINGS = 5;

/**
 * When a swept event is due again: one grace period after a first sweep, doubling with each further
 * sweep of it that no attempt followed (a queue backed up for an hour is not sent an extra copy
 * of every event each minute). An attempt resets the count.
 */
export function nextSweepDueMs(nowMs: number, graceSeconds: number, previousSweeps: number): number {
  const doublings = Math.min(Math.max(0, previousSweeps), MAX_SWEEP_DOUBLINGS);
  return nowMs + Math.max(1, graceSeconds) * 1000 * 2 ** doublings;
}

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
  type: EventType;
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
  type: EventType;
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
    payload: JSON.parse(payloadWithType(event.payload, event.type)) as unknown,
    delivery_status: event.deliveryStatus,
    attempt_count: event.attemptCount,
    attempts: event.attempts.map(attemptView),
    next_attempt_at: event.nextAttemptAt,
    delivered_at: event.deliveredAt,
    p_created_at: event.createdAt,
  };
}
