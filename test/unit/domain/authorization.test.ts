import { describe, expect, it } from 'vitest';
import { DECLINE_REASONS, firstDeclineReason, isExpired, preCheck, type PreCheckInput } from '../../../shared/domain/authorization.ts';
import { NO_LIMITS } from '../../../shared/domain/cards.ts';

const ok: PreCheckInput = {
  cardStatus: 'Active',
  expiry: { month: '11', year: '2030' },
  at: new Date('2026-11-26T10:00:00Z'),
  currencySupported: true,
  rateAvailable: true,
  total: 10_000n,
  limits: NO_LIMITS,
};

describe('preCheck', () => {
  it('approves an active, valid card without limits', () => {
    expect(preCheck(ok)).toBeUndefined();
  });

  it('declines in the documented order', () => {
    const everythingWrong: PreCheckInput = {
      cardStatus: 'Terminated',
      expiry: { month: '01', year: '2020' },
      at: ok.at,
      currencySupported: false,
      rateAvailable: false,
      total: 10_000n,
      limits: { transaction: 1n, daily: 1n, monthly: 1n, lifetime: 1n },
    };
    expect(preCheck(everythingWrong)).toBe('card_terminated');
    expect(preCheck({ ...everythingWrong, cardStatus: 'Locked' })).toBe('card_locked');
    expect(preCheck({ ...everythingWrong, cardStatus: 'Active' })).toBe('card_expired');
    expect(preCheck({ ...everythingWrong, cardStatus: 'Active', expiry: ok.expiry })).toBe('currency_not_supported');
    expect(preCheck({ ...everythingWrong, cardStatus: 'Active', expiry: ok.expiry, currencySupported: true })).toBe('fx_rate_unavailable');
    const supported = { ...everythingWrong, cardStatus: 'Active' as const, expiry: ok.expiry, currencySupported: true, rateAvailable: true };
    expect(preCheck(supported)).toBe('exceeds_transaction_limit');
    expect(preCheck({ ...supported, limits: { ...supported.limits, transaction: 0n } })).toBe('exceeds_daily_limit');
    expect(preCheck({ ...supported, limits: { ...supported.limits, transaction: 0n, daily: 0n } })).toBe('exceeds_monthly_limit');
    expect(preCheck({ ...supported, limits: { ...NO_LIMITS, lifetime: 1n } })).toBe('exceeds_lifetime_limit');
  });

  it('leaves a later window to the transaction once an earlier one is within reach (its spend decides it first; found by the money model)', () => {
    const input: PreCheckInput = { ...ok, total: 2_500n, limits: { transaction: 0n, daily: 3_000n, monthly: 500n, lifetime: 20_000n } };
    // Daily may already hold 2,000 spent: it, not monthly, is the first reason then.
    expect(preCheck(input)).toBeUndefined();
    expect(preCheck({ ...input, limits: { ...input.limits, daily: 0n } })).toBe('exceeds_monthly_limit');
  });

  it('allows a total exactly equal to the per-transaction limit', () => {
    expect(preCheck({ ...ok, limits: { ...NO_LIMITS, transaction: 10_000n } })).toBeUndefined();
    expect(preCheck({ ...ok, limits: { ...NO_LIMITS, transaction: 9_999n } })).toBe('exceeds_transaction_limit');
  });
});

describe('isExpired', () => {
  it('keeps a card valid through the last day of its expiry month', () => {
    const expiry = { month: '02', year: '2028' };
    expect(isExpired(expiry, new Date('2028-02-29T23:59:59Z'))).toBe(false);
    expect(isExpired(expiry, new Date('2028-03-01T00:00:00Z'))).toBe(true);
    expect(isExpired(expiry, new Date('2029-01-01T00:00:00Z'))).toBe(true);
  });
});

describe('firstDeclineReason', () => {
  it('picks the earliest reason in the documented order, whatever order they arrive in', () => {
    expect(firstDeclineReason(['insufficient_balance', 'exceeds_monthly_limit', 'user_suspended'])).toBe('user_suspended');
    expect(firstDeclineReason(['insufficient_balance', 'exceeds_lifetime_limit'])).toBe('exceeds_lifetime_limit');
    expect(firstDeclineReason([])).toBeUndefined();
  });

  it('covers every decline reason of API.md', () => {
    expect([...DECLINE_REASONS].sort()).toEqual(
      [
        'card_locked',
        'card_terminated',
        'card_expired',
        'user_suspended',
        'insufficient_balance',
        'exceeds_transaction_limit',
        'exceeds_daily_limit',
        'exceeds_monthly_limit',
        'exceeds_lifetime_limit',
        'currency_not_supported',
        'fx_rate_unavailable',
      ].sort(),
    );
  });
});
