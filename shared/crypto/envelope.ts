/**
 * Envelope encryption of secrets at rest (PAN, CVV, expiry, eKYC PII, webhook secrets) with the
 * AWS Encryption SDK: a fresh data key per message, wrapped by KMS in AWS or by a raw AES key
 * locally. The encryption context binds a ciphertext to its business and record, and is checked
 * on decrypt, so a ciphertext copied onto another record does not decrypt as that record.
 */
import { assertKeyGrant } from './local-key-policy.ts';

/**
 * The AWS Encryption SDK (with its KMS client) is about 300 KB of a bundle, so this module does not
 * import it: shared/crypto/envelope-engine.ts does, and installs itself here when imported. Only
 * the handlers whose route-table row seals or opens (`access.encrypt` / `access.decrypt`) import
 * it, so no other function carries it (test/infra/bundle-budgets.test.ts holds both sides of that);
 * the local stack, the admin CLI and the test setups import it for every handler they run.
 */
export interface EnvelopeEngine {
  seal(plaintext: Uint8Array, context: EncryptionContext): Promise<Uint8Array>;
  open(ciphertext: Uint8Array): Promise<{ plaintext: Uint8Array; context: Record<string, string> }>;
  reset(): void;
}

let engine: EnvelopeEngine | undefined;

export function installEnvelopeEngine(installed: EnvelopeEngine): void {
  engine = installed;
}

function envelopeEngine(): EnvelopeEngine {
  if (!engine) {
    throw new Error('Envelope encryption is not loaded in this function: its handler must import shared/crypto/envelope-engine.ts (and its route-table row must seal or open)');
  }
  return engine;
}

/**
 * What a sealed secret is. Every encryption context names one, and in AWS each function may only
 * seal or open the purposes its route-table row lists (an IAM condition on
 * `kms:EncryptionContext:purpose`), so a function that reads eKYC cannot open a card number.
 */
export const SEAL_PURPOSES = ['card', 'card-shipping', 'ekyc', 'webhook-secret', 'decision-secret', 'otp'] as const;
export type SealPurpose = (typeof SEAL_PURPOSES)[number];

/** Always includes `purpose`, one of `SEAL_PURPOSES`. */
export type EncryptionContext = Record<string, string>;

/** Encrypts `plaintext` (a JSON-serialisable value) bound to `context`; returns base64. */
export async function sealSecret(plaintext: unknown, context: EncryptionContext): Promise<string> {
  assertKeyGrant('encrypt', context.purpose);
  const result = await envelopeEngine().seal(Buffer.from(JSON.stringify(plaintext), 'utf8'), context);
  return Buffer.from(result).toString('base64');
}

/**
 * Decrypts a value sealed by `sealSecret`, refusing it unless every pair of `context` is in the
 * message's authenticated encryption context.
 */
export async function openSecret<T>(ciphertext: string, context: EncryptionContext): Promise<T> {
  assertKeyGrant('decrypt', context.purpose);
  const { plaintext, context: sealedWith } = await envelopeEngine().open(Buffer.from(ciphertext, 'base64'));
  for (const [name, value] of Object.entries(context)) {
    if (sealedWith[name] !== value) {
      throw new Error(`Encryption context mismatch on "${name}"`);
    }
  }
  return JSON.parse(Buffer.from(plaintext).toString('utf8')) as T;
}

export function resetEnvelopeForTests(): void {
  engine?.reset();
}
