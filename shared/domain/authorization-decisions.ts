/**
 * Real-time authorization decisions (API.md "Real-time authorization decisions"): a business may
 * name an endpoint that approves or declines each authorization the platform's own checks passed.
 * Pure: the endpoint's settings, the partner's answer and how it becomes a decision.
 *
 * The partner's answer is applied only when it is a `2xx` with a well-formed body that arrived in
 * time; anything else (a timeout, a non-2xx, a body that does not parse, a partial approval above
 * the request) applies the endpoint's `stand_in`, and the reason says which.
 */
import * as z from '../zod.ts';

export const DECISION_TIMEOUT_MS = { min: 100, max: 2500, default: 1500 } as const;
export const STAND_IN_ACTIONS = ['approve', 'decline'] as const;
export type StandIn = (typeof STAND_IN_ACTIONS)[number];

/** `PUT /v1/authorization-endpoint` */
export const AuthorizationEndpointBody = z.object({
  url: z.string().check(z.minLength(1), z.maxLength(2048)),
  timeout_ms: z._default(z.int().check(z.gte(DECISION_TIMEOUT_MS.min), z.lte(DECISION_TIMEOUT_MS.max)), DECISION_TIMEOUT_MS.default),
  stand_in: z._default(z.enum(STAND_IN_ACTIONS), 'decline'),
});
export type AuthorizationEndpointBody = z.output<typeof AuthorizationEndpointBody>;

/** The largest answer body read from the partner; a longer one is not a well-formed answer. */
export const MAX_ANSWER_BYTES = 4096;
const MAX_METADATA_BYTES = 1024;

/** What the partner answers (`200`). */
export const PartnerAnswer = z.object({
  approved: z.boolean(),
  /** A partial approval, in the card currency: at most what was requested. */
  amount: z.optional(z.string().check(z.regex(/^\d+(\.\d+)?$/))),
  decline_reason: z.optional(z.string().check(z.maxLength(64))),
  metadata: z.optional(
    z
      .record(z.string(), z.unknown())
      .check(z.refine((value) => Buffer.byteLength(JSON.stringify(value)) <= MAX_METADATA_BYTES, { message: 'must be at most 1 KB' })),
  ),
});
export type PartnerAnswer = z.output<typeof PartnerAnswer>;

export const DECISION_SOURCES = ['platform', 'partner', 'stand_in'] as const;
export type DecisionSource = (typeof DECISION_SOURCES)[number];

/** Recorded on every authorization: who decided, how long the partner took, and why (stand-in). */
export interface Decision {
  source: DecisionSource;
  latencyMs: number;
  reason?: string;
}

/** Why a stand-in applied. */
export type StandInReason = 'timeout' | 'no_time_left' | `status_${number}` | 'invalid_answer' | 'amount_above_request' | 'unreachable';

export type PartnerOutcome =
  | { kind: 'approve'; approvedMinor?: bigint; metadata?: Record<string, unknown> }
  | { kind: 'decline'; partnerReason: string | null; metadata?: Record<string, unknown> }
  | { kind: 'stand_in'; action: StandIn; reason: StandInReason };

/** What the call to the endpoint returned: a status and body in time, or why there is none. */
export type EndpointReply = { statusCode: number; body: string } | { error: 'timeout' | 'no_time_left' | 'unreachable' };

/**
 * The partner's reply as a decision. `parseAmount` turns the partial amount into minor units of
 * the card currency (throwing on a precision the currency does not have); `requestedMinor` is what
 * the authorization asks in the card currency (amount and fee).
 */
export function interpretReply(
  reply: EndpointReply,
  standIn: StandIn,
  requestedMinor: bigint,
  parseAmount: (amount: string) => bigint,
): PartnerOutcome {
  const fallback = (reason: StandInReason): PartnerOutcome => ({ kind: 'stand_in', action: standIn, reason });
  if ('error' in reply) return fallback(reply.error);
  if (reply.statusCode < 200 || reply.statusCode > 299) return fallback(`status_${reply.statusCode}`);
  let answer: PartnerAnswer;
  try {
    const parsed = PartnerAnswer.safeParse(JSON.parse(reply.body));
    if (!parsed.success) return fallback('invalid_answer');
    answer = parsed.data;
  } catch {
    return fallback('invalid_answer');
  }
  const metadata = answer.metadata ? { metadata: answer.metadata } : {};
  if (!answer.approved) return { kind: 'decline', partnerReason: answer.decline_reason ?? null, ...metadata };
  if (answer.amount === undefined) return { kind: 'approve', ...metadata };
  let approvedMinor: bigint;
  try {
    approvedMinor = parseAmount(answer.amount);
  } catch {
    return fallback('invalid_answer');
  }
  if (approvedMinor > requestedMinor) return fallback('amount_above_request');
  if (approvedMinor <= 0n) return { kind: 'decline', partnerReason: answer.decline_reason ?? null, ...metadata };
  return { kind: 'approve', approvedMinor, ...metadata };
}

/**
 * The time the call may take: the endpoint's `timeout_ms`, counted from when the request reached
 * the platform (so the network's wait is bounded by `timeout_ms` plus the platform's own time).
 */
export function remainingBudgetMs(timeoutMs: number, requestStartedMs: number, nowMs: number): number {
  return Math.max(0, Math.floor(timeoutMs - (nowMs - requestStartedMs)));
}
