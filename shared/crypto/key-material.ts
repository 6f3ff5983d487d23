/**
 * The local stack's key file, read once per process. In AWS (`KEY_SOURCE=kms`) nothing here is
 * used: envelope encryption uses the customer-managed KMS key, and each keyed-hash purpose its own
 * KMS HMAC key (shared/crypto/keyed-hash.ts), so no key material is ever in a function's memory.
 *
 * Locally (`KEY_SOURCE=local`) a JSON file written on the local stack's first start holds a raw
 * AES-256 wrapping key and one HMAC key per purpose. It lives under `.local/`, which is git-ignored.
 */
import { readFileSync } from 'node:fs';
import { config } from '../config.ts';
import type { MacPurpose } from './keyed-hash.ts';

export interface LocalKeyFile {
  /** base64 of 32 random bytes: the raw AES wrapping key of the local keyring. */
  aes_key: string;
  /** base64 of 32 random bytes per keyed-hash purpose: the stand-ins of the KMS HMAC keys. */
  mac_keys: Record<MacPurpose, string>;
}

let localFile: LocalKeyFile | undefined;

export function readLocalKeyFile(): LocalKeyFile {
  if (!localFile) {
    const path = config().LOCAL_KEY_FILE;
    if (!path) throw new Error('LOCAL_KEY_FILE is not set');
    const parsed = parseKeyFile<LocalKeyFile>(readFileSync(path, 'utf8'), path);
    if (!parsed.aes_key || !parsed.mac_keys) throw new Error(`Key file ${path} is missing aes_key or mac_keys`);
    localFile = parsed;
  }
  return localFile;
}

/**
 * The key file's JSON. A malformed file is refused by name only: the parser's own message quotes
 * the text around the error, which is key material, and would print it to the terminal.
 */
export function parseKeyFile<T>(text: string, path: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    if (error instanceof SyntaxError) throw new Error(`Key file ${path} is not valid JSON`);
    throw error;
  }
}

export function resetKeyMaterialForTests(): void {
  localFile = undefined;
}
