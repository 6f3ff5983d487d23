/**
 * Keyed hashes (HMAC-SHA256) for every lookup that needs equality on a secret: API keys, the card
 * number index, eKYC fingerprints, OTP codes. A plain hash of a 16-digit PAN or a 6-digit OTP is
 * brute-forced in seconds; a keyed one is useless without the key.
 *
 * `purpose` separates domains so a hash made for one use can never match another.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { getHmacKey } from './key-material.ts';

export type HashPurpose = 'api-key' | 'network-key' | 'pan' | 'ekyc' | 'otp' | 'cursor' | 'webhook-secret';

export async function keyedHash(purpose: HashPurpose, value: string): Promise<string> {
  const key = await getHmacKey();
  return createHmac('sha256', key).update(purpose).update('\0').update(value, 'utf8').digest('base64url');
}

/** Constant-time comparison of two keyed hashes (or any two base64url strings). */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
