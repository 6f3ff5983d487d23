/**
 * 3-D Secure challenges: `POST /network/3ds/challenges` (the card network, by card number) and
 * `POST /v1/simulate/3ds` (a sandbox partner, by card id), and their verify routes.
 *
 * A challenge draws a 6-digit code from the CSPRNG and keeps it only twice, never in clear: as a
 * keyed hash bound to the verification, card, amount, currency and merchant (to verify against),
 * and sealed with envelope encryption inside the outbox event that carries it to the partner's
 * webhook (API.md's 3DS OTP body). The code is never logged and never returned by the API.
 *
 * Guessing is bounded twice: five wrong codes lock a verification, and a card takes at most ten
 * wrong codes in any 24 hours across all its challenges; after that its new challenges are refused
 * (`409 otp_attempts_exhausted`) and its pending ones verify as `Locked`.
 */
import { randomInt } from 'node:crypto';
import { sealSecret } from '../crypto/envelope.ts';
import { keyedHash, sameHash } from '../crypto/keyed-hash.ts';
import { expiryFor } from '../domain/card-number.ts';
import {
  challengeRefusal,
  decideVerification,
  generateOtp,
  normalizedChallengeAmount,
  otpBinding,
  otpWebhookFields,
  OTP_TTL_SECONDS,
  verifyView,
  type ChallengeRefusal,
  type ChallengeSubject,
  type ChallengeView,
  type NetworkThreeDsBody,
  type SimulateThreeDsBody,
  type VerifyView,
} from '../domain/three-ds.ts';
import { newId } from '../domain/ids.ts';
import { isoFromMicros, nowIso } from '../domain/time.ts';
import { merchantFrom } from '../domain/transactions.ts';
import { ApiError, notFound, ValidationError } from '../errors.ts';
import { respond, type HttpResult } from '../http/responses.ts';
import { requireBusiness } from '../db/businesses-repository.ts';
import { findCardIdByNumber, getCard, type StoredCard } from '../db/cards-repository.ts';
import type { IdempotencyScope } from '../db/idempotency-repository.ts';
import { otpSealContext, type OutboxEvent } from '../db/outbox.ts';
import {
  advanceVerification,
  cardWrongCodes,
  getVerification,
  insertChallenge,
  type StoredVerification,
} from '../db/three-ds-repository.ts';
import { findUser } from '../db/users-repository.ts';
import { recordOtpOutcome, type OtpOutcome } from '../metrics.ts';

/** Concurrent attempts on one verification re-read and decide again; this many times at most. */
const MAX_CONCURRENT_RETRIES = 8;

type ChallengeRequest = Pick<SimulateThreeDsBody, 'amount' | 'currency' | 'merchant_id' | 'merchant_name' | 'merchant_country' | 'merchant_city' | 'mcc'>;

/** `POST /v1/simulate/3ds`: the business's own card, by id. */
export async function simulateChallenge(businessId: string, body: SimulateThreeDsBody, idempotency?: IdempotencyScope): Promise<HttpResult<ChallengeView>> {
  const card = await getCard(body.card_id);
  if (!card || card.businessId !== businessId) throw notFound('card');
  return challenge(card, body, idempotency);
}

/** `POST /network/3ds/challenges`: any card, by number. */
export async function networkChallenge(body: NetworkThreeDsBody, idempotency?: IdempotencyScope): Promise<HttpResult<ChallengeView>> {
  const indexed = await findCardIdByNumber(body.card_number);
  const card = indexed ? await getCard(indexed.cardId) : undefined;
  if (!card) throw notFound('card');
  return challenge(card, body, idempotency);
}

/** Tries at a challenge's transaction while the card, its user or its budget change under it. */
const MAX_CHALLENGE_ATTEMPTS = 3;

async function challenge(card: StoredCard, request: ChallengeRequest, idempotency?: IdempotencyScope): Promise<HttpResult<ChallengeView>> {
  const createdAt = nowIso();
  const createdAtMs = Math.floor(Date.parse(createdAt));
  await assertChallengeable(card, createdAtMs);
  const normalized = normalizedChallengeAmount(request.amount, request.currency);
  if ('problem' in normalized) throw new ValidationError([{ path: 'amount', message: normalized.problem }]);

  const business = await requireBusiness(card.businessId);
  const subject: ChallengeSubject = {
    verificationId: newId(),
    cardId: card.cardId,
    amount: normalized.amount,
    currency: request.currency,
    merchant: merchantFrom(request),
  };
  const code = generateOtp(randomInt);
  const otpExpiresAtMs = createdAtMs + OTP_TTL_SECONDS * 1000;
  const verification: StoredVerification = {
    ...subject,
    businessId: card.businessId,
    status: 'Pending',
    wrongAttempts: 0,
    otpExpiresAtMs,
    otpHash: await keyedHash('otp', otpBinding(subject, code)),
    createdAt,
  };
  const eventId = newId();
  const webhook = otpWebhookFields({ businessId: card.businessId, businessName: business.name, maskedCardNumber: card.maskedNumber, subject, createdAt });
  const event: OutboxEvent = {
    eventId,
    businessId: card.businessId,
    type: webhook.type,
    queue: 'otp',
    payload: JSON.stringify(webhook),
    createdAt,
    deliverUntil: Math.floor(otpExpiresAtMs / 1000),
    otpSealed: await sealSecret(code, otpSealContext({ businessId: card.businessId, eventId })),
  };
  const view: ChallengeView = { verification_id: subject.verificationId, expires_at: isoFromMicros(BigInt(otpExpiresAtMs) * 1000n) };

  const checks = { ...(card.userId ? { userId: card.userId } : {}), nowMs: createdAtMs };
  for (let attempt = 0; attempt < MAX_CHALLENGE_ATTEMPTS; attempt++) {
    const outcome = await insertChallenge(verification, event, checks, idempotency?.completionItem(view));
    if (outcome === 'inserted') return respond(201, view);
    // The card, its user or its budget changed since they were read: say what they are now.
    const now = await getCard(card.cardId);
    if (!now) throw notFound('card');
    await assertChallengeable(now, createdAtMs);
  }
  throw new ApiError('service_unavailable');
}

/**
 * API.md: no challenge for a locked, terminated or expired card, a suspended cardholder, or a card
 * whose budget of wrong codes is spent; the challenge's transaction checks the same again.
 *
 * The expiry is decided as the authorization path decides `card_expired`: from the card's issue
 * date, which the card item carries (`expiryFor(createdAt)`: the issue month, five years on). So
 * the check needs no expiry stored beside the card and never opens the sealed bundle, which only
 * the audited reveal route may do; this row's grants stay as they were.
 */
async function assertChallengeable(card: StoredCard, nowMs: number): Promise<void> {
  const [user, wrongCodes] = await Promise.all([
    card.userId ? findUser(card.businessId, card.userId) : undefined,
    cardWrongCodes(card.cardId, nowMs),
  ]);
  const refusal = challengeRefusal({
    cardStatus: card.status,
    expiry: expiryFor(new Date(card.createdAt)),
    at: new Date(nowMs),
    // A B2C card's user is never deleted; one that cannot be read is treated as not Active.
    userStatus: card.userId ? (user?.status ?? 'Suspended') : null,
    cardWrongCodes: wrongCodes,
  });
  if (refusal) throw new ApiError(refusal);
}

/** `POST /v1/simulate/3ds/{verification_id}/verify`: only the business's own verifications. */
export function simulateVerify(businessId: string, verificationId: string, otpCode: string): Promise<VerifyView> {
  return verify(verificationId, otpCode, businessId);
}

/** `POST /network/3ds/challenges/{verification_id}/verify` */
export function networkVerify(verificationId: string, otpCode: string): Promise<VerifyView> {
  return verify(verificationId, otpCode);
}

/** Every answered verify counts as its status' outcome (a refusal, `404` or `409`, is not an outcome). */
async function verify(verificationId: string, otpCode: string, businessId?: string): Promise<VerifyView> {
  const view = await decideCode(verificationId, otpCode, businessId);
  recordOtpOutcome(view.status.toLowerCase() as OtpOutcome);
  return view;
}

async function decideCode(verificationId: string, otpCode: string, businessId?: string): Promise<VerifyView> {
  for (let attempt = 0; attempt < MAX_CONCURRENT_RETRIES; attempt++) {
    const verification = await getVerification(verificationId);
    if (!verification || (businessId !== undefined && verification.businessId !== businessId)) {
      throw notFound('verification');
    }
    const nowMs = Date.now();
    // Always hash and compare (constant time), whatever the state, so timing tells nothing.
    const [candidate, wrongCodes] = await Promise.all([
      keyedHash('otp', otpBinding(verification, otpCode)),
      verification.status === 'Pending' ? cardWrongCodes(verification.cardId, nowMs) : 0,
    ]);
    const matches = verification.otpHash !== undefined && sameHash(candidate, verification.otpHash);
    const outcome = decideVerification(verification, nowMs, matches, wrongCodes);

    switch (outcome.kind) {
      case 'already_verified':
        throw new ApiError('verification_already_used');
      case 'locked': {
        if (!outcome.justLocked) return verifyView(verificationId, 'Locked', outcome.wrongAttempts);
        // The verification's own last wrong code counts against the card; a lock by the card's spent budget does not.
        const effect = outcome.cause === 'challenge' ? 'count_wrong_code' : 'none';
        if (await advanceVerification(verification, { status: 'Locked', wrongAttempts: outcome.wrongAttempts }, nowMs, effect)) {
          return verifyView(verificationId, 'Locked', outcome.wrongAttempts);
        }
        break;
      }
      case 'expired':
        if (
          !outcome.justExpired ||
          (await advanceVerification(verification, { status: 'Expired', wrongAttempts: verification.wrongAttempts }, nowMs, 'none'))
        ) {
          return verifyView(verificationId, 'Expired', verification.wrongAttempts);
        }
        break;
      case 'failed':
        if (await advanceVerification(verification, { status: 'Pending', wrongAttempts: outcome.wrongAttempts }, nowMs, 'count_wrong_code')) {
          return verifyView(verificationId, 'Failed', outcome.wrongAttempts);
        }
        break;
      case 'verified':
        if (await advanceVerification(verification, { status: 'Verified', wrongAttempts: verification.wrongAttempts }, nowMs, 'within_budget')) {
          return verifyView(verificationId, 'Verified', verification.wrongAttempts);
        }
        break;
    }
    // Another attempt changed the verification, or spent the card's budget, first: read again and decide again.
  }
  throw new ApiError('service_unavailable');
}
