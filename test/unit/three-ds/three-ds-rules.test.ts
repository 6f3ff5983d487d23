import { describe, expect, it } from 'vitest';
import {
  decideVerification,
  generateOtp,
  MAX_WRONG_ATTEMPTS,
  otpBinding,
  otpWebhookBody,
  VerifyOtpBody,
  type ChallengeSubject,
  type Verification,
} from '../../../shared/domain/three-ds.ts';

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
    expect(decideVerification(pending(), NOW, true)).toEqual({ kind: 'verified' });
  });

  it('is single use: a Verified verification refuses every code', () => {
    expect(decideVerification(pending({ status: 'Verified' }), NOW, true)).toEqual({ kind: 'already_verified' });
  });

  it('counts a wrong code and locks at the fifth', () => {
    expect(decideVerification(pending({ wrongAttempts: 0 }), NOW, false)).toEqual({ kind: 'failed', wrongAttempts: 1 });
    expect(decideVerification(pending({ wrongAttempts: MAX_WRONG_ATTEMPTS - 2 }), NOW, false)).toEqual({ kind: 'failed', wrongAttempts: 4 });
    expect(decideVerification(pending({ wrongAttempts: MAX_WRONG_ATTEMPTS - 1 }), NOW, false)).toEqual({ kind: 'locked', wrongAttempts: 5, justLocked: true });
  });

  it('stays Locked, even for the right code', () => {
    expect(decideVerification(pending({ status: 'Locked', wrongAttempts: 5 }), NOW, true)).toEqual({ kind: 'locked', wrongAttempts: 5, justLocked: false });
  });

  it('expires at five minutes, even for the right code', () => {
    expect(decideVerification(pending(), NOW + 300_000, true)).toEqual({ kind: 'expired', justExpired: true });
    expect(decideVerification(pending(), NOW + 299_999, true)).toEqual({ kind: 'verified' });
    expect(decideVerification(pending({ status: 'Expired' }), NOW, true)).toEqual({ kind: 'expired', justExpired: false });
  });
});

describe('the OTP webhook body', () => {
  it('adds the code last to the stored fields, which never hold it', () => {
    const stored = JSON.stringify({ p_business_id: 'b', verification_id: 'v', p_created_at: 't' });
    const body = otpWebhookBody(stored, '000123');
    expect(body).toBe('{"p_business_id":"b","verification_id":"v","p_created_at":"t","otp_code":"000123"}');
  });
});
