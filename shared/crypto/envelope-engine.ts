/**
 * The envelope encryption engine (shared/crypto/envelope.ts): the AWS Encryption SDK, with a KMS
 * keyring in AWS or a raw AES key locally. Importing this module installs it; only the handlers
 * whose route-table row seals or opens import it (and the local stack, admin CLI and test setups).
 */
// The ESDK's parts, not its `@aws-crypto/client-node` barrel: that one is CommonJS re-exporting
// every keyring (hierarchical, RSA, caching), which esbuild cannot leave out (~40 KiB more per bundle).
import { buildDecrypt } from '@aws-crypto/decrypt-node';
import { buildEncrypt } from '@aws-crypto/encrypt-node';
import { KmsKeyringNode } from '@aws-crypto/kms-keyring-node';
import { AlgorithmSuiteIdentifier, CommitmentPolicy, type KeyringNode } from '@aws-crypto/material-management-node';
import { RawAesKeyringNode, RawAesWrappingSuiteIdentifier } from '@aws-crypto/raw-aes-keyring-node';
import { config } from '../config.ts';
import { installEnvelopeEngine } from './envelope.ts';
import { readLocalKeyFile } from './key-material.ts';

const { encrypt } = buildEncrypt(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const { decrypt } = buildDecrypt(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

/**
 * Committing AES-GCM without the ECDSA signature suite: every reader is also a trusted writer here
 * (the platform's own functions), so the signature adds cost but no protection.
 */
const SUITE = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;

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

installEnvelopeEngine({
  async seal(plaintext, context) {
    const { result } = await encrypt(getKeyring(), plaintext, { encryptionContext: context, suiteId: SUITE });
    return result;
  },
  async open(ciphertext) {
    const { plaintext, messageHeader } = await decrypt(getKeyring(), ciphertext);
    return { plaintext, context: messageHeader.encryptionContext };
  },
  reset() {
    keyring = undefined;
  },
});
