/**
 * Keyed hashes (HMAC-SHA256) for every lookup that needs equality on a secret, one key per purpose.
 * A plain hash of a 16-digit PAN, a 6-digit OTP or a passport number is brute-forced in seconds; a
 * keyed one is useless without its key, and in AWS no key ever leaves KMS: each purpose is its own
 * KMS HMAC key (`HMAC_256`), used through `GenerateMac` by the functions whose route row lists that
 * purpose and no other (PCI DSS 3.5.1.1: a hashed PAN must not be correlatable with its truncated
 * form by anyone who can read the truncated form, so the PAN key is usable by three rows only).
 *
 * Locally, a key file stands in for KMS (`mac_keys`), and the local stack enforces the same grants.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { config } from '../config.ts';
import { readLocalKeyFile } from './key-material.ts';
import { assertKeyGrant } from './local-key-policy.ts';

/**
 * - `pan`: the card-number index (and the card number's stand-in wherever a request is digested).
 * - `credential`: API keys, card-network and chain-watcher keys (the authorizers' lookups).
 * - `ekyc`: fingerprints of registered names and id numbers (transfer checks).
 * - `otp`: 3DS one-time codes, bound to their verification.
 * - `cursor`: keys that encrypt list cursors, per business and list.
 * - `idempotency`: request fingerprints and the keys that seal stored responses.
 * - `reveal`: the tokens of card reveal links (shared/crypto/reveal-tokens.ts).
 */
export const MAC_PURPOSES = ['pan', 'credential', 'ekyc', 'otp', 'cursor', 'idempotency', 'reveal'] as const;
export type MacPurpose = (typeof MAC_PURPOSES)[number];

/** KMS `GenerateMac` takes at most 4096 bytes; callers digest anything longer first. */
export const MAX_MAC_MESSAGE_BYTES = 4096;

/** The environment variable holding the ARN of a purpose's KMS HMAC key (set only on rows granted it). */
export function macKeyVariable(purpose: MacPurpose): string {
  return `MAC_KEY_ARN_${purpose.toUpperCase()}`;
}

/**
 * KMS `GenerateMac` with the purpose's key. The KMS client is not imported here: the handlers whose
 * row lists a MAC purpose import shared/crypto/keyed-hash-kms.ts, which installs it, so functions
 * that hash nothing do not carry the client (test/infra/bundle-budgets.test.ts holds both sides).
 */
export type KmsMac = (keyId: string, message: Buffer) => Promise<Uint8Array>;

let kmsMac: KmsMac | undefined;

export function installKmsMac(installed: KmsMac): void {
  kmsMac = installed;
}

/** The raw 32-byte HMAC-SHA256 of `value` under the purpose's key. */
export async function macBytes(purpose: MacPurpose, value: string): Promise<Buffer> {
  assertKeyGrant('mac', purpose);
  const message = Buffer.from(value, 'utf8');
  if (message.length > MAX_MAC_MESSAGE_BYTES) throw new Error(`A ${purpose} MAC message is over ${MAX_MAC_MESSAGE_BYTES} bytes`);
  if (config().KEY_SOURCE === 'local') {
    const key = readLocalKeyFile().mac_keys[purpose];
    if (!key) throw new Error(`The local key file has no "${purpose}" MAC key`);
    return createHmac('sha256', Buffer.from(key, 'base64')).update(message).digest();
  }
  const keyId = process.env[macKeyVariable(purpose)];
  if (!keyId) throw new Error(`${macKeyVariable(purpose)} is not set: this function's row does not list the "${purpose}" MAC purpose`);
  if (!kmsMac) throw new Error('KMS keyed hashes are not loaded in this function: its handler must import shared/crypto/keyed-hash-kms.ts');
  return Buffer.from(await kmsMac(keyId, message));
}

/** `macBytes` as base64url: the form stored in keys and attributes. */
export async function keyedHash(purpose: MacPurpose, value: string): Promise<string> {
  return (await macBytes(purpose, value)).toString('base64url');
}

/** Constant-time comparison of two keyed hashes (or any two base64url strings). */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
