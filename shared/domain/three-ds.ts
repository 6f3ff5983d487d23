/**
 * 3-D Secure one-time codes: a challenge for one card, amount and merchant; a 6-digit code sent to
 * the partner by webhook; a verification that accepts it once, within 5 minutes, with at most 5
 * wrong attempts, and at most 10 wrong codes per card in any 24 hours across all its challenges.
 * Pure: the CSPRNG and the clock are passed in.
 *
 * The code is stored only as a keyed hash over the code AND what it authorizes (verification,
 * card, amount, currency, merchant), so a hash copied onto another verification, or a
 * verification edited to another amount, no longer matches any code.
 */
import * as z from '../zod.ts';
import { isExpired } from './authorization.ts';
import type { CardExpiry } from './card-number.ts';
import type { CardStatus } from './cards.ts';
import type { EventPayload } from './event-types.ts';
import type { UserStatus } from './users.ts';
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
  /** A wrong code, counted against the verification and the card. */
  | { kind: 'failed'; wrongAttempts: number }
  | { kind: 'locked'; wrongAttempts: number; justLocked: false }
  /**
   * Locked by this attempt: by its own wrong code, the last the verification allows (`challenge`:
   * counted like any wrong code), or because the card's budget is spent (`card`: the code is not
   * even considered, so it counts nowhere).
   */
  | { kind: 'locked'; wrongAttempts: number; justLocked: true; cause: 'challenge' | 'card' }
  | { kind: 'expired'; justExpired: boolean }
  | { kind: 'already_verified' };

/**
 * Decides a verification attempt. Order matters: a used code stays used, a locked verification
 * stays locked (even for the right code), an expired one stays expired; a card whose budget of
 * wrong codes is spent (`cardWrongCodes`, read for the attempt's hour) locks every pending
 * verification of it, even for the right code (a right code after many wrong ones may be a guess);
 * only then is the candidate code's match (computed in constant time by the caller) considered.
 */
export function decideVerification(verification: Verification, nowMs: number, codeMatches: boolean, cardWrongCodes: number): VerifyOutcome {
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
  if (cardBudgetSpent(cardWrongCodes)) return { kind: 'locked', wrongAttempts: verification.wrongAttempts, justLocked: true, cause: 'card' };
  if (codeMatches) return { kind: 'verified' };
  const wrongAttempts = verification.wrongAttempts + 1;
  if (wrongAttempts >= MAX_WRONG_ATTEMPTS) return { kind: 'locked', wrongAttempts, justLocked: true, cause: 'challenge' };
  return { kind: 'failed', wrongAttempts };
}

// ---------------------------------------------------------------------------------------------
// The card's budget of wrong codes (API.md "3DS budget per card")

/** Wrong codes a card accepts across all its challenges in any 24 hours. */
export const CARD_WRONG_CODE_LIMIT = 10;
export const CARD_WRONG_CODE_WINDOW_HOURS = 24;
const HOUR_MS = 60 * 60 * 1000;

/**
 * The sliding 24 hours are kept as hourly counters that each already hold their own window: the
 * counter of hour `h` counts the wrong codes decided in hours `h-24` to `h`, because a wrong code
 * decided in hour `d` is added to the counters of hours `d` to `d+24` (one transaction, with the
 * verification). So the one counter of the current hour answers "how many in the last 24 hours"
 * with no sum over items, which DynamoDB could not make atomic; and a conditional increment on it
 * (`< 10`) holds the limit under any concurrency.
 *
 * Why hourly buckets and not two fixed 24-hour windows: both are strict (the counter spans 25
 * hours, not 24, so a card is never allowed an 11th code within any 24 hours), but two daily
 * windows would keep a card locked for up to 48 hours after its 10th wrong code, hourly buckets for
 * at most 25. The price is 25 counter updates in a wrong code's transaction (26 items of the 100
 * allowed); a wrong code is rare and at most 10 a day per card are ever written.
 */
export function wrongCodeHour(nowMs: number): number {
  return Math.floor(nowMs / HOUR_MS);
}

/** The hourly counters a wrong code decided at `nowMs` is added to: its own hour's and the next 24. */
export function wrongCodeCounterHours(nowMs: number): number[] {
  const hour = wrongCodeHour(nowMs);
  return Array.from({ length: CARD_WRONG_CODE_WINDOW_HOURS + 1 }, (_, i) => hour + i);
}

/**
 * The counters whose room a wrong code must find at commit: its own hour's, and the next hour's.
 * The second makes the limit exact when an attempt decided just before the hour turns commits just
 * after it, behind attempts of the new hour: their counter then still has the last word.
 */
export function wrongCodeGuardHours(nowMs: number): number[] {
  const hour = wrongCodeHour(nowMs);
  return [hour, hour + 1];
}

/** The UTC hour `hour` (hours since the epoch) as its counter is keyed: `2026-12-01T07`. */
export function wrongCodeHourLabel(hour: number): string {
  return new Date(hour * HOUR_MS).toISOString().slice(0, 13);
}

/** Epoch ms from which the counter of `hour` is never read again (it is read only during its hour). */
export function wrongCodeCounterRetiredAtMs(hour: number): number {
  return (hour + 1) * HOUR_MS;
}

export function cardBudgetSpent(wrongCodesInWindow: number): boolean {
  return wrongCodesInWindow >= CARD_WRONG_CODE_LIMIT;
}

// ---------------------------------------------------------------------------------------------
// Which cards may be challenged

export type ChallengeRefusal = 'card_terminated' | 'card_locked' | 'card_expired' | 'user_suspended' | 'otp_attempts_exhausted';

/** The refusals in the order they are checked (as the authorization's declines): the first that applies answers. */
export const CHALLENGE_REFUSALS: readonly ChallengeRefusal[] = ['card_terminated', 'card_locked', 'card_expired', 'user_suspended', 'otp_attempts_exhausted'];

export interface ChallengeCheckInput {
  cardStatus: CardStatus;
  /** The card's expiry, as the authorization path derives it from the issue date (`expiryFor`). */
  expiry: CardExpiry;
  at: Date;
  /** The cardholder's status for a B2C card; null for a B2B card (no user). */
  userStatus: UserStatus | null;
  /** Wrong codes counted against the card for the current hour's window. */
  cardWrongCodes: number;
}

/** Why a card may not be challenged now, or undefined when it may (API.md "3DS budget per card"). */
export function challengeRefusal(input: ChallengeCheckInput): ChallengeRefusal | undefined {
  if (input.cardStatus === 'Terminated') return 'card_terminated';
  if (input.cardStatus === 'Locked') return 'card_locked';
  if (isExpired(input.expiry, input.at)) return 'card_expired';
  if (input.userStatus !== null && input.userStatus !== 'Active') return 'user_suspended';
  if (cardBudgetSpent(input.cardWrongCodes)) return 'otp_attempts_exhausted';
  return undefined;
}

/** The first of `refusals` in the checking order (several conditions of one transaction can fail at once). */
export function firstChallengeRefusal(refusals: Iterable<ChallengeRefusal>): ChallengeRefusal | undefined {
  const present = new Set(refusals);
  return CHALLENGE_REFUSALS.find((refusal) => present.has(refusal));
}

// ---------------------------------------------------------------------------------------------
// Views and the OTP webhook

export type VerifyStatus = 'Verified' | 'Failed' | 'Expired' | 'Locked';

export interface VerifyView {
  verification_id: string;
  status: VerifyStatus;
  attempts_remaining: number;
}

/** `attempts_remaining` is the verification's own count; none remain once it is Locked, whatever locked it. */
export function verifyView(verificationId: string, status: VerifyStatus, wrongAttempts: number): VerifyView {
  const remaining = status === 'Locked' ? 0 : Math.max(0, MAX_WRONG_ATTEMPTS - wrongAttempts);
  return { verification_id: verificationId, status, attempts_remaining: remaining };
}

export interface ChallengeView {
  verification_id: string;
  expires_at: string;
}

/** The 3DS OTP webhook of API.md (schema in event-types.ts), without `otp_code`, which is added only at delivery. */
export type OtpWebhookFields = Omit<EventPayload<'three_ds.otp'>, 'otp_code'>;

export function otpWebhookFields(input: {
  businessId: string;
  businessName: string;
  maskedCardNumber: string;
  subject: ChallengeSubject;
  createdAt: string;
}): OtpWebhookFields {
  const { subject } = input;
  return {
    type: 'three_ds.otp',
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

/**
 * The body actually POSTed: the stored fields plus the code, last, as in API.md (and `type`, which
 * an OTP committed before event types existed lacks).
 */
export function otpWebhookBody(storedPayload: string, code: string): string {
  const fields = JSON.parse(storedPayload) as OtpWebhookFields;
  const body: EventPayload<'three_ds.otp'> = { ...fields, type: 'three_ds.otp', otp_code: code };
  return JSON.stringify(body);
}

// ---------------------------------------------------------------------------------------------
// Request schemas

/** `POST /v1/simulate/3ds`: the card by id, as the authorization simulator takes it. */
export const SimulateThreeDsBody = SimulateAuthorizationBody;
export type SimulateThreeDsBody = z.output<typeof SimulateThreeDsBody>;

/** `POST /network/3ds/challenges`: the card by number. */
export const NetworkThreeDsBody = z.omit(NetworkAuthorizationBody, { network_authorization_id: true });
export type NetworkThreeDsBody = z.output<typeof NetworkThreeDsBody>;

export const VerifyOtpBody = z.object({ otp_code: z.string().check(z.regex(/^\d{6}$/, 'must be the 6-digit code')) });
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
