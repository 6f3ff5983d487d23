/**
 * Where the platform's keys come from, loaded once per cold start.
 *
 * - In AWS (`KEY_SOURCE=kms`): envelope encryption uses the customer-managed KMS key (a data key
 *   per message, wrapped by KMS), and the HMAC key is a Secrets Manager secret encrypted by that
 *   same KMS key.
 * - Locally (`KEY_SOURCE=local`): a JSON file written on the local stack's first start holds a
 *   raw AES-256 wrapping key and an HMAC key. It lives under `.local/`, which is git-ignored.
 */
import { readFileSync } from 'node:fs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { config } from '../config.ts';

export interface LocalKeyFile {
  /** base64 of 32 random bytes: the raw AES wrapping key of the local keyring. */
  aes_key: string;
  /** base64 of 32 random bytes: the key of every keyed hash (API keys, PAN index, eKYC, OTP). */
  hmac_key: string;
}

let hmacKey: Promise<Buffer> | undefined;
let localFile: LocalKeyFile | undefined;

export function readLocalKeyFile(): LocalKeyFile {
  if (!localFile) {
    const path = config().LOCAL_KEY_FILE;
    if (!path) throw new Error('LOCAL_KEY_FILE is not set');
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as LocalKeyFile;
    if (!parsed.aes_key || !parsed.hmac_key) throw new Error(`Key file ${path} is missing aes_key or hmac_key`);
    localFile = parsed;
  }
  return localFile;
}

/** The HMAC key; fetched once and then served from memory. */
export function getHmacKey(): Promise<Buffer> {
  if (!hmacKey) {
    hmacKey = loadHmacKey();
    // A failed fetch must not poison the container: the next call retries.
    hmacKey.catch(() => {
      hmacKey = undefined;
    });
  }
  return hmacKey;
}

async function loadHmacKey(): Promise<Buffer> {
  const cfg = config();
  if (cfg.KEY_SOURCE === 'local') return Buffer.from(readLocalKeyFile().hmac_key, 'base64');
  const secrets = new SecretsManagerClient({});
  const result = await secrets.send(new GetSecretValueCommand({ SecretId: cfg.HMAC_SECRET_ARN }));
  if (!result.SecretString || result.SecretString.length < 32) throw new Error('HMAC secret is missing or too short');
  return Buffer.from(result.SecretString, 'utf8');
}

export function resetKeyMaterialForTests(): void {
  hmacKey = undefined;
  localFile = undefined;
}
