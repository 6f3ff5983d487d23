/**
 * Credentials the platform issues. Each is 256 bits from the CSPRNG, shown once, and stored only as
 * a keyed hash (API and network keys) or sealed with envelope encryption (webhook secrets, which
 * the platform must read back to sign).
 */
import { randomBytes } from 'node:crypto';
import type { Stage } from '../config.ts';

/** `cpk_<stage>_<43 base64url chars>`: the prefix tells a leaked key's kind and stage at a glance. */
export function generateApiKey(stage: Stage): string {
  return `cpk_${stage === 'production' ? 'live' : 'sandbox'}_${randomBytes(32).toString('base64url')}`;
}

/** The card network's credential for `/network/...`; a different prefix and hash purpose from API keys. */
export function generateNetworkKey(stage: Stage): string {
  return `cpn_${stage === 'production' ? 'live' : 'sandbox'}_${randomBytes(32).toString('base64url')}`;
}

/** Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** `Authorization: Bearer <token>` -> token, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S{16,512})\s*$/i.exec(header);
  return match?.[1];
}
