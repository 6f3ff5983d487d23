/**
 * Credentials the platform issues. Each is 256 bits from the CSPRNG, shown once, and stored only as
 * a keyed hash (API, card-network and chain-watcher keys) or sealed with envelope encryption
 * (webhook secrets, which the platform must read back to sign).
 */
import { randomBytes } from 'node:crypto';
import type { Stage } from '../config.ts';
import type { CredentialKind } from '../domain/credentials.ts';

/**
 * The prefix tells a leaked key's kind at a glance (and lets secret scanners tell them apart):
 * `cpk_` a business API key, `cpn_` the card network's, `cpc_` the chain watcher's.
 */
const KEY_PREFIXES: Record<CredentialKind, string> = { business: 'cpk', network: 'cpn', chain: 'cpc' };

/** `<prefix>_<live|sandbox>_<43 base64url chars>`: a new key of `kind` for `stage`. */
export function generateCredentialKey(kind: CredentialKind, stage: Stage): string {
  return `${KEY_PREFIXES[kind]}_${stage === 'production' ? 'live' : 'sandbox'}_${randomBytes(32).toString('base64url')}`;
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
