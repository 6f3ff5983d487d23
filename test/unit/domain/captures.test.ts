import { describe, expect, it } from 'vitest';
import { captureCeiling, planCapture } from '../../../shared/domain/captures.ts';
import { DEFAULT_HOLD_EXPIRY, holdExpiresAt, holdExpiryDays } from '../../../shared/domain/hold-expiry.ts';
import type { CardTransaction } from '../../../shared/domain/transactions.ts';

/** An authorization of 100.00 (minor units) with `remaining` still held. */
function authorization(overrides: Partial<CardTransaction> = {}): CardTransaction {
  return {
    transactionId: 't',
    businessId: 'b',
    cardId: 'c',
    mode: 'B2B',
    userId: null,
    status: 'Authorized',
    type: 'Sales',
    transactionCurrency: 'USD',
    transactionAmount: '100',
    localCurrency: 'USD',
    localAmount: 10_000n,
    fee: 0n,
    heldAmount: 10_000n,
    remainingHold: 10_000n,
    reversedAmount: 0n,
    settledAmount: null,
    windows: { daily: '2026-12-01', monthly: '2026-12', lifetime: 'lifetime' },
    merchant: { merchantId: '', merchantName: '', merchantCountry: 'HK', merchantCity: '', mcc: '5999' },
    declineReason: null,
    networkAuthorizationId: null,
    createdAt: '2026-12-01T00:00:00.000000Z',
    updatedAt: '2026-12-01T00:00:00.000000Z',
    version: 1,
    ...overrides,
  };
}

describe('planCapture', () => {
  it('takes only what it captures out of the hold on a partial capture, and keeps the rest held', () => {
    expect(planCapture(authorization(), 3_000n, false)).toEqual({ captured: 3_000n, leaving: 3_000n, fee: 0n, remainingHold: 7_000n, status: 'Authorized', windowDelta: 0n });
  });

  it('releases what is left on a final capture and gives it back to the windows', () => {
    expect(planCapture(authorization(), 3_000n)).toEqual({ captured: 3_000n, leaving: 10_000n, fee: 0n, remainingHold: 0n, status: 'Settled', windowDelta: -7_000n });
  });

  it('settles a partial capture that takes everything held', () => {
    expect(planCapture(authorization({ remainingHold: 2_000n }), 2_000n, false)).toMatchObject({ remainingHold: 0n, status: 'Settled' });
  });

  it('allows a tip of up to 20% of the authorized amount for restaurant, bar, fast-food, taxi and beauty MCCs only', () => {
    for (const mcc of ['5812', '5813', '5814', '4121', '7230']) {
      const dinner = authorization({ merchant: { ...authorization().merchant, mcc } });
      expect(captureCeiling(dinner)).toBe(12_000n);
      expect(planCapture(dinner, 12_000n)).toMatchObject({ captured: 12_000n, leaving: 10_000n, windowDelta: 2_000n, status: 'Settled' });
      expect(planCapture(dinner, 12_001n)).toBe('amount_exceeds_authorization');
    }
    expect(planCapture(authorization(), 10_001n)).toBe('amount_exceeds_authorization');
  });

  it('bases the tip room on the authorized amount, after partial captures too', () => {
    const dinner = authorization({ merchant: { ...authorization().merchant, mcc: '5812' }, remainingHold: 4_000n, settledAmount: 6_000n });
    expect(captureCeiling(dinner)).toBe(6_000n);
  });

  it('always posts a late capture of an expired authorization (default: what the expiry released), all of it from available', () => {
    const expired = authorization({ status: 'Expired', remainingHold: 0n, expiredAmount: 10_000n });
    expect(planCapture(expired, undefined)).toEqual({ captured: 10_000n, leaving: 0n, fee: 0n, remainingHold: 0n, status: 'Settled', windowDelta: 10_000n, expiredLeft: 0n });
    expect(planCapture(expired, 50_000n, false)).toMatchObject({ captured: 50_000n, status: 'Settled', expiredLeft: 0n });
    expect(planCapture(expired, 4_000n, false)).toMatchObject({ captured: 4_000n, status: 'Expired', expiredLeft: 6_000n });
  });

  it('takes late captures from what the expiry released once: a partial one leaves only the rest as the default', () => {
    const expired = authorization({ status: 'Expired', remainingHold: 0n, expiredAmount: 10_000n });
    const partial = planCapture(expired, 6_000n, false);
    if (partial === 'amount_exceeds_authorization') throw new Error('a late capture always posts');
    // The final capture without an amount posts the 4,000 left, not the 10,000 released: 10,000 in all.
    const rest = planCapture({ ...expired, expiredAmount: partial.expiredLeft }, undefined);
    expect(rest).toMatchObject({ captured: 4_000n, status: 'Settled', expiredLeft: 0n });
    // Nothing left: a capture without an amount posts nothing (the service refuses it).
    expect(planCapture({ ...expired, expiredAmount: 0n }, undefined, false)).toMatchObject({ captured: 0n, status: 'Settled' });
  });

  it('charges the FX fee once, out of the first captures', () => {
    const converted = authorization({ fee: 100n, heldAmount: 10_100n, remainingHold: 10_100n });
    expect(planCapture(converted, 60n, false)).toMatchObject({ fee: 60n });
    expect(planCapture({ ...converted, feeCollected: 60n }, 5_000n, false)).toMatchObject({ fee: 40n });
    expect(planCapture({ ...converted, feeCollected: 100n }, 5_000n)).toMatchObject({ fee: 0n });
  });
});

describe('hold expiry', () => {
  it('lasts 7 days, 30 for lodging and car rental', () => {
    expect(holdExpiryDays(DEFAULT_HOLD_EXPIRY, '5999')).toBe(7);
    expect(holdExpiryDays(DEFAULT_HOLD_EXPIRY, null)).toBe(7);
    expect(holdExpiryDays(DEFAULT_HOLD_EXPIRY, '7011')).toBe(30);
    expect(holdExpiryDays(DEFAULT_HOLD_EXPIRY, '7512')).toBe(30);
  });

  it('is an RFC 3339 time with microseconds, so it sorts as a string in the expiry index', () => {
    expect(holdExpiresAt(DEFAULT_HOLD_EXPIRY, '5999', new Date('2026-12-01T10:00:00.123Z'))).toBe('2026-12-08T10:00:00.123000Z');
    expect(holdExpiresAt({ defaultDays: 3, daysByMcc: {} }, '7011', new Date('2026-12-31T00:00:00Z'))).toBe('2027-01-03T00:00:00.000000Z');
  });
});
