/**
 * The platform's credentials (API.md "Credentials"): three kinds, each accepted on its own routes
 * only, so that no holder can do another's job.
 *
 * - `business`: a partner's API key, for `/v1/...`;
 * - `network`: the card network's key, for `/network/authorizations...` and `/network/3ds/...`
 *   (authorizing a purchase moves a hold, never credits money);
 * - `chain`: the chain watcher's key, for `/network/deposits` (crediting a deposit mints balance,
 *   so the card network must not be able to, and the watcher must not authorize purchases).
 */

export const CREDENTIAL_KINDS = ['business', 'network', 'chain'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

import type { ErrorCode } from '../errors.ts';

/** One issued credential. The key itself is never stored: only its keyed hash, as the item's key. */
export interface CredentialRecord {
  credentialId: string;
  kind: CredentialKind;
  /** The business an API key belongs to (business keys only). */
  businessId?: string;
  createdAt: string;
  /** Set once, when revoked; a revoked credential is refused like an unknown one. */
  revokedAt?: string;
}

/** How operators see a credential (`npm run admin -- list-credentials`): never the key or its hash. */
export interface CredentialView {
  id: string;
  kind: CredentialKind;
  business_id?: string;
  created_at: string;
  revoked_at: string | null;
}

export function credentialView(credential: CredentialRecord): CredentialView {
  return {
    id: credential.credentialId,
    kind: credential.kind,
    ...(credential.businessId ? { business_id: credential.businessId } : {}),
    created_at: credential.createdAt,
    revoked_at: credential.revokedAt ?? null,
  };
}

export function isCredentialKind(value: unknown): value is CredentialKind {
  return typeof value === 'string' && (CREDENTIAL_KINDS as readonly string[]).includes(value);
}

/**
 * The `403` a valid credential of another kind gets, naming the kind the route needs, so a caller
 * that mixed up its keys learns which one to send (an unknown or revoked key stays a plain `401`).
 * The messages travel through an authorizer's context into an API Gateway response template, so
 * they hold no quote or backslash.
 */
export const CREDENTIAL_REQUIRED = {
  business: 'api_key_required',
  network: 'network_credential_required',
  chain: 'chain_credential_required',
} as const satisfies Record<CredentialKind, ErrorCode>;
