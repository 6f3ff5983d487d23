/**
 * Envelope encryption of secrets at rest (PAN, CVV, expiry, eKYC PII, webhook secrets) with the
 * AWS Encryption SDK: a fresh data key per message, wrapped by KMS in AWS or by a raw AES key
 * locally. The encryption context binds a ciphertext to its business and record, and is checked
 * on decrypt, so a ciphertext copied onto another record does not decrypt as that record.
 */
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  KmsKeyringNode,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  type KeyringNode,
} from '@aws-crypto/client-node';
import { config } from '../config.ts';
import { readLocalKeyFile } from './key-material.ts';
import { assertKeyGrant } from './local-key-policy.ts';

const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

/**
 * Committing AES-GCM without the ECDSA signature suite: every reader is also a trusted writer here
 * (the platform's own functions), so the signature adds cost but no protection.
 */
const SUITE = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;

/**
 * What a sealed secret is. Every encryption context names one, and in AWS each function may only
 * seal or open the purposes its route-table row lists (an IAM condition on
 * `kms:EncryptionContext:purpose`), so a function that reads eKYC cannot open a card number.
 */
export const SEAL_PURPOSES = ['card', 'card-shipping', 'ekyc', 'webhook-secret', 'decision-secret', 'otp'] as const;
export type SealPurpose = (typeof SEAL_PURPOSES)[number];

/** Always includes `purpose`, one of `SEAL_PURPOSES`. */
export type EncryptionContext = Record<string, string>;

let keyring: KeyringNode | undefined;

function getKeyring(): KeyringNode {
  if (!keyring) {
    const cfg = config();
    if (cfg.KEY_SOURCE === 'kms') {
      keyring = new KmsKeyringNode({ generatorKeyId: cfg.KMS_KEY_ARN! });
    } else {
      const key = Buffer.from(readLocalKeyFile().aes_key, 'base64');
      keyring = new RawAesKeyringNode({
        keyName: 'local-data-key',
        keyNamespace: 'card-platform-local',
        unencryptedMasterKey: new Uint8Array(key),
        wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
      });
    }
  }
  return keyring;
}

/** Encrypts `plaintext` (a JSON-serialisable value) bound to `context`; returns base64. */
export async function sealSecret(plaintext: unknown, context: EncryptionContext): Promise<string> {
  assertKeyGrant('encrypt', context.purpose);
  const { result } = await encrypt(getKeyring(), Buffer.from(JSON.stringify(plaintext), 'utf8'), {
    encryptionContext: context,
    suiteId: SUITE,
  });
  return Buffer.from(result).toString('base64');
}

/**
 * Decrypts a value sealed by `sealSecret`, refusing it unless every pair of `context` is in the
 * message's authenticated encryption context.
 */
export async function openSecret<T>(ciphertext: string, context: EncryptionContext): Promise<T> {
  assertKeyGrant('decrypt', context.purpose);
  const { plaintext, messageHeader } = await decrypt(getKeyring(), Buffer.from(ciphertext, 'base64'));
  for (const [name, value] of Object.entries(context)) {
    if (messageHeader.encryptionContext[name] !== value) {
      throw new Error(`Encryption context mismatch on "${name}"`);
    }
  }
  return JSON.parse(Buffer.from(plaintext).toString('utf8')) as T;
}

export function resetEnvelopeForTests(): void {
  keyring = undefined;
}
