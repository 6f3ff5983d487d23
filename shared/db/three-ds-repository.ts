/**
 * 3DS verifications, `THREEDS#<id>` / `THREEDS`.
 *
 * A challenge is ONE transaction: the verification (holding only the code's keyed hash), a check
 * that the card is still Active, and the outbox event that carries the sealed code to the partner
 * (plus the idempotency completion when the caller sent a key). A locked or terminated card can
 * therefore never get a challenge, even if it changes while the challenge is being made.
 *
 * Every verification step is a conditional update on the state that was read (status and wrong
 * attempts), so concurrent attempts serialize: one code can verify only once, and no more than
 * five wrong codes are ever counted. The hash is removed the moment the verification stops being
 * Pending, so a used, expired or locked code is not even comparable any more.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Verification, VerificationStatus } from '../domain/three-ds.ts';
import { db, intAttr, tableName } from './client.ts';
import { idempotencyInProgress } from './idempotency-repository.ts';
import { cardKeys, threeDsKeys } from './keys.ts';
import { activeCheck } from './active-check.ts';
import { outboxItem, type OutboxEvent } from './outbox.ts';
import { transactWrite, type TransactItem } from './transact.ts';

/** Verifications stay readable (as Expired, Verified, ...) this long after the code expired. */
const RETENTION_AFTER_EXPIRY_SECONDS = 7 * 24 * 60 * 60;

export interface StoredVerification extends Verification {
  /** Keyed hash of the code and what it authorizes; absent once the verification is no longer Pending. */
  otpHash?: string;
}

/** Commits a challenge. Returns `'card_not_active'` (nothing written) if the card is no longer Active. */
export async function insertChallenge(
  verification: StoredVerification,
  event: OutboxEvent,
  idempotencyCompletion?: TransactItem,
): Promise<'inserted' | 'card_not_active'> {
  const table = tableName();
  const items: TransactItem[] = [
    { Put: { TableName: table, Item: toItem(verification), ConditionExpression: 'attribute_not_exists(PK)' } },
    activeCheck(cardKeys.card(verification.cardId)),
    outboxItem(event),
    ...(idempotencyCompletion ? [idempotencyCompletion] : []),
  ];
  const cardNotActive = new Error('card not active');
  try {
    await transactWrite(items, {
      onConditionFailed: (reasons) => {
        if (reasons[1]?.Code === 'ConditionalCheckFailed') return cardNotActive;
        if (reasons[3]?.Code === 'ConditionalCheckFailed') return idempotencyInProgress();
        return new Error('Challenge insert failed its condition: the verification or event id already exists');
      },
    });
  } catch (error) {
    if (error === cardNotActive) return 'card_not_active';
    throw error;
  }
  return 'inserted';
}

export async function getVerification(verificationId: string): Promise<StoredVerification | undefined> {
  const result = await db().send(new GetCommand({ TableName: tableName(), Key: threeDsKeys.verification(verificationId), ConsistentRead: true }));
  return result.Item ? fromItem(result.Item) : undefined;
}

/**
 * Moves a Pending verification that still has `wrongAttempts` wrong codes to its next state.
 * Returns false if it changed meanwhile (the caller reads it again and decides again).
 */
export async function advanceVerification(
  verification: StoredVerification,
  next: { status: VerificationStatus; wrongAttempts: number },
  nowMs: number,
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
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: threeDsKeys.verification(verification.verificationId),
        UpdateExpression: `SET #status = :status, wrongAttempts = :wrong${next.status === 'Pending' ? '' : ' REMOVE otpHash'}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
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
