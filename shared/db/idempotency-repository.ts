/**
 * Idempotency records (API.md: `Idempotency-Key`, kept 24 h per business).
 *
 * A request first claims the key with an in-flight marker (owner + short lease). Its effect then
 * commits together with the completed record in ONE `TransactWriteItems`, conditional on still
 * owning the marker, so an effect can never commit without its record or the reverse. A crash
 * before the commit leaves only the marker, which expires with its lease and lets a retry run.
 *
 * A refusal after the claim (`404`, `409`, `422`: the effect did not happen) is the key's answer
 * too: it is recorded on its own (`complete`) and replayed like a success, so a retry cannot turn
 * a refused request into an executed one. Only an unexpected failure (`5xx`) releases the marker.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { macBytes } from '../crypto/keyed-hash.ts';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ApiError } from '../errors.ts';
import { db, intAttr, tableName } from './client.ts';
import { idempotencyKeys } from './keys.ts';
import type { TransactItem } from './transact.ts';

const RETENTION_SECONDS = 24 * 60 * 60;
/** Longer than any handler may run (API Gateway's limit is 29 s). */
const LEASE_MS = 35_000;

export interface StoredResponse {
  statusCode: number;
  /** The exact JSON text first returned, so a replay is byte-identical. */
  body: string;
}

export type ClaimResult = { kind: 'claimed'; scope: IdempotencyScope } | { kind: 'replay'; response: StoredResponse };

export class IdempotencyScope {
  private consumed = false;
  private stored: StoredResponse | undefined;

  constructor(
    readonly businessId: string,
    readonly key: string,
    readonly requestHash: string,
    private readonly owner: string,
    private readonly sealingKey: Buffer,
    /** The operation's success status (its contract's), stored with the effect's answer. */
    private readonly successStatus: number,
  ) {}

  get isConsumed(): boolean {
    return this.consumed;
  }

  /** The response recorded with the effect; the wrapper returns exactly this text. */
  get storedResponse(): StoredResponse | undefined {
    return this.stored;
  }

  /**
   * The transaction item that completes this key; put it in the same `TransactWriteItems` as the
   * effect. If it is the item whose condition failed, the lease was lost: see `isCompletionFailure`.
   */
  completionItem(body: unknown): TransactItem {
    const response = { statusCode: this.successStatus, body: JSON.stringify(body) };
    this.consumed = true;
    this.stored = response;
    return {
      Put: {
        TableName: tableName(),
        Item: this.completedRecord(response),
        ConditionExpression: '#owner = :owner AND #state = :inProgress',
        ExpressionAttributeNames: { '#owner': 'owner', '#state': 'state' },
        ExpressionAttributeValues: { ':owner': this.owner, ':inProgress': 'in_progress' },
      },
    };
  }

  /**
   * Forgets a completion item whose transaction was cancelled (e.g. the effect turned out to be a
   * repeat, or a business rule refused it), so the response actually returned is the one recorded
   * for the key: an item in a cancelled transaction was never written.
   */
  discardCompletion(): void {
    this.consumed = false;
    this.stored = undefined;
  }

  /**
   * Completes the key on its own: for an effect that committed without a completion item, or for a
   * refusal (API.md: a `4xx` answer is kept and replayed like a `2xx`). Conditional on still owning
   * the in-flight marker, like `completionItem`: a lost lease is `idempotencyInProgress`, never an
   * overwrite of what the key's new owner recorded.
   */
  async complete(response: StoredResponse): Promise<void> {
    try {
      await db().send(
        new PutCommand({
          TableName: tableName(),
          Item: this.completedRecord(response),
          ConditionExpression: '#owner = :owner AND #state = :inProgress',
          ExpressionAttributeNames: { '#owner': 'owner', '#state': 'state' },
          ExpressionAttributeValues: { ':owner': this.owner, ':inProgress': 'in_progress' },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw idempotencyInProgress();
      throw error;
    }
    this.consumed = true;
    this.stored = response;
  }

  /**
   * Releases the marker after a failure that is not kept (a `5xx`, or a validation error found by
   * the effect), so that a retry with the same key runs again.
   */
  async release(): Promise<void> {
    try {
      await db().send(
        new DeleteCommand({
          TableName: tableName(),
          Key: idempotencyKeys.record(this.businessId, this.key),
          ConditionExpression: '#owner = :owner AND #state = :inProgress',
          ExpressionAttributeNames: { '#owner': 'owner', '#state': 'state' },
          ExpressionAttributeValues: { ':owner': this.owner, ':inProgress': 'in_progress' },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private completedRecord(response: StoredResponse) {
    return {
      ...idempotencyKeys.record(this.businessId, this.key),
      state: 'completed',
      owner: this.owner,
      requestHash: this.requestHash,
      statusCode: response.statusCode,
      responseBody: sealResponse(this.sealingKey, this.businessId, this.key, response.body),
      expiresAt: Math.floor(Date.now() / 1000) + RETENTION_SECONDS,
    };
  }
}

/** The code of `idempotencyInProgress`: a refusal that is never the key's answer (it is not the key's owner). */
export const IDEMPOTENCY_IN_PROGRESS = 'idempotency_request_in_progress';

/** The error a repository throws when the completion item's condition failed (lease lost). */
export function idempotencyInProgress(): ApiError {
  return new ApiError(IDEMPOTENCY_IN_PROGRESS);
}

/**
 * Claims `key` for this request, or tells the caller to replay the stored response.
 * Throws 422 `idempotency_key_reused` for a different body and 409 while the first is running.
 */
export async function claimIdempotencyKey(businessId: string, key: string, hash: string, successStatus: number): Promise<ClaimResult> {
  const owner = randomUUID();
  const nowMs = Date.now();
  const sealingKey = await responseSealingKey(businessId, key);
  try {
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: {
          ...idempotencyKeys.record(businessId, key),
          state: 'in_progress',
          owner,
          requestHash: hash,
          leaseUntil: nowMs + LEASE_MS,
          expiresAt: Math.floor(nowMs / 1000) + RETENTION_SECONDS,
        },
        // TTL deletion is lazy, so an expired record counts as absent.
        ConditionExpression:
          'attribute_not_exists(PK) OR expiresAt < :nowSeconds OR (#state = :inProgress AND leaseUntil < :nowMs)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':nowSeconds': Math.floor(nowMs / 1000), ':nowMs': nowMs, ':inProgress': 'in_progress' },
      }),
    );
    return { kind: 'claimed', scope: new IdempotencyScope(businessId, key, hash, owner, sealingKey, successStatus) };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  const existing = await db().send(
    new GetCommand({ TableName: tableName(), Key: idempotencyKeys.record(businessId, key), ConsistentRead: true }),
  );
  const record = existing.Item;
  if (!record) throw idempotencyInProgress(); // completed and expired between our two calls: let the client retry
  if (record.requestHash !== hash) {
    throw new ApiError('idempotency_key_reused');
  }
  if (record.state !== 'completed') throw idempotencyInProgress();
  return {
    kind: 'replay',
    response: { statusCode: intAttr(record.statusCode), body: openResponse(sealingKey, businessId, key, String(record.responseBody)) },
  };
}

/**
 * A stored response can hold a user's names, email and phone (the masked eKYC view), so it is
 * encrypted at rest like the eKYC itself: AES-256-GCM under a key of its own for each record, the
 * MAC (a PRF) of the business and idempotency key under the `idempotency` KMS HMAC key. It is
 * derived when the key is claimed, so sealing the completion is synchronous and the completion item
 * joins the effect's transaction without another round trip.
 */
function responseSealingKey(businessId: string, key: string): Promise<Buffer> {
  return macBytes('idempotency', `response\0${businessId}\0${key}`);
}

function sealResponse(sealingKey: Buffer, businessId: string, key: string, body: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealingKey, iv);
  cipher.setAAD(Buffer.from(`${businessId}\n${key}`, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(body, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64');
}

function openResponse(sealingKey: Buffer, businessId: string, key: string, sealed: string): string {
  const bytes = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', sealingKey, bytes.subarray(0, 12));
  decipher.setAAD(Buffer.from(`${businessId}\n${key}`, 'utf8'));
  decipher.setAuthTag(bytes.subarray(12, 28));
  return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
}
