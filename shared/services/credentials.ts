/**
 * Credentials for operators and authorizers: issue a card-network or chain-watcher key, find the
 * credential behind a presented key, list every credential, revoke one by id. Business API keys
 * are issued and rotated with their business (shared/services/businesses.ts), through the same
 * entity, and are listed and revoked here like the others.
 *
 * A key is returned once, at issue, and stored only as its keyed hash (`credential` purpose).
 */
import { config } from '../config.ts';
import { generateCredentialKey } from '../crypto/credentials.ts';
import { keyedHash } from '../crypto/keyed-hash.ts';
import { credentialView, type CredentialKind, type CredentialRecord, type CredentialView } from '../domain/credentials.ts';
import { newId } from '../domain/ids.ts';
import { nowIso } from '../domain/time.ts';
import { findCredential, insertCredential, listCredentials as listStoredCredentials, revokeCredentialById } from '../db/credentials-repository.ts';

/** A fresh key of `kind` with what its credential item is made of. */
export async function newCredentialKey(kind: CredentialKind): Promise<{ key: string; keyHash: string; credentialId: string }> {
  const key = generateCredentialKey(kind, config().STAGE);
  return { key, keyHash: await keyedHash('credential', key), credentialId: newId() };
}

/** `create-network-key` / `create-chain-key`: a new key, shown this once. */
export async function issueCredential(kind: 'network' | 'chain'): Promise<{ id: string; kind: CredentialKind; key: string }> {
  const { key, keyHash, credentialId } = await newCredentialKey(kind);
  await insertCredential(keyHash, { credentialId, kind, createdAt: nowIso() });
  return { id: credentialId, kind, key };
}

/** The authorizers' question: whose key is this? Unknown and revoked keys are nobody's. */
export async function identifyCredential(key: string): Promise<CredentialRecord | undefined> {
  const credential = await findCredential(await keyedHash('credential', key));
  return credential && !credential.revokedAt ? credential : undefined;
}

export async function listCredentials(): Promise<{ data: CredentialView[] }> {
  return { data: (await listStoredCredentials()).map(credentialView) };
}

/** Revokes a credential of any kind (a business's API key too). Not idempotent: see revokeCredentialById. */
export async function revokeCredential(credentialId: string): Promise<{ id: string; revoked_at: string }> {
  const revoked = await revokeCredentialById(credentialId, nowIso());
  return { id: revoked.credentialId, revoked_at: revoked.revokedAt! };
}
