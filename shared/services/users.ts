/**
 * Users (B2C cardholders): create, read, list and suspend/reactivate, each the one call a handler
 * makes. The eKYC record is sealed with envelope encryption bound to its business and user, and
 * only the masked view ever leaves; identity fields are also kept as keyed-HMAC fingerprints so
 * transfers can check a party's eKYC without decrypting anything.
 */
import { openSecret, sealSecret, type EncryptionContext } from '../crypto/envelope.ts';
import { keyedHash, sameHash } from '../crypto/keyed-hash.ts';
import { normalizedIdentity, type Ekyc, type EkycIdentity } from '../domain/ekyc.ts';
import { isUuid, newId } from '../domain/ids.ts';
import { nowIso } from '../domain/time.ts';
import { userView, type CreateUserBody, type ListUsersQuery, type UserRecord, type UserStatus, type UserView } from '../domain/users.ts';
import { notFound } from '../errors.ts';
import type { IdempotencyScope } from '../db/idempotency-repository.ts';
import {
  findUser,
  insertUser,
  listUsersOfBusiness,
  setUserStatus,
  type EkycFingerprints,
  type StoredUser,
} from '../db/users-repository.ts';
import { decodeCursor, type CursorScope, listPage, type ListPage } from '../http/cursor.ts';

export type { EkycFingerprints, StoredUser };

export type UserList = ListPage<UserView>;

/** `POST /v1/users`: registers a cardholder; with an idempotency scope, the record commits with the user. */
export async function createUser(businessId: string, body: CreateUserBody, idempotency?: IdempotencyScope): Promise<UserView> {
  const userId = newId();
  const now = nowIso();
  const ekyc: Ekyc = body.ekyc;
  const [ekycCiphertext, fingerprints] = await Promise.all([
    sealSecret(ekyc, ekycEncryptionContext(businessId, userId)),
    ekycFingerprints(ekyc),
  ]);
  const user: UserRecord = {
    userId,
    businessId,
    status: 'Active',
    externalId: body.external_id ?? null,
    createdAt: now,
    updatedAt: now,
  };
  const view = userView(user, ekyc);
  await insertUser(
    { ...user, ekycCiphertext, ekycFingerprints: fingerprints },
    { idempotencyCompletion: idempotency?.completionItem(view) },
  );
  return view;
}

/** `GET /v1/users/{p_user_id}` */
export async function getUser(businessId: string, userId: string): Promise<UserView> {
  return toView(await requireUser(businessId, userId));
}

/** `GET /v1/users`: newest first, one page; the page's eKYC blobs are decrypted concurrently. */
export async function listUsers(businessId: string, query: ListUsersQuery): Promise<UserList> {
  const scope: CursorScope = { businessId, list: 'users' };
  const startKey = await decodeCursor(scope, query.cursor);
  const page = await listUsersOfBusiness(businessId, query.limit, startKey);
  return listPage(scope, Promise.all(page.users.map(toView)), page.lastKey);
}

/** `PATCH /v1/users/{p_user_id}`: suspends or reactivates; `changedBy` is the caller's API key id. */
export async function updateUserStatus(businessId: string, userId: string, status: UserStatus, changedBy: string): Promise<UserView> {
  const user = await setUserStatus(businessId, userId, status, changedBy, nowIso());
  if (!user) throw notFound('user');
  return toView(user);
}

/**
 * The stored user (without decrypting its eKYC) if it belongs to `businessId`, else 404
 * `user_not_found`, the same for a missing user, another business's user and a malformed id
 * (a body or a filter can carry any text; a path's id is already checked by the HTTP wrapper).
 * For features that act on a user (cards, wallets, transfers, list filters).
 */
export async function requireUser(businessId: string, userId: string): Promise<StoredUser> {
  if (!isUuid(userId)) throw notFound('user');
  const user = await findUser(businessId, userId);
  if (!user) throw notFound('user');
  return user;
}

/**
 * Keyed-HMAC fingerprints of the normalized identity fields (`normalizeEkycText`). Equal
 * fingerprints mean equal normalized values; without the HMAC key they reveal nothing, unlike a
 * plain hash of a name. Each field is hashed under its own label, so a first name never matches
 * a last name. Transfers compute these from a party's stated identity and compare.
 */
export async function ekycFingerprints(identity: EkycIdentity): Promise<EkycFingerprints> {
  const normalized = normalizedIdentity(identity);
  const [firstName, lastName, idNumber] = await Promise.all([
    keyedHash('ekyc', `first_name\0${normalized.first_name}`),
    keyedHash('ekyc', `last_name\0${normalized.last_name}`),
    keyedHash('ekyc', `id_number\0${normalized.id_number}`),
  ]);
  return { firstName, lastName, idNumber };
}

/**
 * Whether a stated identity (a transfer party's names and id number) matches what `user`
 * registered, after normalization; compared in constant time, without decrypting the eKYC.
 */
export async function ekycMatches(user: StoredUser, stated: EkycIdentity): Promise<boolean> {
  const fingerprints = await ekycFingerprints(stated);
  // Every comparison runs, so the time taken does not tell which field differed.
  const matches = [
    sameHash(fingerprints.firstName, user.ekycFingerprints.firstName),
    sameHash(fingerprints.lastName, user.ekycFingerprints.lastName),
    sameHash(fingerprints.idNumber, user.ekycFingerprints.idNumber),
  ];
  return matches.every(Boolean);
}

/** Decrypts a stored user's eKYC and builds the masked view. */
export async function toView(user: StoredUser): Promise<UserView> {
  const ekyc = await openSecret<Ekyc>(user.ekycCiphertext, ekycEncryptionContext(user.businessId, user.userId));
  return userView(user, ekyc);
}

/** Binds an eKYC ciphertext to its business and user: copied onto another user, it does not decrypt. */
function ekycEncryptionContext(businessId: string, userId: string): EncryptionContext {
  return { business_id: businessId, user_id: userId, purpose: 'ekyc' };
}
