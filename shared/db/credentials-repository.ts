/**
 * Credentials in the single table: one item per issued key, of every kind, `CREDENTIAL#<keyed hash
 * of the key>` / `CREDENTIAL`, so an authorizer finds a key with one GetItem and never sees it in
 * clear. Items are never deleted: a revoked key keeps its item with `revokedAt`, so operators can
 * see when each key stopped working.
 *
 * Operators list them on GSI1 (one `CREDENTIALS` partition, newest first: a few keys per business
 * and per watcher is far below a partition's limits) and name one by its id, which the same index
 * resolves: an id is only ever typed by an operator, so a second by-id item written with every key
 * would buy nothing but a second write. The index is eventually consistent, so a key created a
 * moment ago may not be found by id yet; retrying is enough.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isCredentialKind, type CredentialRecord } from '../domain/credentials.ts';
import { ApiError } from '../errors.ts';
import { db, tableName } from './client.ts';
import { credentialKeys } from './keys.ts';
import type { TransactItem } from './transact.ts';

/** The new credential's item, conditional on its hash being new (a 256-bit key never collides; a bug might). */
export function credentialPut(keyHash: string, credential: CredentialRecord): TransactItem {
  return {
    Put: {
      TableName: tableName(),
      Item: {
        ...credentialKeys.byHash(keyHash),
        ...credentialKeys.listIndex(credential.credentialId),
        entity: 'credential',
        ...credential,
      },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}

/**
 * Revokes the credential with this hash inside a transaction (a business key's rotation). Keeps
 * an earlier revocation time: rotating a key an operator already revoked still issues a new one.
 */
export function credentialRevocation(keyHash: string, revokedAt: string): TransactItem {
  return {
    Update: {
      TableName: tableName(),
      Key: credentialKeys.byHash(keyHash),
      UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeValues: { ':at': revokedAt },
    },
  };
}

export async function insertCredential(keyHash: string, credential: CredentialRecord): Promise<void> {
  await db().send(new PutCommand(credentialPut(keyHash, credential).Put!));
}

/** The authorizers' lookup: one GetItem by the key's keyed hash. Revoked credentials are returned as such. */
export async function findCredential(keyHash: string): Promise<CredentialRecord | undefined> {
  const result = await db().send(new GetCommand({ TableName: tableName(), Key: credentialKeys.byHash(keyHash) }));
  return result.Item ? fromItem(result.Item) : undefined;
}

/** Every credential, newest first (operators only: this reads the whole partition). */
export async function listCredentials(): Promise<CredentialRecord[]> {
  const credentials: CredentialRecord[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db().send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :partition',
        ExpressionAttributeValues: { ':partition': credentialKeys.listPartition },
        ScanIndexForward: false,
        ExclusiveStartKey: startKey,
      }),
    );
    credentials.push(...(page.Items ?? []).map(fromItem));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return credentials;
}

/**
 * Revokes a credential by id: `404 credential_not_found` for an id no credential has, and
 * `409 credential_already_revoked` (saying when) for one revoked before: revoking is not
 * idempotent, so an operator who typed the wrong id hears about it instead of a silent success.
 */
export async function revokeCredentialById(credentialId: string, revokedAt: string): Promise<CredentialRecord> {
  const listed = await db().send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :partition AND GSI1SK = :id',
      ExpressionAttributeValues: { ':partition': credentialKeys.listPartition, ':id': credentialId },
    }),
  );
  const item = listed.Items?.[0];
  if (!item) throw new ApiError('credential_not_found');
  const key = { PK: String(item.PK), SK: String(item.SK) };
  try {
    const result = await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: key,
        UpdateExpression: 'SET revokedAt = :at',
        ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(revokedAt)',
        ExpressionAttributeValues: { ':at': revokedAt },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return fromItem(result.Attributes!);
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const current = await db().send(new GetCommand({ TableName: tableName(), Key: key, ConsistentRead: true }));
    const at = current.Item?.revokedAt;
    throw new ApiError('credential_already_revoked');
  }
}

function fromItem(item: Record<string, unknown>): CredentialRecord {
  if (!isCredentialKind(item.kind)) throw new Error(`Credential item ${String(item.credentialId)} has no valid kind`);
  return {
    credentialId: String(item.credentialId),
    kind: item.kind,
    ...(item.businessId ? { businessId: String(item.businessId) } : {}),
    createdAt: String(item.createdAt),
    ...(item.revokedAt ? { revokedAt: String(item.revokedAt) } : {}),
  };
}
