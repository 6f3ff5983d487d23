/**
 * Businesses. A business's API key is a credential item (credentials-repository.ts); the business
 * record points at its current one (keyed hash and id) so a rotation can revoke exactly that key in
 * the transaction that issues the next.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ApiError } from '../errors.ts';
import type { Business } from '../domain/businesses.ts';
import { db, intAttr, tableName } from './client.ts';
import { credentialPut, credentialRevocation } from './credentials-repository.ts';
import { businessKeys } from './keys.ts';
import { transaction } from './transact.ts';

export interface StoredBusiness extends Business {
  /** The current API key's keyed hash and credential id. */
  apiKeyHash: string;
  apiKeyId: string;
  webhookSecretSealed: string;
  /** The secret before the last rotation, still signing (besides the current one) until it expires. */
  previousWebhookSecretSealed?: string;
  previousWebhookSecretExpiresAt?: string;
  /** The real-time authorization endpoint, when the business set one. */
  decisionEndpoint?: StoredDecisionEndpoint;
}

/** The authorization endpoint as stored: its secret only sealed (purpose `decision-secret`). */
export interface StoredDecisionEndpoint {
  url: string;
  timeoutMs: number;
  standIn: 'approve' | 'decline';
  secretSealed: string;
  /** The secret before the last rotation, still signing (besides the current one) until it expires. */
  previousSecretSealed?: string;
  previousSecretExpiresAt?: string;
  updatedAt: string;
}

/** The business and its first API key, together or not at all. */
export async function insertBusiness(business: StoredBusiness): Promise<void> {
  // Fresh ids and a fresh key's hash: neither condition can fail but by a broken invariant (untagged).
  await transaction()
    .add({
      Put: {
        TableName: tableName(),
        Item: { ...businessKeys.profile(business.businessId), entity: 'business', ...business },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    })
    .add(credentialPut(business.apiKeyHash, { credentialId: business.apiKeyId, kind: 'business', businessId: business.businessId, createdAt: business.createdAt }))
    .commit();
}

export async function getBusiness(businessId: string, consistent = false): Promise<StoredBusiness | undefined> {
  const result = await db().send(new GetCommand({ TableName: tableName(), Key: businessKeys.profile(businessId), ConsistentRead: consistent }));
  const item = result.Item as StoredBusiness | undefined;
  // Numbers come back wrapped (the client keeps big numbers exact): the endpoint's timeout is a plain int.
  if (item?.decisionEndpoint) item.decisionEndpoint = { ...item.decisionEndpoint, timeoutMs: intAttr(item.decisionEndpoint.timeoutMs) };
  return item;
}

export async function requireBusiness(businessId: string): Promise<StoredBusiness> {
  const business = await getBusiness(businessId);
  if (!business) throw new ApiError('business_not_found');
  return business;
}

/**
 * Replaces the business's key, atomically: the new key's credential, the old one revoked (from now
 * on, allowing for the authorizer cache), and the business pointing at the new one. Conditional on
 * the key that was read, so two concurrent rotations cannot both succeed.
 */
export async function replaceApiKey(business: StoredBusiness, next: { keyHash: string; keyId: string; createdAt: string }): Promise<void> {
  const result = await transaction<'key_changed'>()
    .add(
      {
        Update: {
          TableName: tableName(),
          Key: businessKeys.profile(business.businessId),
          UpdateExpression: 'SET apiKeyHash = :hash, apiKeyId = :id',
          ConditionExpression: 'apiKeyHash = :old',
          ExpressionAttributeValues: { ':hash': next.keyHash, ':id': next.keyId, ':old': business.apiKeyHash },
        },
      },
      'key_changed',
    )
    // The key that was read exists, and the next key is fresh: their conditions are invariants.
    .add(credentialRevocation(business.apiKeyHash, next.createdAt))
    .add(credentialPut(next.keyHash, { credentialId: next.keyId, kind: 'business', businessId: business.businessId, createdAt: next.createdAt }))
    .commit();
  if (!result.committed) throw new ApiError('api_key_changed');
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
    if (error instanceof ConditionalCheckFailedException) throw new ApiError('business_not_found');
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
      throw new ApiError('webhook_secret_changed');
    }
    throw error;
  }
}

/**
 * Sets the authorization endpoint. `expectedSecretSealed` is the secret the caller read (or
 * `null`: none was set), so a concurrent change or rotation is refused rather than overwritten.
 */
export async function putDecisionEndpoint(businessId: string, endpoint: StoredDecisionEndpoint, expectedSecretSealed: string | null): Promise<void> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: businessKeys.profile(businessId),
        UpdateExpression: 'SET decisionEndpoint = :endpoint',
        ConditionExpression:
          expectedSecretSealed === null ? 'attribute_exists(PK) AND attribute_not_exists(decisionEndpoint)' : 'decisionEndpoint.secretSealed = :expected',
        ExpressionAttributeValues: { ':endpoint': endpoint, ...(expectedSecretSealed === null ? {} : { ':expected': expectedSecretSealed }) },
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw new ApiError('authorization_endpoint_changed');
    throw error;
  }
}

export async function removeDecisionEndpoint(businessId: string): Promise<void> {
  await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: businessKeys.profile(businessId),
      UpdateExpression: 'REMOVE decisionEndpoint',
      ConditionExpression: 'attribute_exists(PK)',
    }),
  );
}
