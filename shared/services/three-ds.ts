/**
 * 3-D Secure challenges: `POST /network/3ds/challenges` (the card network, by card number) and
 * `POST /v1/simulate/3ds` (a sandbox partner, by card id), and their verify routes.
 *
 * A challenge draws a 6-digit code from the CSPRNG and keeps it only twice, never in clear: as a
 * keyed hash bound to the verification, card, amount, currency and merchant (to verify against),
 * and sealed with envelope encryption inside the outbox event that carries it to the partner's
 * webhook (API.md's 3DS OTP body). The code is never logged and never returned by the API.
 */
import { randomInt } from 'node:crypto';
import { sealSecret } from '../crypto/envelope.ts';
import { keyedHash, sameHash } from '../crypto/keyed-hash.ts';
import {
  decideVerification,
  generateOtp,
  normalizedChallengeAmount,
  otpBinding,
  otpWebhookFields,
  OTP_TTL_SECONDS,
  verifyView,
  type ChallengeSubject,
  type ChallengeView,
  type NetworkThreeDsBody,
  type SimulateThreeDsBody,
  type VerifyView,
} from '../domain/three-ds.ts';
import { newId } from '../domain/ids.ts';
import { isoFromMicros, nowIso } from '../domain/time.ts';
import { merchantFrom } from '../domain/transactions.ts';
import { ConflictError, notFound, ServiceUnavailableError, ValidationError } from '../errors.ts';
import { respond, type HttpResult } from '../http/responses.ts';
import { requireBusiness } from '../db/businesses-repository.ts';
import { findCardIdByNumber, getCard, type StoredCard } from '../db/cards-repository.ts';
import type { IdempotencyScope } from '../db/idempotency-repository.ts';
import { otpSealContext, type OutboxEvent } from '../db/outbox.ts';
import { advanceVerification, getVerification, insertChallenge, type StoredVerification } from '../db/three-ds-repository.ts';

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

async function challenge(card: StoredCard, request: ChallengeRequest, idempotency?: IdempotencyScope): Promise<HttpResult<ChallengeView>> {
  assertChallengeable(card);
  const normalized = normalizedChallengeAmount(request.amount, request.currency);
  if ('problem' in normalized) throw new ValidationError([{ path: 'amount', message: normalized.problem }]);

  const business = await requireBusiness(card.businessId);
  const createdAt = nowIso();
  const createdAtMs = Math.floor(Date.parse(createdAt));
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
  const event: OutboxEvent = {
    eventId,
    businessId: card.businessId,
    type: 'three_ds.otp',
    queue: 'otp',
    payload: JSON.stringify(
      otpWebhookFields({ businessId: card.businessId, businessName: business.name, maskedCardNumber: card.maskedNumber, subject, createdAt }),
    ),
    createdAt,
    deliverUntil: Math.floor(otpExpiresAtMs / 1000),
    otpSealed: await sealSecret(code, otpSealContext({ businessId: card.businessId, eventId })),
  };
  const view: ChallengeView = { verification_id: subject.verificationId, expires_at: isoFromMicros(BigInt(otpExpiresAtMs) * 1000n) };

  const outcome = await insertChallenge(verification, event, idempotency?.completionItem(201, view));
  if (outcome === 'card_not_active') {
    // It changed since it was read: report what it is now.
    const now = await getCard(card.cardId);
    if (now) assertChallengeable(now);
    throw new ConflictError('card_not_active', 'The card is not Active.');
  }
  return respond(201, view);
}

function assertChallengeable(card: StoredCard): void {
  if (card.status === 'Locked') throw new ConflictError('card_locked', 'The card is locked; it cannot be challenged.');
  if (card.status === 'Terminated') throw new ConflictError('card_terminated', 'The card is terminated; it cannot be challenged.');
}

/** `POST /v1/simulate/3ds/{verification_id}/verify`: only the business's own verifications. */
export function simulateVerify(businessId: string, verificationId: string, otpCode: string): Promise<VerifyView> {
  return verify(verificationId, otpCode, businessId);
}

/** `POST /network/3ds/challenges/{verification_id}/verify` */
export function networkVerify(verificationId: string, otpCode: string): Promise<VerifyView> {
  return verify(verificationId, otpCode);
}

async function verify(verificationId: string, otpCode: string, businessId?: string): Promise<VerifyView> {
  for (let attempt = 0; attempt < MAX_CONCURRENT_RETRIES; attempt++) {
    const verification = await getVerification(verificationId);
    if (!verification || (businessId !== undefined && verification.businessId !== businessId)) {
      throw notFound('verification');
    }
    const nowMs = Date.now();
    // Always hash and compare (constant time), whatever the state, so timing tells nothing.
    const candidate = await keyedHash('otp', otpBinding(verification, otpCode));
    const matches = verification.otpHash !== undefined && sameHash(candidate, verification.otpHash);
    const outcome = decideVerification(verification, nowMs, matches);

    switch (outcome.kind) {
      case 'already_verified':
        throw new ConflictError('verification_already_used', 'This verification already succeeded; a code is accepted once.');
      case 'locked':
        if (!outcome.justLocked) return verifyView(verificationId, 'Locked', outcome.wrongAttempts);
        if (await advanceVerification(verification, { status: 'Locked', wrongAttempts: outcome.wrongAttempts }, nowMs)) {
          return verifyView(verificationId, 'Locked', outcome.wrongAttempts);
        }
        break;
      case 'expired':
        if (!outcome.justExpired || (await advanceVerification(verification, { status: 'Expired', wrongAttempts: verification.wrongAttempts }, nowMs))) {
          return verifyView(verificationId, 'Expired', verification.wrongAttempts);
        }
        break;
      case 'failed':
        if (await advanceVerification(verification, { status: 'Pending', wrongAttempts: outcome.wrongAttempts }, nowMs)) {
          return verifyView(verificationId, 'Failed', outcome.wrongAttempts);
        }
        break;
      case 'verified':
        if (await advanceVerification(verification, { status: 'Verified', wrongAttempts: verification.wrongAttempts }, nowMs)) {
          return verifyView(verificationId, 'Verified', verification.wrongAttempts);
        }
        break;
    }
    // Another attempt changed the verification first: read it again and decide again.
  }
  throw new ServiceUnavailableError();
}
