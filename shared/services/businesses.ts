/**
 * Operator-side business management (the admin CLI and the local stack's bootstrap): create a
 * business with its API key and webhook secret, rotate the key, set the webhook URL, and issue the
 * network credential. Secrets are returned once and never stored in clear.
 */
import { config } from '../config.ts';
import { keyedHash } from '../crypto/keyed-hash.ts';
import { generateApiKey, generateNetworkKey, generateWebhookSecret } from '../crypto/credentials.ts';
import { openSecret, sealSecret } from '../crypto/envelope.ts';
import { isValidTimezone, webhookUrlProblem } from '../domain/businesses.ts';
import { newId } from '../domain/ids.ts';
import { nowIso } from '../domain/time.ts';
import { BadRequestError } from '../errors.ts';
import {
  findApiKey,
  findNetworkKey,
  insertBusiness,
  insertNetworkKey,
  replaceApiKey,
  requireBusiness,
  updateWebhookUrl,
} from '../db/businesses-repository.ts';

export interface CreateBusinessInput {
  name: string;
  webhookUrl?: string;
  timezone?: string;
}

export interface BusinessCredentials {
  business_id: string;
  api_key: string;
  webhook_secret: string;
}

export async function createBusiness(input: CreateBusinessInput): Promise<BusinessCredentials> {
  const name = input.name.trim();
  if (!name || name.length > 128) throw new BadRequestError('invalid_name', 'name must be 1-128 characters');
  const timezone = input.timezone ?? 'UTC';
  if (!isValidTimezone(timezone)) throw new BadRequestError('invalid_timezone', `"${timezone}" is not an IANA timezone`);
  const webhookUrl = input.webhookUrl ? checkedWebhookUrl(input.webhookUrl) : null;

  const businessId = newId();
  const apiKey = generateApiKey(config().STAGE);
  const webhookSecret = generateWebhookSecret();
  await insertBusiness({
    businessId,
    name,
    timezone,
    webhookUrl,
    createdAt: nowIso(),
    apiKeyHash: await keyedHash('api-key', apiKey),
    apiKeyId: newId(),
    webhookSecretSealed: await sealSecret(webhookSecret, { business_id: businessId, purpose: 'webhook-secret' }),
  });
  return { business_id: businessId, api_key: apiKey, webhook_secret: webhookSecret };
}

/** Issues a new API key and revokes the old one at once. Returns the new key (shown once). */
export async function rotateApiKey(businessId: string): Promise<{ business_id: string; api_key: string }> {
  const business = await requireBusiness(businessId);
  const apiKey = generateApiKey(config().STAGE);
  await replaceApiKey(business, { keyHash: await keyedHash('api-key', apiKey), keyId: newId(), createdAt: nowIso() });
  return { business_id: businessId, api_key: apiKey };
}

export async function setWebhookUrl(businessId: string, url: string | null): Promise<void> {
  await updateWebhookUrl(businessId, url === null ? null : checkedWebhookUrl(url));
}

/** The business's current webhook signing secret (for the delivery functions). */
export async function webhookSecretOf(businessId: string): Promise<string> {
  const business = await requireBusiness(businessId);
  return openSecret<string>(business.webhookSecretSealed, { business_id: businessId, purpose: 'webhook-secret' });
}

export async function createNetworkKey(): Promise<{ network_key: string }> {
  const networkKey = generateNetworkKey(config().STAGE);
  await insertNetworkKey(await keyedHash('network-key', networkKey), newId(), nowIso());
  return { network_key: networkKey };
}

/** The business authorizer's decision: the business and key id behind an API key, if any. */
export async function identifyApiKey(apiKey: string): Promise<{ businessId: string; keyId: string } | undefined> {
  return findApiKey(await keyedHash('api-key', apiKey));
}

/** The network authorizer's decision. */
export async function identifyNetworkKey(networkKey: string): Promise<{ keyId: string } | undefined> {
  return findNetworkKey(await keyedHash('network-key', networkKey));
}

function checkedWebhookUrl(url: string): string {
  const problem = webhookUrlProblem(url, config().STAGE);
  if (problem) throw new BadRequestError('invalid_webhook_url', `webhook URL ${problem}`);
  return url;
}
