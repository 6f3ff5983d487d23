import { createHash } from 'node:crypto';
import { cardNumberToken } from '../crypto/card-number-token.ts';
import { keyedHash } from '../crypto/keyed-hash.ts';

/**
 * A stable fingerprint of a request for idempotency: method, path and the body with its keys
 * sorted, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same request. It is stored on the
 * idempotency record, so it is keyed (its own `idempotency` key) and computed over the body with
 * every `card_number` replaced by its index token: an unkeyed digest of a body whose other fields
 * sit in clear on the transaction would give the card number away in ~10^5 guesses.
 */
export async function requestHash(method: string, path: string, body: unknown): Promise<string> {
  const canonical = canonicalJson(await withCardNumberTokens(body));
  // KMS MACs at most 4 KB, so the (never stored) canonical text is digested first.
  const digest = createHash('sha256').update(`${method} ${path}\n${canonical}`).digest('base64url');
  return keyedHash('idempotency', `request\0${digest}`);
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The body with each `card_number` (at any depth) replaced by `{ "pan_token": … }`. */
async function withCardNumberTokens(value: unknown): Promise<unknown> {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return Promise.all(value.map(withCardNumberTokens));
  const entries = await Promise.all(
    Object.entries(value as Record<string, unknown>).map(async ([name, field]): Promise<[string, unknown]> => {
      if (name === 'card_number' && typeof field === 'string') return [name, { pan_token: await cardNumberToken(field) }];
      return [name, await withCardNumberTokens(field)];
    }),
  );
  return Object.fromEntries(entries);
}
