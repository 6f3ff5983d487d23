/**
 * 3DS verifications, `THREEDS#<id>` / `THREEDS`, and each card's hourly counters of wrong codes,
 * `CARD#<id>` / `WRONG_OTP#<hour>` (API.md "3DS budget per card"; the window is explained in
 * domain/three-ds.ts).
 *
 * A challenge is ONE transaction: the verification (holding only the code's keyed hash), checks
 * that the card is still Active, that a B2C card's user is still Active and that the card's budget
 * of wrong codes is not spent, and the outbox event that carries the sealed code to the partner
 * (plus the idempotency completion when the caller sent a key). So no card that must not be
 * challenged ever gets one, even if it changes while the challenge is being made.
 *
 * Every verification step is ONE transaction too: a conditional update on the state that was read
 * (status and wrong attempts), so concurrent attempts serialize (one code verifies once, no more
 * than five wrong codes per verification), together with the card's counters: a wrong code adds
 * itself to them only while they have room, a right code is accepted only while the budget holds.
 * So no more than ten wrong codes per card are ever counted in any 24 hours, however attempts race.
 * The hash is removed the moment the verification stops being Pending, so a used, expired or
 * locked code is not even comparable any more.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  CARD_WRONG_CODE_LIMIT,
  wrongCodeCounterHours,
  wrongCodeCounterRetiredAtMs,
  wrongCodeGuardHours,
  wrongCodeHour,
  wrongCodeHourLabel,
  type Verification,
  type VerificationStatus,
} from '../domain/three-ds.ts';
import { db, intAttr, tableName } from './client.ts';
import { idempotencyInProgress } from './idempotency-repository.ts';
import { threeDsKeys } from './keys.ts';
import { outboxEntries, type OutboxEvent } from './outbox.ts';
import { transaction, type TransactItem } from './transact.ts';
import { activeCardCheck } from './cards-repository.ts';
import { activeUserCheck } from './users-repository.ts';

/** Verifications stay readable (as Expired, Verified, ...) this long after the code expired. */
const RETENTION_AFTER_EXPIRY_SECONDS = 7 * 24 * 60 * 60;
/** A counter is read only during its own hour; kept an hour longer for attempts that straddle it. */
const COUNTER_RETENTION_AFTER_HOUR_SECONDS = 60 * 60;

export interface StoredVerification extends Verification {
  /** Keyed hash of the code and what it authorizes; absent once the verification is no longer Pending. */
  otpHash?: string;
}

export interface ChallengeChecks {
  /** The B2C card's user, who must still be Active; absent for a B2B card. */
  userId?: string;
  /** When the challenge is made: its hour's counter of wrong codes must have room. */
  nowMs: number;
}

/**
 * Commits a challenge; `'refused'` (nothing written) when one of its checks failed because the
 * card, its user or its budget changed since the caller read them: the caller reads them again.
 */
export async function insertChallenge(
  verification: StoredVerification,
  event: OutboxEvent,
  checks: ChallengeChecks,
  idempotencyCompletion?: TransactItem,
): Promise<'inserted' | 'refused'> {
  const table = tableName();
  // The verification and the event are puts of fresh ids: untagged, their conditions never fail.
  const tx = transaction<'check' | 'idempotency'>()
    .add({ Put: { TableName: table, Item: toItem(verification), ConditionExpression: 'attribute_not_exists(PK)' } })
    .add(activeCardCheck(verification.cardId), 'check');
  if (checks.userId) tx.add(activeUserCheck(verification.businessId, checks.userId), 'check');
  tx.add(budgetCheck(verification.cardId, wrongCodeHour(checks.nowMs)), 'check').addAll(outboxEntries(event));
  if (idempotencyCompletion) tx.add(idempotencyCompletion, 'idempotency');
  const result = await tx.commit();
  if (result.committed) return 'inserted';
  if (result.failed.has('idempotency')) throw idempotencyInProgress();
  return 'refused';
}

/** Wrong codes counted against the card in the 24 hours up to the hour of `nowMs`. */
export async function cardWrongCodes(cardId: string, nowMs: number): Promise<number> {
  const result = await db().send(
    new GetCommand({ TableName: tableName(), Key: threeDsKeys.cardWrongCodes(cardId, wrongCodeHourLabel(wrongCodeHour(nowMs))), ConsistentRead: true }),
  );
  return result.Item ? intAttr(result.Item.wrongCodes) : 0;
}

export async function getVerification(verificationId: string): Promise<StoredVerification | undefined> {
  const result = await db().send(new GetCommand({ TableName: tableName(), Key: threeDsKeys.verification(verificationId), ConsistentRead: true }));
  return result.Item ? fromItem(result.Item) : undefined;
}

/**
 * What a verification step does to the card's budget: `count_wrong_code` adds a wrong code to the
 * card's counters, only while they have room; `within_budget` needs only that room (a right code
 * is accepted only while the card's budget holds); `none` leaves the card alone (expiry, or a lock
 * because the budget is spent).
 */
export type CardBudgetEffect = 'count_wrong_code' | 'within_budget' | 'none';

/**
 * Moves a Pending verification that still has `wrongAttempts` wrong codes to its next state, with
 * `effect` on the card's budget, in one transaction. Returns false if the verification changed
 * meanwhile or the card's budget ran out (the caller reads both again and decides again).
 */
export async function advanceVerification(
  verification: StoredVerification,
  next: { status: VerificationStatus; wrongAttempts: number },
  nowMs: number,
  effect: CardBudgetEffect,
): Promise<boolean> {
  const values: Record<string, unknown> = {
    ':pending': 'Pending',
    ':status': next.status,
    ':read': verification.wrongAttempts,
    ':wrong': next.wrongAttempts,
  };
  let condition = '#status = :pending AND wrongAttempts = :read';
  if (next.status === 'Verified') {
    // The code must still be valid at the moment it is consumed, not only when it was read.
    condition += ' AND otpExpiresAtMs > :now';
    values[':now'] = nowMs;
  }
  // Every condition here means the same: the verification or the card's budget changed.
  const tx = transaction<'changed'>().add(
    {
      Update: {
        TableName: tableName(),
        Key: threeDsKeys.verification(verification.verificationId),
        UpdateExpression: `SET #status = :status, wrongAttempts = :wrong${next.status === 'Pending' ? '' : ' REMOVE otpHash'}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: values,
      },
    },
    'changed',
  );
  if (effect === 'count_wrong_code') for (const counter of countWrongCode(verification.cardId, nowMs)) tx.add(counter, 'changed');
  if (effect === 'within_budget') tx.add(budgetCheck(verification.cardId, wrongCodeHour(nowMs)), 'changed');
  return (await tx.commit()).committed;
}

/** Holds only while the card's counter for `hour` has room for another wrong code. */
function budgetCheck(cardId: string, hour: number): TransactItem {
  return {
    ConditionCheck: {
      TableName: tableName(),
      Key: threeDsKeys.cardWrongCodes(cardId, wrongCodeHourLabel(hour)),
      ConditionExpression: 'attribute_not_exists(wrongCodes) OR wrongCodes < :limit',
      ExpressionAttributeValues: { ':limit': CARD_WRONG_CODE_LIMIT },
    },
  };
}

/**
 * Adds one wrong code to every counter whose window holds the hour of `nowMs` (that hour's and the
 * next 24), each an atomic ADD; the guard hours' (that hour's and the next) only while they have
 * room, so the whole transaction is cancelled once the budget is spent.
 */
function countWrongCode(cardId: string, nowMs: number): TransactItem[] {
  const guarded = new Set(wrongCodeGuardHours(nowMs));
  return wrongCodeCounterHours(nowMs).map((hour) => ({
    Update: {
      TableName: tableName(),
      Key: threeDsKeys.cardWrongCodes(cardId, wrongCodeHourLabel(hour)),
      UpdateExpression: 'ADD wrongCodes :one SET #entity = :entity, expiresAt = :expiresAt',
      ...(guarded.has(hour) ? { ConditionExpression: 'attribute_not_exists(wrongCodes) OR wrongCodes < :limit' } : {}),
      ExpressionAttributeNames: { '#entity': 'entity' },
      ExpressionAttributeValues: {
        ':one': 1,
        ':entity': 'three_ds_card_budget',
        ':expiresAt': Math.floor(wrongCodeCounterRetiredAtMs(hour) / 1000) + COUNTER_RETENTION_AFTER_HOUR_SECONDS,
        ...(guarded.has(hour) ? { ':limit': CARD_WRONG_CODE_LIMIT } : {}),
      },
    },
  }));
}

function toItem(v: StoredVerification): Record<string, unknown> {
  return {
    ...threeDsKeys.verification(v.verificationId),
    entity: 'three_ds_verification',
    verificationId: v.verificationId,
    businessId: v.businessId,
    cardId: v.cardId,
    amount: v.amount,
    currency: v.currency,
    merchant: v.merchant,
    status: v.status,
    wrongAttempts: v.wrongAttempts,
    otpExpiresAtMs: v.otpExpiresAtMs,
    otpHash: v.otpHash,
    createdAt: v.createdAt,
    expiresAt: Math.floor(v.otpExpiresAtMs / 1000) + RETENTION_AFTER_EXPIRY_SECONDS,
  };
}

function fromItem(item: Record<string, unknown>): StoredVerification {
  const merchant = (item.merchant ?? {}) as Record<string, unknown>;
  return {
    verificationId: String(item.verificationId),
    businessId: String(item.businessId),
    cardId: String(item.cardId),
    amount: String(item.amount),
    currency: String(item.currency),
    merchant: {
      merchantId: String(merchant.merchantId ?? ''),
      merchantName: String(merchant.merchantName ?? ''),
      merchantCountry: String(merchant.merchantCountry ?? ''),
      merchantCity: String(merchant.merchantCity ?? ''),
      mcc: typeof merchant.mcc === 'string' ? merchant.mcc : null,
    },
    status: String(item.status) as VerificationStatus,
    wrongAttempts: intAttr(item.wrongAttempts),
    otpExpiresAtMs: intAttr(item.otpExpiresAtMs),
    ...(typeof item.otpHash === 'string' ? { otpHash: item.otpHash } : {}),
    createdAt: String(item.createdAt),
  };
}
