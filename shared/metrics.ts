/**
 * Business metrics (Powertools Metrics, CloudWatch EMF) in the `CardPlatform` namespace, what the
 * dashboard's business widgets graph (infra/constructs/platform-dashboard.ts). Services call the
 * typed recorders below where an effect is decided; nothing else touches the Metrics instance.
 *
 * Every dimension is `service`, `stage` and at most one of a fixed vocabulary (a decline reason, an
 * outcome): never an id, an amount or anything a caller chose, because each distinct value is a
 * custom metric that CloudWatch bills and keeps, and because EMF lines land in the logs.
 *
 * Undimensioned figures are buffered and flushed once per invocation by the wrappers'
 * `businessMetrics()` middleware. A figure with a dimension is written at once as its own EMF line
 * (`singleMetric`): one flush carries one value per dimension, and a webhook batch can hold a
 * delivered and a retrying attempt.
 *
 * `POWERTOOLS_METRICS_DISABLED=true` (unit tests, the local stack) records nothing to stdout.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type middy from '@middy/core';
import { config } from './config.ts';
import type { DeclineReason } from './domain/authorization.ts';
import type { VerifyStatus } from './domain/three-ds.ts';
import { logger } from './logger.ts';

type MetricsLogger = NonNullable<NonNullable<ConstructorParameters<typeof Metrics>[0]>['logger']>;

export const METRICS_NAMESPACE = 'CardPlatform';
export const METRICS_SERVICE = 'card-platform';

export const WEBHOOK_OUTCOMES = ['delivered', 'retrying', 'failed', 'skipped'] as const;
/** What became of a webhook message: the status written on its event (`skipped`: no webhook URL, nothing sent). */
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

export const OTP_OUTCOMES = ['verified', 'failed', 'expired', 'locked'] as const;
/** A 3DS code verification's answer (API.md's verify statuses, lower-cased). */
export type OtpOutcome = Lowercase<VerifyStatus>;

/**
 * Powertools warns on every flush without metrics ("No application metrics to publish"), which is
 * most invocations (a GET records nothing): that one is dropped, anything else logged as it came.
 */
const metricsLog: MetricsLogger = {
  debug: (...content) => logger.debug(String(content[0]), ...content.slice(1)),
  info: (...content) => logger.info(String(content[0]), ...content.slice(1)),
  warn: (...content) => {
    const message = String(content[0]);
    if (!message.startsWith('No application metrics')) logger.warn(message);
  },
  error: (...content) => logger.error(String(content[0])),
};

const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE, logger: metricsLog });

let stageSet = false;
/** The instance with its `stage` dimension, read from the validated config at first use (not at import). */
function business(): Metrics {
  if (!stageSet) {
    metrics.setDefaultDimensions({ stage: config().STAGE });
    stageSet = true;
  }
  return metrics;
}

function countWith(name: string, dimension: string, value: string): void {
  business().singleMetric().addDimension(dimension, value).addMetric(name, MetricUnit.Count, 1);
}

/** An authorization decided: `approved` once its hold committed, `declined` once its decline record did. */
export function recordAuthorization(decision: 'approved'): void;
export function recordAuthorization(decision: 'declined', reason: DeclineReason): void;
export function recordAuthorization(decision: 'approved' | 'declined', reason?: DeclineReason): void {
  if (decision === 'approved') business().addMetric('AuthorizationApproved', MetricUnit.Count, 1);
  else countWith('AuthorizationDeclined', 'reason', reason as DeclineReason);
}

/**
 * The business's authorization endpoint was asked: it answered (`partner`), or the stand-in
 * applied (a timeout, a non-2xx, an unusable answer). A rising stand-in count is the partner's
 * endpoint failing, not the platform.
 */
export function recordPartnerDecision(source: 'partner' | 'stand_in'): void {
  business().addMetric(source === 'partner' ? 'PartnerDecision' : 'StandInDecision', MetricUnit.Count, 1);
}

/** An authorization settled (captured), once its settlement committed. */
export function recordCapture(): void {
  business().addMetric('Capture', MetricUnit.Count, 1);
}

/** A webhook message's outcome, where its status is written; `latencyMs` when a POST was made. */
export function recordWebhookAttempt(outcome: WebhookOutcome, latencyMs?: number): void {
  countWith('WebhookAttempt', 'outcome', outcome);
  if (latencyMs !== undefined) business().addMetric('WebhookLatency', MetricUnit.Milliseconds, latencyMs);
}

/** A 3DS code verification answered (each verify call, whatever its status). */
export function recordOtpOutcome(outcome: OtpOutcome): void {
  countWith('OtpOutcome', 'outcome', outcome);
}

/** A deposit credited (committed; a replay credits nothing and counts nothing). */
export function recordDeposit(): void {
  business().addMetric('Deposit', MetricUnit.Count, 1);
}

/**
 * The middy middleware both wrappers use: flushes what the invocation buffered, once, after the
 * handler returns or throws. No cold-start metric, and an invocation that recorded nothing writes
 * nothing.
 */
export function businessMetrics(): middy.MiddlewareObj {
  return logMetrics(metrics, { captureColdStartMetric: false, throwOnEmptyMetrics: false });
}
