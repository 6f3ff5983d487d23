/**
 * 3-D Secure one-time codes: a challenge for one card, amount and merchant; a 6-digit code sent to
 * the partner by webhook; a verification that accepts it once, within 5 minutes, with at most 5
 * wrong attempts. Pure: the CSPRNG and the clock are passed in.
 *
 * The code is stored only as a keyed hash over the code AND what it authorizes (verification,
 * card, amount, currency, merchant), so a hash copied onto another verification, or a
 * verification edited to another amount, no longer matches any code.
 */
import { z } from 'zod';
import { formatAmount, isCurrency, parseAmount, exponentOf } from './money.ts';
import { NetworkAuthorizationBody, SimulateAuthorizationBody, normalizeDecimal, type Merchant } from './transactions.ts';
import { OTP_TTL_SECONDS } from './webhook-delivery.ts';

export { OTP_TTL_SECONDS };

/** Wrong codes a verification accepts; the one after the last allowed locks it. */
export const MAX_WRONG_ATTEMPTS = 5;
export const OTP_DIGITS = 6;

export type RandomInt = (maxExclusive: number) => number;

/** A 6-digit code, uniform over 000000-999999 (leading zeros kept). */
export function generateOtp(randomInt: RandomInt): string {
  return String(randomInt(10 ** OTP_DIGITS)).padStart(OTP_DIGITS, '0');
}

/** What a verification is for; every field is bound into the code's keyed hash. */
export interface ChallengeSubject {
  verificationId: string;
  cardId: string;
  /** Positive, normalized decimal string (`"101"`, `"12.5"`). */
  amount: string;
  currency: string;
  merchant: Merchant;
}

/** The message under the keyed hash: unambiguous (JSON array), code last. */
export function otpBinding(subject: ChallengeSubject, code: string): string {
  const m = subject.merchant;
  return JSON.stringify([subject.verificationId, subject.cardId, subject.amount, subject.currency, m.merchantId, m.merchantName, m.merchantCountry, m.merchantCity, code]);
}

/** Stored status. `Failed` is not one: a wrong code leaves the verification `Pending` (or `Locked`). */
export type VerificationStatus = 'Pending' | 'Verified' | 'Expired' | 'Locked';

export interface Verification extends ChallengeSubject {
  businessId: string;
  status: VerificationStatus;
  wrongAttempts: number;
  /** Epoch milliseconds after which the code is refused. */
  otpExpiresAtMs: number;
  createdAt: string;
}

export type VerifyOutcome =
  | { kind: 'verified' }
  | { kind: 'failed'; wrongAttempts: number }
  | { kind: 'locked'; wrongAttempts: number; justLocked: boolean }
  | { kind: 'expired'; justExpired: boolean }
  | { kind: 'already_verified' };

/**
 * Decides a verification attempt. Order matters: a used code stays used, a locked verification
 * stays locked (even for the right code), an expired one stays expired, and only then is the
 * candidate code's match (computed in constant time by the caller) considered.
 */
export function decideVerification(verification: Verification, nowMs: number, codeMatches: boolean): VerifyOutcome {
  switch (verification.status) {
    case 'Verified':
      return { kind: 'already_verified' };
    case 'Locked':
      return { kind: 'locked', wrongAttempts: verification.wrongAttempts, justLocked: false };
    case 'Expired':
      return { kind: 'expired', justExpired: false };
    case 'Pending':
      break;
  }
  if (nowMs >= verification.otpExpiresAtMs) return { kind: 'expired', justExpired: true };
  if (codeMatches) return { kind: 'verified' };
  const wrongAttempts = verification.wrongAttempts + 1;
  if (wrongAttempts >= MAX_WRONG_ATTEMPTS) return { kind: 'locked', wrongAttempts, justLocked: true };
  return { kind: 'failed', wrongAttempts };
}

// ---------------------------------------------------------------------------------------------
// Views and the OTP webhook

export type VerifyStatus = 'Verified' | 'Failed' | 'Expired' | 'Locked';

export interface VerifyView {
  verification_id: string;
  status: VerifyStatus;
  attempts_remaining: number;
}

export function verifyView(verificationId: string, status: VerifyStatus, wrongAttempts: number): VerifyView {
  return { verification_id: verificationId, status, attempts_remaining: Math.max(0, MAX_WRONG_ATTEMPTS - wrongAttempts) };
}

export interface ChallengeView {
  verification_id: string;
  expires_at: string;
}

/** The 3DS OTP webhook of API.md, without `otp_code`, which is added only at delivery. */
export interface OtpWebhookFields {
  p_business_id: string;
  card_reference_id: string;
  verification_id: string;
  business_name: string;
  card_num: string;
  transaction_currency: string;
  transaction_amount: string;
  merchant_id: string;
  merchant_country: string;
  merchant_city: string;
  merchant_name: string;
  p_created_at: string;
}

export function otpWebhookFields(input: {
  businessId: string;
  businessName: string;
  maskedCardNumber: string;
  subject: ChallengeSubject;
  createdAt: string;
}): OtpWebhookFields {
  const { subject } = input;
  return {
    p_business_id: input.businessId,
    card_reference_id: subject.cardId,
    verification_id: subject.verificationId,
    business_name: input.businessName,
    card_num: input.maskedCardNumber,
    transaction_currency: subject.currency,
    // A debit, negative as in the transaction webhooks (API.md's example: "-101").
    transaction_amount: `-${subject.amount}`,
    merchant_id: subject.merchant.merchantId,
    merchant_country: subject.merchant.merchantCountry,
    merchant_city: subject.merchant.merchantCity,
    merchant_name: subject.merchant.merchantName,
    p_created_at: input.createdAt,
  };
}

/** The body actually POSTed: the stored fields plus the code, last, as in API.md. */
export function otpWebhookBody(storedPayload: string, code: string): string {
  const fields = JSON.parse(storedPayload) as OtpWebhookFields;
  return JSON.stringify({ ...fields, otp_code: code });
}

// ---------------------------------------------------------------------------------------------
// Request schemas

/** `POST /v1/simulate/3ds`: the card by id, as the authorization simulator takes it. */
export const SimulateThreeDsBody = SimulateAuthorizationBody;
export type SimulateThreeDsBody = z.output<typeof SimulateThreeDsBody>;

/** `POST /network/3ds/challenges`: the card by number. */
export const NetworkThreeDsBody = NetworkAuthorizationBody.omit({ network_authorization_id: true });
export type NetworkThreeDsBody = z.output<typeof NetworkThreeDsBody>;

export const VerifyOtpBody = z.object({ otp_code: z.string().regex(/^\d{6}$/, 'must be the 6-digit code') });
export type VerifyOtpBody = z.output<typeof VerifyOtpBody>;

/**
 * The amount as a normalized positive decimal; for a known currency, no more decimals than it has.
 * Returns a problem message instead of throwing, for the caller to render as a field error.
 */
export function normalizedChallengeAmount(amount: string, currency: string): { amount: string } | { problem: string } {
  if (isCurrency(currency)) {
    try {
      return { amount: formatAmount(parseAmount(amount, exponentOf(currency)), exponentOf(currency)) };
    } catch (error) {
      return { problem: (error as Error).message };
    }
  }
  return { amount: normalizeDecimal(amount) };
}
