/**
 * Card reveal sessions in the single table: `REVEAL#<keyed hash of the token>` / `REVEAL`. The item
 * says which card of which business may be shown, to which framing origin, until when, and who
 * asked (the API key's id, for the audit trail); never the token, never card data.
 *
 * A session reveals once: the load that reveals is a conditional Update (not consumed, not expired)
 * that marks it consumed, so of any number of concurrent loads DynamoDB lets exactly one through.
 * The item expires by the table's TTL (`expiresAt`, seconds) a day after the link does, which keeps
 * a used link answering 410 rather than looking unknown for a while.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { db, tableName } from './client.ts';
import { revealSessionKeys } from './keys.ts';

export interface RevealSession {
  businessId: string;
  cardId: string;
  /** The API key's id that created the session (never the key). */
  keyId: string;
  /** The only origin allowed to frame the page (`frame-ancestors`). */
  origin: string;
  createdAt: string;
  /** RFC 3339: when the link stops working. */
  revealUntil: string;
  /** When the one load that revealed the card happened. */
  consumedAt?: string;
}

/** How long a session's item outlives its link before DynamoDB's TTL removes it. */
const KEPT_AFTER_EXPIRY_SECONDS = 24 * 60 * 60;

export async function insertRevealSession(tokenHash: string, session: RevealSession): Promise<void> {
  await db().send(
    new PutCommand({
      TableName: tableName(),
      Item: {
        ...revealSessionKeys.session(tokenHash),
        entity: 'reveal_session',
        businessId: session.businessId,
        cardId: session.cardId,
        keyId: session.keyId,
        origin: session.origin,
        createdAt: session.createdAt,
        revealUntil: session.revealUntil,
        expiresAt: Math.floor(Date.parse(session.revealUntil) / 1000) + KEPT_AFTER_EXPIRY_SECONDS,
      },
      // A fresh 256-bit token: a collision is an invariant broken, never overwritten.
      ConditionExpression: 'attribute_not_exists(PK)',
    }),
  );
}

export type RevealClaim = { revealed: true; session: RevealSession } | { revealed: false; session?: RevealSession };

/**
 * Consumes the session for the one load that may reveal it: conditional on it existing, not being
 * consumed and not being expired at `now`. Otherwise says why not with the session as stored (or
 * none, for a token that was never issued), so the refusal can still be framed by its origin.
 */
export async function consumeRevealSession(tokenHash: string, now: Date): Promise<RevealClaim> {
  const nowIso = now.toISOString();
  try {
    const result = await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: revealSessionKeys.session(tokenHash),
        UpdateExpression: 'SET consumedAt = :now',
        ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(consumedAt) AND revealUntil > :now',
        ExpressionAttributeValues: { ':now': nowIso },
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { revealed: true, session: fromItem(result.Attributes ?? {}) };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return error.Item ? { revealed: false, session: fromItem(unmarshall(error.Item)) } : { revealed: false };
  }
}

function fromItem(item: Record<string, unknown>): RevealSession {
  return {
    businessId: String(item.businessId),
    cardId: String(item.cardId),
    keyId: String(item.keyId),
    origin: String(item.origin),
    createdAt: String(item.createdAt),
    revealUntil: String(item.revealUntil),
    ...(typeof item.consumedAt === 'string' ? { consumedAt: item.consumedAt } : {}),
  };
}
