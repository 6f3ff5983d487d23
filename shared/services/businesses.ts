/**
 * Operator-side business management (the admin CLI and the local stack's bootstrap): create a
 * business with its API key and webhook secret, rotate the key, set the webhook URL. Secrets are
 * returned once and never stored in clear. (Card-network and chain-watcher keys, and listing and
 * revoking any key: shared/services/credentials.ts.)
 */
import { lookup } from 'node:dns/promises';
import { config } from '../config.ts';
import { generateWebhookSecret } from '../crypto/credentials.ts';
import { openSecret, sealSecret } from '../crypto/envelope.ts';
import { GrantedMemo } from '../crypto/granted-memo.ts';
import { isValidTimezone, webhookUrlProblem } from '../domain/businesses.ts';
import { isPublicAddress, webhookTargetRules } from '../domain/webhook-addresses.ts';
import { newId } from '../domain/ids.ts';
import { nowIso } from '../domain/time.ts';
import { ApiError } from '../errors.ts';
import { newCredentialKey } from './credentials.ts';
import {
  insertBusiness,
  replaceApiKey,
  replaceWebhookSecret,
  requireBusiness,
  updateWebhookUrl,
  type StoredBusiness,
} from '../db/businesses-repository.ts';

/** How long a rotated-out webhook secret keeps signing, so receivers can switch without a gap. */
export const PREVIOUS_WEBHOOK_SECRET_VALIDITY_MS = 24 * 60 * 60 * 1000;

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
  if (!name || name.length > 128) throw new ApiError('invalid_name');
  const timezone = input.timezone ?? 'UTC';
  if (!isValidTimezone(timezone)) throw new ApiError('invalid_timezone');
  const webhookUrl = input.webhookUrl ? await checkedWebhookUrl(input.webhookUrl) : null;

  const businessId = newId();
  const apiKey = await newCredentialKey('business');
  const webhookSecret = generateWebhookSecret();
  await insertBusiness({
    businessId,
    name,
    timezone,
    webhookUrl,
    createdAt: nowIso(),
    apiKeyHash: apiKey.keyHash,
    apiKeyId: apiKey.credentialId,
    webhookSecretSealed: await sealSecret(webhookSecret, webhookSecretContext(businessId)),
  });
  return { business_id: businessId, api_key: apiKey.key, webhook_secret: webhookSecret };
}

/** Issues a new API key and revokes the old one at once. Returns the new key (shown once). */
export async function rotateApiKey(businessId: string): Promise<{ business_id: string; api_key: string }> {
  const business = await requireBusiness(businessId);
  const apiKey = await newCredentialKey('business');
  await replaceApiKey(business, { keyHash: apiKey.keyHash, keyId: apiKey.credentialId, createdAt: nowIso() });
  return { business_id: businessId, api_key: apiKey.key };
}

export async function setWebhookUrl(businessId: string, url: string | null): Promise<void> {
  await updateWebhookUrl(businessId, url === null ? null : await checkedWebhookUrl(url));
}

/** The business's current webhook signing secret. */
export async function webhookSecretOf(businessId: string): Promise<string> {
  const business = await requireBusiness(businessId);
  return openWebhookSecret(businessId, business.webhookSecretSealed);
}

/**
 * Issues a new webhook secret (shown once). The old one keeps signing for 24 h, alongside the new
 * one, so the partner can deploy the new secret without rejecting deliveries meanwhile. A second
 * rotation within those 24 h retires the first old secret at once.
 */
export async function rotateWebhookSecret(
  businessId: string,
): Promise<{ business_id: string; webhook_secret: string; previous_secret_valid_until: string }> {
  const business = await requireBusiness(businessId);
  const webhookSecret = generateWebhookSecret();
  const validUntil = new Date(Date.now() + PREVIOUS_WEBHOOK_SECRET_VALIDITY_MS).toISOString();
  await replaceWebhookSecret(business, await sealSecret(webhookSecret, webhookSecretContext(businessId)), validUntil);
  return { business_id: businessId, webhook_secret: webhookSecret, previous_secret_valid_until: validUntil };
}

/** The secrets a delivery is signed with now: the current one, and the previous one while still valid. */
export async function webhookSigningSecrets(business: StoredBusiness, now: Date = new Date()): Promise<string[]> {
  const secrets = [await openWebhookSecret(business.businessId, business.webhookSecretSealed)];
  const previous = business.previousWebhookSecretSealed;
  const until = business.previousWebhookSecretExpiresAt;
  if (previous && until && Date.parse(until) > now.getTime()) secrets.push(await openWebhookSecret(business.businessId, previous));
  return secrets;
}

/**
 * Opened secrets, by ciphertext: a rotation changes the ciphertext, so a cached entry can never
 * outlive its secret, and a delivery function does not call KMS for every webhook.
 */
const openedSecrets = new GrantedMemo<string>('decrypt', 'webhook-secret', 500);

function openWebhookSecret(businessId: string, sealed: string): Promise<string> {
  return openedSecrets.get(sealed, () => openSecret<string>(sealed, webhookSecretContext(businessId)));
}

function webhookSecretContext(businessId: string) {
  return { business_id: businessId, purpose: 'webhook-secret' };
}

/**
 * The URL's form, and unless private addresses are allowed (the local stack only) where its host
 * resolves now: only public addresses. (The delivery functions check the resolved addresses again
 * on every connection, since DNS can change.)
 */
export async function checkedWebhookUrl(url: string): Promise<string> {
  const rules = webhookTargetRules(config());
  const problem = webhookUrlProblem(url, rules);
  if (problem) throw new ApiError('invalid_webhook_url');
  if (!rules.allowPrivateAddresses) {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    const addresses = await lookup(host, { all: true }).catch(() => []);
    if (addresses.length === 0) throw new ApiError('invalid_webhook_url');
    if (addresses.some((entry) => !isPublicAddress(entry.address))) {
      throw new ApiError('invalid_webhook_url');
    }
  }
  return url;
}
