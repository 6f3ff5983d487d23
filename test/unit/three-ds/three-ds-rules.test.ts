import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CARD_WRONG_CODE_LIMIT,
  challengeRefusal,
  decideVerification,
  generateOtp,
  MAX_WRONG_ATTEMPTS,
  otpBinding,
  otpWebhookBody,
  VerifyOtpBody,
  verifyView,
  wrongCodeCounterHours,
  wrongCodeGuardHours,
  wrongCodeHour,
  wrongCodeHourLabel,
  type ChallengeCheckInput,
  type ChallengeSubject,
  type Verification,
} from '../../../shared/domain/three-ds.ts';
import { propertySeed } from '../../support/property-seed.ts';

const subject: ChallengeSubject = {
  verificationId: '0190a3c4-0000-7000-8000-00000000a001',
  cardId: '0190a3c4-0000-7000-8000-00000000c001',
  amount: '101',
  currency: 'HKD',
  merchant: { merchantId: 'm-1', merchantName: 'Tea', merchantCountry: 'HK', merchantCity: '', mcc: null },
};
const NOW = Date.parse('2025-03-04T03:32:11.000Z');
const pending = (overrides: Partial<Verification> = {}): Verification => ({
  ...subject,
  businessId: 'b',
  status: 'Pending',
  wrongAttempts: 0,
  otpExpiresAtMs: NOW + 300_000,
  createdAt: '2025-03-04T03:32:11.000000Z',
  ...overrides,
});

describe('one-time codes', () => {
  it('are six digits drawn from the given CSPRNG over the whole range, leading zeros kept', () => {
    const asked: number[] = [];
    const code = generateOtp((max) => {
      asked.push(max);
      return 42;
    });
    expect(asked).toEqual([1_000_000]);
    expect(code).toBe('000042');
    expect(generateOtp(() => 999_999)).toBe('999999');
  });

  it('are hashed together with the verification, card, amount, currency and merchant they authorize', () => {
    const base = otpBinding(subject, '123456');
    const variants = [
      otpBinding({ ...subject, verificationId: 'other' }, '123456'),
      otpBinding({ ...subject, cardId: 'other' }, '123456'),
      otpBinding({ ...subject, amount: '1010' }, '123456'),
      otpBinding({ ...subject, currency: 'USD' }, '123456'),
      otpBinding({ ...subject, merchant: { ...subject.merchant, merchantId: 'm-2' } }, '123456'),
      otpBinding(subject, '123457'),
    ];
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
    // Unambiguous: moving characters between fields changes the message.
    expect(otpBinding({ ...subject, amount: '10', currency: '1HKD' }, '1')).not.toBe(otpBinding({ ...subject, amount: '101', currency: 'HKD' }, '1'));
  });

  it('must be exactly six digits when verifying', () => {
    expect(VerifyOtpBody.safeParse({ otp_code: '012345' }).success).toBe(true);
    for (const bad of ['12345', '1234567', '12345a', 123456]) expect(VerifyOtpBody.safeParse({ otp_code: bad }).success).toBe(false);
  });
});

describe('deciding a verification', () => {
  it('verifies the right code while Pending and unexpired', () => {
    expect(decideVerification(pending(), NOW, true, 0)).toEqual({ kind: 'verified' });
  });

  it('is single use: a Verified verification refuses every code', () => {
    expect(decideVerification(pending({ status: 'Verified' }), NOW, true, 0)).toEqual({ kind: 'already_verified' });
  });

  it('counts a wrong code and locks at the fifth', () => {
    expect(decideVerification(pending({ wrongAttempts: 0 }), NOW, false, 0)).toEqual({ kind: 'failed', wrongAttempts: 1 });
    expect(decideVerification(pending({ wrongAttempts: MAX_WRONG_ATTEMPTS - 2 }), NOW, false, 0)).toEqual({ kind: 'failed', wrongAttempts: 4 });
    expect(decideVerification(pending({ wrongAttempts: MAX_WRONG_ATTEMPTS - 1 }), NOW, false, 0)).toEqual({ kind: 'locked', wrongAttempts: 5, justLocked: true, cause: 'challenge' });
  });

  it('stays Locked, even for the right code', () => {
    expect(decideVerification(pending({ status: 'Locked', wrongAttempts: 5 }), NOW, true, 0)).toEqual({ kind: 'locked', wrongAttempts: 5, justLocked: false });
  });

  it('expires at five minutes, even for the right code', () => {
    expect(decideVerification(pending(), NOW + 300_000, true, 0)).toEqual({ kind: 'expired', justExpired: true });
    expect(decideVerification(pending(), NOW + 299_999, true, 0)).toEqual({ kind: 'verified' });
    expect(decideVerification(pending({ status: 'Expired' }), NOW, true, 0)).toEqual({ kind: 'expired', justExpired: false });
  });
});

describe("a card's budget of wrong codes", () => {
  it('locks a pending verification once the card holds 10 wrong codes, even for the right code, counting nothing', () => {
    for (const matches of [true, false]) {
      expect(decideVerification(pending({ wrongAttempts: 2 }), NOW, matches, CARD_WRONG_CODE_LIMIT)).toEqual({
        kind: 'locked',
        wrongAttempts: 2,
        justLocked: true,
        cause: 'card',
      });
    }
    expect(decideVerification(pending({ wrongAttempts: 2 }), NOW, false, CARD_WRONG_CODE_LIMIT - 1)).toEqual({ kind: 'failed', wrongAttempts: 3 });
  });

  it('leaves a used, locked or expired verification as it is', () => {
    expect(decideVerification(pending({ status: 'Verified' }), NOW, true, 99)).toEqual({ kind: 'already_verified' });
    expect(decideVerification(pending(), NOW + 300_000, true, 99)).toEqual({ kind: 'expired', justExpired: true });
  });

  it('answers no attempts remaining once Locked, whatever locked it', () => {
    expect(verifyView('v', 'Locked', 2)).toEqual({ verification_id: 'v', status: 'Locked', attempts_remaining: 0 });
    expect(verifyView('v', 'Failed', 2).attempts_remaining).toBe(3);
  });

  it('counts a wrong code in its own hour and the next 24, and guards its own hour and the next', () => {
    const hour = Math.floor(NOW / 3_600_000);
    expect(wrongCodeHour(NOW)).toBe(hour);
    expect(wrongCodeCounterHours(NOW)).toEqual(Array.from({ length: 25 }, (_, i) => hour + i));
    expect(wrongCodeGuardHours(NOW)).toEqual([hour, hour + 1]);
    expect(wrongCodeHour(hour * 3_600_000 - 1)).toBe(hour - 1);
    expect(wrongCodeHourLabel(wrongCodeHour(Date.parse('2026-12-01T07:59:59.999Z')))).toBe('2026-12-01T07');
  });

  /**
   * The counters as the table keeps them: attempts commit in any order (concurrent verifications,
   * an attempt decided just before an hour turns committing after attempts of the new hour), each
   * only if its guard counters have room, as the transaction's conditions require.
   */
  function replay(attempts: { decidedAtMs: number; committedAtMs: number }[]) {
    const counters = new Map<number, number>();
    const accepted: number[] = [];
    for (const attempt of [...attempts].sort((a, b) => a.committedAtMs - b.committedAtMs)) {
      if (wrongCodeGuardHours(attempt.decidedAtMs).some((hour) => (counters.get(hour) ?? 0) >= CARD_WRONG_CODE_LIMIT)) continue;
      for (const hour of wrongCodeCounterHours(attempt.decidedAtMs)) counters.set(hour, (counters.get(hour) ?? 0) + 1);
      accepted.push(attempt.decidedAtMs);
    }
    return accepted.sort((a, b) => a - b);
  }

  it('never accepts an 11th wrong code within any 24 hours, however attempts interleave', () => {
    const DAY = 24 * 3_600_000;
    fc.assert(
      fc.property(
        fc.array(
          // Decided within three days, mostly within seconds of an hour turning (where the counters
          // change); committed up to a minute later (a verification's retries take seconds).
          fc.record({
            hour: fc.integer({ min: 0, max: 72 }),
            offsetMs: fc.oneof(fc.integer({ min: -5_000, max: 5_000 }), fc.integer({ min: 0, max: 3_600_000 })),
            delayMs: fc.integer({ min: 0, max: 60_000 }),
          }),
          { maxLength: 120 },
        ),
        (raw) => {
          const start = Math.floor(NOW / 3_600_000) * 3_600_000;
          const attempts = raw.map((a) => ({ decidedAtMs: start + a.hour * 3_600_000 + a.offsetMs, delayMs: a.delayMs }));
          const accepted = replay(attempts.map((a) => ({ decidedAtMs: a.decidedAtMs, committedAtMs: a.decidedAtMs + a.delayMs })));
          for (let i = CARD_WRONG_CODE_LIMIT; i < accepted.length; i++) {
            // The 11th accepted code is at least 24 hours after the 1st of any 11 in a row.
            expect(accepted[i]! - accepted[i - CARD_WRONG_CODE_LIMIT]!).toBeGreaterThanOrEqual(DAY);
          }
        },
      ),
      { numRuns: 300, seed: propertySeed },
    );
  });

  it('still finds the new hour full for an attempt decided just before the hour turned and committed after attempts of the new hour', () => {
    const turn = Math.ceil(NOW / 3_600_000) * 3_600_000;
    const newHour = { decidedAtMs: turn, committedAtMs: turn };
    const straddling = Array.from({ length: 10 }, (_, i) => ({ decidedAtMs: turn - 1_000, committedAtMs: turn + 1 + i }));
    expect(replay([newHour, ...straddling])).toHaveLength(10);
  });

  it('is strict by less than an hour: ten wrong codes in one moment block the card for 24 to 25 hours', () => {
    const start = Math.floor(NOW / 3_600_000) * 3_600_000 + 30 * 60_000; // half past the hour
    const burst = Array.from({ length: 10 }, () => ({ decidedAtMs: start, committedAtMs: start }));
    const at = (ms: number) => replay([...burst, { decidedAtMs: ms, committedAtMs: ms }]).length;
    expect(at(start + 24 * 3_600_000)).toBe(10); // 24 h later, still within the counted 25-hour span
    expect(at(start + 24.5 * 3_600_000)).toBe(11); // 24.5 h later the burst's hour has left the counted span
  });
});

describe('which cards may be challenged', () => {
  const ok: ChallengeCheckInput = {
    cardStatus: 'Active',
    expiry: { month: '12', year: '2031' },
    at: new Date('2026-12-01T07:00:00Z'),
    userStatus: 'Active',
    cardWrongCodes: 0,
  };

  it('any Active, unexpired card of an Active user (or a B2B card) with budget left', () => {
    expect(challengeRefusal(ok)).toBeUndefined();
    expect(challengeRefusal({ ...ok, userStatus: null })).toBeUndefined();
    expect(challengeRefusal({ ...ok, cardWrongCodes: CARD_WRONG_CODE_LIMIT - 1 })).toBeUndefined();
  });

  it('refuses in the documented order: terminated, locked, expired, suspended user, spent budget', () => {
    const everythingWrong: ChallengeCheckInput = {
      cardStatus: 'Terminated',
      expiry: { month: '11', year: '2026' },
      at: ok.at,
      userStatus: 'Suspended',
      cardWrongCodes: CARD_WRONG_CODE_LIMIT,
    };
    expect(challengeRefusal(everythingWrong)).toBe('card_terminated');
    expect(challengeRefusal({ ...everythingWrong, cardStatus: 'Locked' })).toBe('card_locked');
    expect(challengeRefusal({ ...everythingWrong, cardStatus: 'Active' })).toBe('card_expired');
    expect(challengeRefusal({ ...everythingWrong, cardStatus: 'Active', expiry: ok.expiry })).toBe('user_suspended');
    expect(challengeRefusal({ ...ok, cardWrongCodes: CARD_WRONG_CODE_LIMIT })).toBe('otp_attempts_exhausted');
  });

  it('keeps a card challengeable through the last day of its expiry month (UTC)', () => {
    const expiry = { month: '12', year: '2026' };
    expect(challengeRefusal({ ...ok, expiry, at: new Date('2026-12-31T23:59:59Z') })).toBeUndefined();
    expect(challengeRefusal({ ...ok, expiry, at: new Date('2027-01-01T00:00:00Z') })).toBe('card_expired');
  });
});

describe('the OTP webhook body', () => {
  it('adds the code last to the stored fields, which never hold it', () => {
    const stored = JSON.stringify({ type: 'three_ds.otp', p_business_id: 'b', verification_id: 'v', p_created_at: 't' });
    const body = otpWebhookBody(stored, '000123');
    expect(body).toBe('{"type":"three_ds.otp","p_business_id":"b","verification_id":"v","p_created_at":"t","otp_code":"000123"}');
  });

  it('adds the type to fields stored before event types existed', () => {
    const stored = JSON.stringify({ p_business_id: 'b', verification_id: 'v', p_created_at: 't' });
    const body = otpWebhookBody(stored, '000123');
    expect(body).toBe('{"p_business_id":"b","verification_id":"v","p_created_at":"t","type":"three_ds.otp","otp_code":"000123"}');
  });
});
