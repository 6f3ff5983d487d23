/**
 * Opaque list cursors (API.md: "only valid for the business and list that produced it").
 * A cursor is the DynamoDB `LastEvaluatedKey` plus a keyed MAC over the business, the list (its
 * name and filters) and that key. A cursor from another business or list, or an edited one,
 * fails the MAC and is a 400 `invalid_cursor`; it never reaches DynamoDB.
 */
import { BadRequestError } from '../errors.ts';
import { keyedHash, sameHash } from '../crypto/keyed-hash.ts';

export interface CursorScope {
  businessId: string;
  /** The list and its filters, e.g. `cards?status=Active&p_user_id=`. */
  list: string;
}

export type PageKey = Record<string, unknown>;

export async function encodeCursor(scope: CursorScope, lastKey: PageKey | undefined): Promise<string | null> {
  if (!lastKey) return null;
  const payload = Buffer.from(JSON.stringify(lastKey), 'utf8').toString('base64url');
  const mac = await keyedHash('cursor', `${scope.businessId}\n${scope.list}\n${payload}`);
  return `${payload}.${mac}`;
}

export async function decodeCursor(scope: CursorScope, cursor: string | undefined): Promise<PageKey | undefined> {
  if (cursor === undefined) return undefined;
  const invalid = () => new BadRequestError('invalid_cursor', 'The cursor is not valid for this list.');
  const [payload, mac, extra] = cursor.split('.');
  if (!payload || !mac || extra !== undefined) throw invalid();
  const expected = await keyedHash('cursor', `${scope.businessId}\n${scope.list}\n${payload}`);
  if (!sameHash(mac, expected)) throw invalid();
  try {
    const key = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    if (typeof key !== 'object' || key === null || Array.isArray(key)) throw invalid();
    return key as PageKey;
  } catch {
    throw invalid();
  }
}
