/**
 * The local stand-in for KMS's authorization. In AWS each function's IAM policy lets it seal or
 * open only the purposes its route-table row lists (a condition on
 * `kms:EncryptionContext:purpose`). The local stack runs every function in one process with one
 * raw AES key, so it runs each invocation inside that function's grant, and `sealSecret` /
 * `openSecret` refuse a purpose outside it, just as KMS would. A wrong row therefore fails the
 * local and integration tests instead of only failing in AWS.
 *
 * Outside such a scope (AWS, where KMS decides; the operator CLI; tests calling services
 * directly) nothing is checked here.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface EnvelopeGrant {
  encrypt: readonly string[];
  decrypt: readonly string[];
}

const grants = new AsyncLocalStorage<EnvelopeGrant>();

/** Runs `fn` as a function whose row grants `grant`. */
export function withEnvelopeGrant<T>(grant: EnvelopeGrant, fn: () => T): T {
  return grants.run(grant, fn);
}

export class EnvelopeAccessDenied extends Error {}

export function assertEnvelopeGrant(operation: 'encrypt' | 'decrypt', purpose: string | undefined): void {
  const grant = grants.getStore();
  if (!grant) return;
  if (!purpose || !grant[operation].includes(purpose)) {
    throw new EnvelopeAccessDenied(`AccessDenied: this function may not ${operation} secrets of purpose "${purpose ?? '(none)'}"`);
  }
}
