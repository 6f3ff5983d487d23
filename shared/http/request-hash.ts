import { createHash } from 'node:crypto';
import { cardNumberToken } from '../crypto/card-number-token.ts';
import { keyedHash } from '../crypto/keyed-hash.ts';

/**
 * How a `card_number` in the body enters a fingerprint, never as the number or an unkeyed digest
 * of it:
 * - `token`: as its index token (keyed with `pan`), on the routes whose body takes a card number
 *   (`takesCardNumber`), whose rows hold that key; two numbers are two different requests.
 * - `redact`: as a fixed marker, on every other route: it does not read the field, and its row may
 *   not use the `pan` key (a card network that echoes the number on a reversal must not be refused
 *   for it). Two requests that differ only there are the same request to that route.
 */
export type CardNumbers = 'token' | 'redact';

/** What stands for a `card_number` the route does not read, in its fingerprints. */
export const UNREAD_CARD_NUMBER = { pan_token: null, unread: true } as const;

/**
 * A stable fingerprint of a request for idempotency: method, path and the body with its keys
 * sorted, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same request. It is stored on the
 * idempotency record, so it is keyed (its own `idempotency` key) and computed over the body with
 * every `card_number` replaced (`CardNumbers`): an unkeyed digest of a body whose other fields sit
 * in clear on the transaction would give the card number away in ~10^5 guesses.
 */
export async function requestHash(method: string, path: string, body: unknown, cardNumbers: CardNumbers): Promise<string> {
  const canonical = canonicalJson(await withoutCardNumbers(body, cardNumbers));
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

/** The body with each `card_number` (at any depth) replaced by `{ "pan_token": … }` or the unread marker. */
async function withoutCardNumbers(value: unknown, cardNumbers: CardNumbers): Promise<unknown> {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return Promise.all(value.map((item) => withoutCardNumbers(item, cardNumbers)));
  const entries = await Promise.all(
    Object.entries(value as Record<string, unknown>).map(async ([name, field]): Promise<[string, unknown]> => {
      if (name === 'card_number' && typeof field === 'string') {
        return [name, cardNumbers === 'token' ? { pan_token: await cardNumberToken(field) } : UNREAD_CARD_NUMBER];
      }
      return [name, await withoutCardNumbers(field, cardNumbers)];
    }),
  );
  return Object.fromEntries(entries);
}
