/**
 * How the business's authorization endpoint's reply becomes a decision: only a 2xx with a
 * well-formed answer is applied; everything else applies the stand-in, saying why.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpretReply, remainingBudgetMs, type EndpointReply } from '../../../shared/domain/authorization-decisions.ts';
import { parseMoney } from '../../../shared/domain/money.ts';

const usd = (amount: string) => parseMoney(amount, 'USD');
const ok = (body: unknown): EndpointReply => ({ statusCode: 200, body: JSON.stringify(body) });

describe('interpretReply', () => {
  it('approves, wholly or in part, and declines with the partner\'s reason and metadata', () => {
    expect(interpretReply(ok({ approved: true }), 'decline', 4000n, usd)).toEqual({ kind: 'approve' });
    expect(interpretReply(ok({ approved: true, amount: '25.50' }), 'decline', 4000n, usd)).toEqual({ kind: 'approve', approvedMinor: 2550n });
    expect(interpretReply(ok({ approved: true, amount: '40' }), 'decline', 4000n, usd)).toEqual({ kind: 'approve', approvedMinor: 4000n });
    expect(interpretReply(ok({ approved: false, decline_reason: 'velocity', metadata: { rule: 7 } }), 'approve', 4000n, usd)).toEqual({
      kind: 'decline',
      partnerReason: 'velocity',
      metadata: { rule: 7 },
    });
    expect(interpretReply(ok({ approved: true, amount: '0' }), 'approve', 4000n, usd)).toEqual({ kind: 'decline', partnerReason: null });
  });

  it.each([
    ['a timeout', { error: 'timeout' } as EndpointReply, 'timeout'],
    ['no time left', { error: 'no_time_left' } as EndpointReply, 'no_time_left'],
    ['an unreachable endpoint', { error: 'unreachable' } as EndpointReply, 'unreachable'],
    ['a 500', { statusCode: 500, body: '{"approved":true}' }, 'status_500'],
    ['a redirect', { statusCode: 302, body: '' }, 'status_302'],
    ['garbage', { statusCode: 200, body: '<html>' }, 'invalid_answer'],
    ['approved as a string', ok({ approved: 'true' }), 'invalid_answer'],
    ['an amount as a number', ok({ approved: true, amount: 25 }), 'invalid_answer'],
    ['an amount with too many decimals', ok({ approved: true, amount: '1.001' }), 'invalid_answer'],
    ['an amount above the request', ok({ approved: true, amount: '40.01' }), 'amount_above_request'],
    ['a reason over 64 characters', ok({ approved: false, decline_reason: 'x'.repeat(65) }), 'invalid_answer'],
    ['metadata over 1 KB', ok({ approved: true, metadata: { note: 'x'.repeat(1100) } }), 'invalid_answer'],
  ])('applies the stand-in on %s', (_name, reply, reason) => {
    expect(interpretReply(reply, 'decline', 4000n, usd)).toEqual({ kind: 'stand_in', action: 'decline', reason });
    expect(interpretReply(reply, 'approve', 4000n, usd)).toEqual({ kind: 'stand_in', action: 'approve', reason });
  });

  it('never approves more than was requested, whatever the partner answers', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 12n }), fc.bigInt({ min: 0n, max: 10n ** 12n }), (requested, answered) => {
        const amount = `${answered / 100n}.${String(answered % 100n).padStart(2, '0')}`;
        const outcome = interpretReply(ok({ approved: true, amount }), 'approve', requested, usd);
        if (outcome.kind === 'approve') expect(outcome.approvedMinor! <= requested).toBe(true);
        else if (outcome.kind === 'stand_in') expect(answered > requested).toBe(true);
        else expect(answered).toBe(0n);
      }),
    );
  });
});

describe('remainingBudgetMs', () => {
  it('counts the timeout from the request\'s arrival, never below zero', () => {
    expect(remainingBudgetMs(1500, 1000, 1000)).toBe(1500);
    expect(remainingBudgetMs(1500, 1000, 1400)).toBe(1100);
    expect(remainingBudgetMs(300, 1000, 1400)).toBe(0);
  });
});
