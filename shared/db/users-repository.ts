/**
 * Users in the single table. A user is one item, `USER#<id>` / `PROFILE`, carrying the business it
 * belongs to, its status, its eKYC as one envelope-encrypted blob (never a plaintext name, email
 * or phone attribute) and keyed-HMAC fingerprints of the identity fields that transfers compare.
 * It is listed per business on GSI1; its `external_id`, when given, is claimed by a uniqueness
 * item written in the same transaction.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ApiError } from '../errors.ts';
import { isUserStatus, type UserRecord, type UserStatus } from '../domain/users.ts';
import type { PageKey } from '../http/cursor.ts';
import { db, tableName } from './client.ts';
import { idempotencyInProgress } from './idempotency-repository.ts';
import { userKeys } from './keys.ts';
import { gsi1Shard, queryShardsNewestFirst } from './query-page.ts';
import { transaction, type TransactItem } from './transact.ts';

/** Keyed HMACs of the normalized identity fields (see `ekycFingerprints` in shared/services/users.ts). */
export interface EkycFingerprints {
  firstName: string;
  lastName: string;
  idNumber: string;
}

export interface StoredUser extends UserRecord {
  /** The whole eKYC record, sealed with `sealSecret` under { business_id, user_id, purpose: 'ekyc' }. */
  ekycCiphertext: string;
  ekycFingerprints: EkycFingerprints;
  /** Who (API key id) last changed the status, and when; absent until the first change. */
  statusChangedAt?: string;
  statusChangedBy?: string;
}

export interface InsertUserOptions {
  /** `IdempotencyScope.completionItem(...)`: committed with the user or not at all. */
  idempotencyCompletion?: TransactItem;
}

/**
 * Writes a new user. A lone user is one conditional Put; with an `external_id` claim or an
 * idempotency record it is one transaction, so none of them can exist without the others.
 * Throws 409 `external_id_taken` when the business already has a user with that `external_id`.
 */
export async function insertUser(user: StoredUser, options: InsertUserOptions = {}): Promise<void> {
  const userPut: TransactItem = {
    Put: { TableName: tableName(), Item: toItem(user), ConditionExpression: 'attribute_not_exists(PK)' },
  };
  const externalIdPut: TransactItem | undefined =
    user.externalId === null
      ? undefined
      : {
          Put: {
            TableName: tableName(),
            Item: { ...userKeys.externalId(user.businessId, user.externalId), entity: 'external_user', userId: user.userId },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        };

  if (!externalIdPut && !options.idempotencyCompletion) {
    // The id is a fresh UUID v7: the condition only guards against overwriting, it never fails in practice.
    await db().send(new PutCommand(userPut.Put!));
    return;
  }

  const tx = transaction<'external_id' | 'idempotency'>().add(userPut);
  if (externalIdPut) tx.add(externalIdPut, 'external_id');
  if (options.idempotencyCompletion) tx.add(options.idempotencyCompletion, 'idempotency');
  const result = await tx.commit();
  if (result.committed) return;
  if (result.failed.has('external_id')) throw externalIdTaken();
  throw idempotencyInProgress();
}

/**
 * The one condition "this user is Active and belongs to this business", as a transaction item:
 * every transaction that must not commit for a suspended user (or for a user of another
 * business) carries it, built here, by the user entity, and tagged by its caller.
 */
export function activeUserCheck(businessId: string, userId: string): TransactItem {
  return {
    ConditionCheck: {
      TableName: tableName(),
      Key: userKeys.profile(userId),
      ConditionExpression: '#status = :active AND businessId = :businessId',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':active': 'Active', ':businessId': businessId },
    },
  };
}

/** The user, if it exists and belongs to `businessId`; otherwise undefined (the caller's 404). */
export async function findUser(businessId: string, userId: string): Promise<StoredUser | undefined> {
  const result = await db().send(new GetCommand({ TableName: tableName(), Key: userKeys.profile(userId), ConsistentRead: true }));
  if (!result.Item || result.Item.businessId !== businessId) return undefined;
  return fromItem(result.Item);
}

/**
 * Sets the status of a user of `businessId` in one conditional UpdateItem (no read-modify-write),
 * recording who and when. Setting the status it already has changes nothing and returns the user
 * as it is. Returns undefined when there is no such user in that business.
 */
export async function setUserStatus(
  businessId: string,
  userId: string,
  status: UserStatus,
  changedBy: string,
  changedAt: string,
): Promise<StoredUser | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const result = await db().send(
        new UpdateCommand({
          TableName: tableName(),
          Key: userKeys.profile(userId),
          UpdateExpression: 'SET #status = :status, statusChangedAt = :now, statusChangedBy = :by, updatedAt = :now',
          ConditionExpression: 'attribute_exists(PK) AND businessId = :businessId AND #status <> :status',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': status, ':now': changedAt, ':by': changedBy, ':businessId': businessId },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(result.Attributes!);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    // The condition failed: missing, another business's, or already in that status (a no-op).
    const current = await findUser(businessId, userId);
    if (!current || current.status === status) return current;
    // Someone changed it the other way between our two calls: try again.
  }
  throw new ApiError('service_unavailable');
}

export interface UserPage {
  users: StoredUser[];
  /** Where the next page starts; undefined on the last page. */
  lastKey?: PageKey;
}

/** One page of a business's users, newest first (GSI1; user ids are UUID v7, so they sort by creation). */
export async function listUsersOfBusiness(businessId: string, limit: number, startKey?: PageKey): Promise<UserPage> {
  const page = await queryShardsNewestFirst(userKeys.listPartitions(businessId), gsi1Shard, 'GSI1SK', fromItem, limit, startKey);
  return { users: page.items, ...(page.lastKey ? { lastKey: page.lastKey } : {}) };
}

function externalIdTaken(): ApiError {
  return new ApiError('external_id_taken');
}

function toItem(user: StoredUser): Record<string, unknown> {
  return {
    ...userKeys.profile(user.userId),
    ...userKeys.listIndex(user.businessId, user.userId),
    entity: 'user',
    userId: user.userId,
    businessId: user.businessId,
    status: user.status,
    externalId: user.externalId ?? undefined,
    ekyc: user.ekycCiphertext,
    ekycFingerprints: user.ekycFingerprints,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
    statusChangedAt: user.statusChangedAt,
    statusChangedBy: user.statusChangedBy,
  };
}

function fromItem(item: Record<string, unknown>): StoredUser {
  if (!isUserStatus(item.status)) throw new Error(`User item ${String(item.userId)} has an unknown status`);
  const fingerprints = item.ekycFingerprints as Record<string, unknown>;
  return {
    userId: String(item.userId),
    businessId: String(item.businessId),
    status: item.status,
    externalId: typeof item.externalId === 'string' ? item.externalId : null,
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
    ekycCiphertext: String(item.ekyc),
    ekycFingerprints: {
      firstName: String(fingerprints.firstName),
      lastName: String(fingerprints.lastName),
      idNumber: String(fingerprints.idNumber),
    },
    ...(typeof item.statusChangedAt === 'string' ? { statusChangedAt: item.statusChangedAt } : {}),
    ...(typeof item.statusChangedBy === 'string' ? { statusChangedBy: item.statusChangedBy } : {}),
  };
}
