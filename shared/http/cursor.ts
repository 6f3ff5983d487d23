/**
 * Opaque list cursors (API.md: "only valid for the business and list that produced it"; release 2:
 * "encrypted, not just signed: they reveal no key of any item").
 *
 * A cursor is the DynamoDB `LastEvaluatedKey` sealed with AES-256-GCM under a key of its own for
 * each business and list (its name and filters): the MAC of both under the `cursor` KMS HMAC key.
 * A cursor from another business or list, or an edited one, fails authentication and is a 400
 * `invalid_cursor`; it never reaches DynamoDB, and nobody holding one learns an item's key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ApiError } from '../errors.ts';
import { macBytes } from '../crypto/keyed-hash.ts';
import { GrantedMemo } from '../crypto/granted-memo.ts';

export interface CursorScope {
  businessId: string;
  /** The list and its filters, e.g. `cards?status=Active&p_user_id=`. */
  list: string;
}

export type PageKey = Record<string, unknown>;

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** One page of a list (API.md): newest first, and the cursor of the next page (`null` on the last). */
export interface ListPage<T> {
  data: T[];
  next_cursor: string | null;
}

/** The one way a list answers: its items, and the cursor of where its query stopped (for `scope`). */
export async function listPage<T>(scope: CursorScope, items: T[] | Promise<T[]>, lastKey: PageKey | undefined): Promise<ListPage<T>> {
  const [data, nextCursor] = await Promise.all([items, encodeCursor(scope, lastKey)]);
  return { data, next_cursor: nextCursor };
}

export async function encodeCursor(scope: CursorScope, lastKey: PageKey | undefined): Promise<string | null> {
  if (!lastKey) return null;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', await cursorKey(scope), iv);
  cipher.setAAD(scopeBytes(scope));
  const sealed = Buffer.concat([cipher.update(JSON.stringify(lastKey), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
}

export async function decodeCursor(scope: CursorScope, cursor: string | undefined): Promise<PageKey | undefined> {
  if (cursor === undefined) return undefined;
  const invalid = () => new ApiError('invalid_cursor');
  const bytes = /^[A-Za-z0-9_-]{1,2048}$/.test(cursor) ? Buffer.from(cursor, 'base64url') : Buffer.alloc(0);
  // Only the canonical spelling: Node's decoder ignores a stray last character, so `<cursor>x` would
  // otherwise be accepted as another spelling of the same cursor.
  if (bytes.length <= IV_BYTES + TAG_BYTES || bytes.toString('base64url') !== cursor) throw invalid();
  const key = await cursorKey(scope);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(scopeBytes(scope));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    const lastKey = JSON.parse(plain) as unknown;
    if (typeof lastKey !== 'object' || lastKey === null || Array.isArray(lastKey)) throw invalid();
    return lastKey as PageKey;
  } catch {
    throw invalid();
  }
}

function scopeBytes(scope: CursorScope): Buffer {
  return Buffer.from(`${scope.businessId}\n${scope.list}`, 'utf8');
}

/** Derived keys, per business and list: in AWS each is a KMS call, and a partner pages through a list. */
const keys = new GrantedMemo<Buffer>('mac', 'cursor', 1_000);

function cursorKey(scope: CursorScope): Promise<Buffer> {
  const slot = `${scope.businessId}\n${scope.list}`;
  return keys.get(slot, () => macBytes('cursor', `cursor\0${slot}`));
}
