/**
 * The card number's stand-in everywhere the platform needs equality on it: the keyed hash under
 * the `pan` key (the `PAN#` index, and the request fingerprints of routes whose body carries a
 * number). In AWS that hash is a KMS `GenerateMac` call, so a warm container remembers the tokens
 * it computed: the approve path stays one read and one transaction.
 *
 * The memo is keyed by an HMAC under a random key made when the container starts and never
 * written anywhere, so the container's memory holds no card number and no digest of one that
 * outlives the process or means anything outside it.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { keyedHash } from './keyed-hash.ts';
import { GrantedMemo } from './granted-memo.ts';

const MAX_MEMO_ENTRIES = 10_000;
const memoKey = randomBytes(32);
const tokens = new GrantedMemo<string>('mac', 'pan', MAX_MEMO_ENTRIES);

/** `keyedHash('pan', number)`, computed once per container for each number. */
export function cardNumberToken(number: string): Promise<string> {
  return tokens.get(createHmac('sha256', memoKey).update(number).digest('base64url'), () => keyedHash('pan', number));
}
