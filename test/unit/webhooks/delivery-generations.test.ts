/**
 * The rules that keep one delivery per request for it (shared/domain/webhook-delivery.ts): which
 * message may attempt an event, how long an attempt's claim holds, how the sweeper spaces its
 * re-queues, and how statuses written before `retrying` existed read today.
 */
import { describe, expect, it } from 'vitest';
import { queues } from '../../../shared/routes.ts';
import { VISIBILITY_TIMEOUT_FACTOR } from '../../../infra/constructs/queues.ts';
import {
  ATTEMPT_CLAIM_SECONDS,
  claimVerdict,
  deliveryStatusOf,
  generationOf,
  isSettled,
  nextSweepDueMs,
  type ClaimState,
} from '../../../shared/domain/webhook-delivery.ts';

const NOW = 1_750_000_000_000;
const message = { generation: 2, messageId: 'm-1', token: 't-1' };
const state = (overrides: Partial<ClaimState>): ClaimState => ({ generation: 2, status: 'retrying', ...overrides });

describe('which message may attempt an event', () => {
  it('refuses a message of another generation: a redelivery, sweep or redrive superseded it', () => {
    expect(claimVerdict(state({ generation: 3 }), message, NOW)).toBe('superseded');
  });

  it('refuses a duplicate: another message owns this generation', () => {
    expect(claimVerdict(state({ claimedBy: 'm-0' }), message, NOW)).toBe('superseded');
  });

  it('refuses every message of a delivered event, or one without a webhook URL', () => {
    expect(claimVerdict(state({ status: 'delivered', claimedBy: 'm-1' }), message, NOW)).toBe('settled');
    expect(claimVerdict(state({ status: 'no_webhook_url' }), message, NOW)).toBe('settled');
  });

  it('lets the owner of a failed generation go on to the DLQ', () => {
    expect(claimVerdict(state({ status: 'failed', claimedBy: 'm-1' }), message, NOW)).toBe('given_up');
  });

  it('makes a message wait while another attempt holds the lease', () => {
    expect(claimVerdict(state({ claimedBy: 'm-1', claimToken: 't-0', claimUntilMs: NOW + 1 }), message, NOW)).toBe('in_flight');
  });

  it("recognises its own claim, written before a lost response made the SDK send it again", () => {
    expect(claimVerdict(state({ claimedBy: 'm-1', claimToken: 't-1', claimUntilMs: NOW + 60_000 }), message, NOW)).toBe('claimed');
  });

  it('says when the event does not exist', () => {
    expect(claimVerdict(undefined, message, NOW)).toBe('missing');
  });
});

describe('the claim lease', () => {
  it.each(queues)('outlasts the $name delivery function and ends before its messages come back from a crash', (row) => {
    expect(ATTEMPT_CLAIM_SECONDS).toBeGreaterThan(row.consumerTimeoutSeconds);
    expect(ATTEMPT_CLAIM_SECONDS).toBeLessThan(row.consumerTimeoutSeconds * VISIBILITY_TIMEOUT_FACTOR);
  });
});

describe('the sweeper cadence', () => {
  it('makes a swept event due again one grace period later, doubling with each sweep no attempt followed, up to 32 periods', () => {
    const waits = [0, 1, 2, 3, 4, 5, 6, 20].map((sweeps) => (nextSweepDueMs(NOW, 120, sweeps) - NOW) / 1000);
    expect(waits).toEqual([120, 240, 480, 960, 1920, 3840, 3840, 3840]);
  });
});

describe('delivery statuses', () => {
  it('are pending, retrying, delivered, failed and no_webhook_url; only the last three are settled', () => {
    expect((['pending', 'retrying', 'delivered', 'failed', 'no_webhook_url'] as const).map(isSettled)).toEqual([false, false, true, true, true]);
  });

  it('read statuses written before retrying existed: failed with a next attempt is retrying, dead_lettered is failed', () => {
    expect(deliveryStatusOf('failed', true)).toBe('retrying');
    expect(deliveryStatusOf('failed', false)).toBe('failed');
    expect(deliveryStatusOf('dead_lettered', false)).toBe('failed');
    expect(deliveryStatusOf('delivered', false)).toBe('delivered');
  });

  it('count generations from 1, also for events and messages written before generations existed', () => {
    expect([undefined, null, 'x', 0, 1, 4, { value: '7' }].map(generationOf)).toEqual([1, 1, 1, 1, 1, 4, 7]);
  });
});
