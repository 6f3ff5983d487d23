/**
 * The local stand-in for KMS's authorization, and for the rest of a row's IAM grant that a
 * function's code reaches. In AWS each function's IAM policy lets it seal or open only the envelope
 * purposes its route-table row lists (a condition on `kms:EncryptionContext:purpose`), compute
 * keyed hashes only with the KMS HMAC keys of the purposes it lists (`kms:GenerateMac` on those
 * keys alone), read only its row's operator settings (`ssm:GetParameter`, and the parameter names
 * in its environment) and send only to its row's queues. The local stack runs every function in
 * one process with one key file and one environment, so it runs each invocation inside that
 * function's grant, and `sealSecret` / `openSecret` / `keyedHash`, the operator settings and the
 * queue URLs refuse what is outside it, just as AWS would. A wrong row therefore fails the local
 * and integration tests instead of only failing in AWS.
 *
 * Outside such a scope (AWS, where KMS decides; the operator CLI; tests calling services
 * directly) nothing is checked here.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface KeyGrant {
  encrypt: readonly string[];
  decrypt: readonly string[];
  /** Keyed-hash purposes (`MacPurpose`): which KMS HMAC keys the function may use. */
  mac: readonly string[];
  /** Operator settings (`OperatorSetting`) it may read; none when absent. */
  settings?: readonly string[];
  /** Queues (`QueueName`) it may send to; none when absent. */
  sendTo?: readonly string[];
}

export type KeyOperation = keyof KeyGrant;

const grants = new AsyncLocalStorage<KeyGrant>();

/** Runs `fn` as a function whose row grants `grant`. */
export function withKeyGrant<T>(grant: KeyGrant, fn: () => T): T {
  return grants.run(grant, fn);
}

export class KeyAccessDenied extends Error {}

/** How a refusal names what was asked, per operation. */
const ASKED: Record<KeyOperation, (purpose: string) => string> = {
  encrypt: (purpose) => `encrypt with purpose "${purpose}"`,
  decrypt: (purpose) => `decrypt with purpose "${purpose}"`,
  mac: (purpose) => `mac with purpose "${purpose}"`,
  settings: (setting) => `read the operator setting "${setting}"`,
  sendTo: (queue) => `send to the queue "${queue}"`,
};

export function assertKeyGrant(operation: KeyOperation, purpose: string | undefined): void {
  const grant = grants.getStore();
  if (!grant) return;
  if (!purpose || !(grant[operation] ?? []).includes(purpose)) {
    throw new KeyAccessDenied(`AccessDenied: this function may not ${ASKED[operation](purpose ?? '(none)')}`);
  }
}
