/**
 * Businesses, their API key and the network credential.
 *
 * Keys are stored only as keyed hashes; the business record points at its current key item so a
 * rotation can delete the old one in the same transaction that creates the new one.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { Business } from '../domain/businesses.ts';
import { db, tableName } from './client.ts';
import { apiKeyKeys, businessKeys, networkKeyKeys } from './keys.ts';
import { transactWrite } from './transact.ts';

export interface ApiKeyRecord {
  keyId: string;
  businessId: string;
}

export interface StoredBusiness extends Business {
  apiKeyHash: string;
  apiKeyId: string;
  webhookSecretSealed: string;
  /** The secret before the last rotation, still signing (besides the current one) until it expires. */
  previousWebhookSecretSealed?: string;
  previousWebhookSecretExpiresAt?: string;
}

export async function insertBusiness(business: StoredBusiness): Promise<void> {
  const table = tableName();
  await transactWrite([
    {
      Put: {
        TableName: table,
        Item: { ...businessKeys.profile(business.businessId), entity: 'business', ...business },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    },
    {
      Put: {
        TableName: table,
        Item: {
          ...apiKeyKeys.byHash(business.apiKeyHash),
          entity: 'apiKey',
          keyId: business.apiKeyId,
          businessId: business.businessId,
          createdAt: business.createdAt,
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    },
  ]);
}

export async function getBusiness(businessId: string, consistent = false): Promise<StoredBusiness | undefined> {
  const result = await db().send(new GetCommand({ TableName: tableName(), Key: businessKeys.profile(businessId), ConsistentRead: consistent }));
  return result.Item as StoredBusiness | undefined;
}

export async function requireBusiness(businessId: string): Promise<StoredBusiness> {
  const business = await getBusiness(businessId);
  if (!business) throw new NotFoundError('business_not_found', `No business ${businessId}.`);
  return business;
}

/** The authorizer's lookup: one GetItem by the key's keyed hash. */
export async function findApiKey(keyHash: string): Promise<ApiKeyRecord | undefined> {
  const result = await db().send(new GetCommand({ TableName: tableName(), Key: apiKeyKeys.byHash(keyHash) }));
  if (!result.Item) return undefined;
  return { keyId: String(result.Item.keyId), businessId: String(result.Item.businessId) };
}

/** Replaces the business's key: new key item, old key item deleted, business updated, atomically. */
export async function replaceApiKey(
  business: StoredBusiness,
  next: { keyHash: string; keyId: string; createdAt: string },
): Promise<void> {
  const table = tableName();
  await transactWrite([
    {
      Update: {
        TableName: table,
        Key: businessKeys.profile(business.businessId),
        UpdateExpression: 'SET apiKeyHash = :hash, apiKeyId = :id',
        ConditionExpression: 'apiKeyHash = :old',
        ExpressionAttributeValues: { ':hash': next.keyHash, ':id': next.keyId, ':old': business.apiKeyHash },
      },
    },
    { Delete: { TableName: table, Key: apiKeyKeys.byHash(business.apiKeyHash) } },
    {
      Put: {
        TableName: table,
        Item: { ...apiKeyKeys.byHash(next.keyHash), entity: 'apiKey', keyId: next.keyId, businessId: business.businessId, createdAt: next.createdAt },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    },
  ]);
}

export async function updateWebhookUrl(businessId: string, url: string | null): Promise<void> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: businessKeys.profile(businessId),
        UpdateExpression: 'SET webhookUrl = :url',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeValues: { ':url': url },
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw new NotFoundError('business_not_found', `No business ${businessId}.`);
    throw error;
  }
}

/**
 * Replaces the webhook secret, keeping the one it replaces as the previous secret until
 * `previousExpiresAt`. Conditional on the secret that was read, so two concurrent rotations cannot
 * both think they retired the same secret.
 */
export async function replaceWebhookSecret(business: StoredBusiness, nextSealed: string, previousExpiresAt: string): Promise<void> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: businessKeys.profile(business.businessId),
        UpdateExpression: 'SET webhookSecretSealed = :next, previousWebhookSecretSealed = :current, previousWebhookSecretExpiresAt = :expires',
        ConditionExpression: 'webhookSecretSealed = :current',
        ExpressionAttributeValues: { ':next': nextSealed, ':current': business.webhookSecretSealed, ':expires': previousExpiresAt },
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      throw new ConflictError('webhook_secret_changed', 'The webhook secret changed meanwhile (a concurrent rotation); try again.');
    }
    throw error;
  }
}

export async function insertNetworkKey(keyHash: string, keyId: string, createdAt: string): Promise<void> {
  await transactWrite([
    {
      Put: {
        TableName: tableName(),
        Item: { ...networkKeyKeys.byHash(keyHash), entity: 'networkKey', keyId, createdAt },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    },
  ]);
}

export async function findNetworkKey(keyHash: string): Promise<{ keyId: string } | undefined> {
  const result = await db().send(new GetCommand({ TableName: tableName(), Key: networkKeyKeys.byHash(keyHash) }));
  return result.Item ? { keyId: String(result.Item.keyId) } : undefined;
}
