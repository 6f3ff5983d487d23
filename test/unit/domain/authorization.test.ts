import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DECLINE_REASONS, firstDeclineReason, isExpired, preCheck, type PreCheckInput } from '../../../shared/domain/authorization.ts';
import { NO_LIMITS } from '../../../shared/domain/cards.ts';
import { NO_CONTROLS } from '../../../shared/domain/controls.ts';

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

  it('puts the controls after user_suspended and before the currency, rate and limit reasons (API.md)', () => {
    const at = (reason: string) => DECLINE_REASONS.indexOf(reason as never);
    expect(at('merchant_category_blocked')).toBe(at('user_suspended') + 1);
    expect(at('merchant_country_blocked')).toBe(at('merchant_category_blocked') + 1);
    expect(at('currency_not_supported')).toBe(at('merchant_country_blocked') + 1);
    expect(at('exceeds_daily_count')).toBe(at('exceeds_lifetime_limit') + 1);
    expect(at('insufficient_balance')).toBe(at('exceeds_daily_count') + 1);
  });

  it('declines on controls after the card state and before currency, rate and limits', () => {
    const blocked = { ...NO_CONTROLS, blockedMccs: ['5814'], blockedCountries: ['HK'] };
    const merchant = { mcc: '5814', country: 'HK' };
    const wrong: PreCheckInput = {
      ...ok,
      currencySupported: false,
      rateAvailable: false,
      limits: { transaction: 1n, daily: 1n, monthly: 1n, lifetime: 1n },
      controls: [NO_CONTROLS, blocked],
      merchant,
    };
    expect(preCheck({ ...wrong, cardStatus: 'Locked' })).toBe('card_locked');
    expect(preCheck({ ...wrong, expiry: { month: '01', year: '2020' } })).toBe('card_expired');
    expect(preCheck(wrong)).toBe('merchant_category_blocked');
    expect(preCheck({ ...wrong, merchant: { ...merchant, mcc: '5411' } })).toBe('merchant_country_blocked');
    expect(preCheck({ ...wrong, merchant: { mcc: '5411', country: 'SG' } })).toBe('currency_not_supported');
  });

  it('decides exactly as the documented order over random cards, controls and merchants', () => {
    const codes = (pool: string[]) => fc.uniqueArray(fc.constantFrom(...pool), { maxLength: 3 });
    const mccs = ['5814', '5411', '7995'];
    const countries = ['HK', 'SG', 'US'];
    const controls = fc.record({
      allowedMccs: codes(mccs),
      blockedMccs: codes(mccs),
      allowedCountries: codes(countries),
      blockedCountries: codes(countries),
      maxDailyCount: fc.nat(5),
    });
    fc.assert(
      fc.property(
        fc.record({
          cardStatus: fc.constantFrom('Active', 'Locked', 'Terminated'),
          expired: fc.boolean(),
          currencySupported: fc.boolean(),
          rateAvailable: fc.boolean(),
          transactionLimit: fc.constantFrom(0n, 5_000n, 20_000n),
          card: controls,
          business: controls,
          mcc: fc.option(fc.constantFrom(...mccs)),
          country: fc.constantFrom('', ...countries),
        }),
        (world) => {
          const levels = [world.card, world.business];
          const admits = (allowed: string[], blocked: string[], value: string | null) =>
            (allowed.length === 0 || (value !== null && value !== '' && allowed.includes(value))) && !(value && blocked.includes(value));
          // The model: every failing check, then the first in the documented order.
          const failing = new Set<string>();
          if (world.cardStatus === 'Terminated') failing.add('card_terminated');
          if (world.cardStatus === 'Locked') failing.add('card_locked');
          if (world.expired) failing.add('card_expired');
          if (!levels.every((c) => admits(c.allowedMccs, c.blockedMccs, world.mcc))) failing.add('merchant_category_blocked');
          if (!levels.every((c) => admits(c.allowedCountries, c.blockedCountries, world.country))) failing.add('merchant_country_blocked');
          if (!world.currencySupported) failing.add('currency_not_supported');
          if (!world.rateAvailable) failing.add('fx_rate_unavailable');
          if (world.transactionLimit > 0n && 10_000n > world.transactionLimit) failing.add('exceeds_transaction_limit');
          const expected = DECLINE_REASONS.find((reason) => failing.has(reason));
          const decided = preCheck({
            ...ok,
            cardStatus: world.cardStatus,
            expiry: world.expired ? { month: '01', year: '2020' } : ok.expiry,
            currencySupported: world.currencySupported,
            rateAvailable: world.rateAvailable,
            limits: { ...NO_LIMITS, transaction: world.transactionLimit },
            controls: levels,
            merchant: { mcc: world.mcc, country: world.country },
          });
          expect(decided).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
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
        'merchant_category_blocked',
        'merchant_country_blocked',
        'exceeds_daily_count',
        'currency_not_supported',
        'partner_declined',
        'stand_in_declined',
        'fx_rate_unavailable',
      ].sort(),
    );
  });
});
