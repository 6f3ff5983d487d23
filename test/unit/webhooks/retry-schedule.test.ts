import { describe, expect, it } from 'vitest';
import { queues } from '../../../shared/routes.ts';
import {
  attemptsCovering,
  MAX_VISIBILITY_SECONDS,
  nominalDelaySeconds,
  OTP_RETRY,
  OTP_TTL_SECONDS,
  retryDelaySeconds,
  TRANSACTION_EVENT_RETRY,
  type RetryPolicy,
} from '../../../shared/domain/webhook-delivery.ts';

/** When each attempt happens, in seconds after the first, if every delay is the shortest jitter allows. */
function earliestAttemptTimes(policy: RetryPolicy, attempts: number): number[] {
  const times = [0];
  for (let failed = 1; failed < attempts; failed++) times.push(times[failed - 1]! + retryDelaySeconds(policy, failed, () => 0));
  return times;
}

describe('the webhook retry schedule', () => {
  it('doubles the delay after each failure, from the first delay up to the cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => nominalDelaySeconds(TRANSACTION_EVENT_RETRY, n))).toEqual([10, 20, 40, 80, 160]);
    expect(nominalDelaySeconds(TRANSACTION_EVENT_RETRY, 11)).toBe(2 * 3600);
    expect(nominalDelaySeconds(TRANSACTION_EVENT_RETRY, 40)).toBe(2 * 3600);
  });

  it('never hides a message longer than SQS allows (12 h), whatever the policy', () => {
    const huge: RetryPolicy = { firstDelaySeconds: 3600, maxDelaySeconds: 10 ** 9, retryForSeconds: 1 };
    expect(retryDelaySeconds(huge, 30, () => 0.999)).toBe(MAX_VISIBILITY_SECONDS);
  });

  it('retries transaction events for at least 24 hours before the last attempt', () => {
    const attempts = attemptsCovering(TRANSACTION_EVENT_RETRY);
    const times = earliestAttemptTimes(TRANSACTION_EVENT_RETRY, attempts);
    expect(times.at(-1)).toBeGreaterThanOrEqual(24 * 3600);
    // ...and not needlessly longer: one attempt fewer would end before 24 h.
    expect(times.at(-2)).toBeLessThan(24 * 3600);
  });

  it('retries an OTP until its code expires, and no attempt is scheduled later than one delay past expiry', () => {
    const attempts = attemptsCovering(OTP_RETRY);
    const times = earliestAttemptTimes(OTP_RETRY, attempts);
    expect(times.at(-1)).toBeGreaterThanOrEqual(OTP_TTL_SECONDS);
    expect(times.at(-2)).toBeLessThan(OTP_TTL_SECONDS);
  });

  it("sizes each queue's maxReceiveCount to its schedule", () => {
    expect(queues.find((q) => q.name === 'events')?.maxReceiveCount).toBe(attemptsCovering(TRANSACTION_EVENT_RETRY));
    expect(queues.find((q) => q.name === 'otp')?.maxReceiveCount).toBe(attemptsCovering(OTP_RETRY));
    expect(attemptsCovering(TRANSACTION_EVENT_RETRY)).toBe(22);
  });

  it('adds jitter that only ever lengthens a delay, by at most a fifth', () => {
    for (const random of [0, 0.25, 0.5, 0.999]) {
      const delay = retryDelaySeconds(TRANSACTION_EVENT_RETRY, 4, () => random);
      expect(delay).toBeGreaterThanOrEqual(80);
      expect(delay).toBeLessThanOrEqual(96);
    }
    expect(new Set([0, 0.3, 0.6, 0.9].map((r) => retryDelaySeconds(TRANSACTION_EVENT_RETRY, 6, () => r))).size).toBe(4);
  });

  it('scales delays for tests (0: retry at once) in whole seconds', () => {
    expect(retryDelaySeconds(TRANSACTION_EVENT_RETRY, 5, () => 0.5, 0)).toBe(0);
    expect(Number.isInteger(retryDelaySeconds(OTP_RETRY, 1, () => 0.37))).toBe(true);
  });

  it("keeps each queue's visibility timeout (six times its consumer's timeout) under SQS's limit", () => {
    for (const queue of queues) expect(queue.consumerTimeoutSeconds * 6).toBeLessThanOrEqual(MAX_VISIBILITY_SECONDS);
  });
});
