/**
 * The tokens of card reveal links. A token is the only thing that opens a card's page, with no API
 * key, so it carries 256 bits from the CSPRNG (API.md asks for at least 128) and is stored only as
 * its keyed hash under the `reveal` key: the table, its backups and its stream hold nothing a link
 * could be rebuilt from, and without the KMS HMAC key (usable only by the two reveal rows) a
 * stolen hash cannot be turned into a link or checked against a guess.
 */
import { randomBytes } from 'node:crypto';
import { keyedHash } from './keyed-hash.ts';

/** `rvl_` + 43 base64url characters (32 random bytes): the prefix lets secret scanners find leaked links. */
export function newRevealToken(): string {
  return `rvl_${randomBytes(32).toString('base64url')}`;
}

/** The shape of a token this platform issued: anything else is not looked up at all. */
export function isRevealTokenShaped(value: string): boolean {
  return /^rvl_[A-Za-z0-9_-]{43}$/.test(value);
}

/** What the table stores instead of the token. */
export function revealTokenHash(token: string): Promise<string> {
  return keyedHash('reveal', token);
}
