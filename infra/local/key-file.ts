/**
 * The local stand-in for KMS and the HMAC secret: a key file in the `LocalKeyFile` format of
 * shared/crypto/key-material.ts, generated once and kept with the data it protects (data sealed
 * under one key file cannot be opened with another).
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { LocalKeyFile } from '../../shared/crypto/key-material.ts';

/** Creates the key file if it is missing (owner-only), and checks an existing one is usable. */
export async function ensureKeyFile(path: string): Promise<void> {
  const keys: LocalKeyFile = { aes_key: randomBytes(32).toString('base64'), hmac_key: randomBytes(32).toString('base64') };
  try {
    // `wx`: never overwrite a key file that appeared meanwhile; that would orphan its data.
    await writeFile(path, `${JSON.stringify(keys, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const existing = JSON.parse(await readFile(path, 'utf8')) as Partial<LocalKeyFile>;
  for (const name of ['aes_key', 'hmac_key'] as const) {
    if (Buffer.from(existing[name] ?? '', 'base64').length !== 32) throw new Error(`${path}: ${name} must be base64 of 32 bytes`);
  }
}
