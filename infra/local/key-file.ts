/**
 * The local stand-in for KMS: a key file in the `LocalKeyFile` format of
 * shared/crypto/key-material.ts, generated once and kept with the data it protects (data sealed or
 * indexed under one key file cannot be opened or found with another).
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { parseKeyFile, type LocalKeyFile } from '../../shared/crypto/key-material.ts';
import { MAC_PURPOSES, type MacPurpose } from '../../shared/crypto/keyed-hash.ts';

const newKey = () => randomBytes(32).toString('base64');

/**
 * Creates the key file if it is missing (owner-only) and checks an existing one is usable. A file
 * from before a purpose existed gains that purpose's key (nothing was hashed under it yet); the
 * single `hmac_key` of release 1 is dropped, so data indexed under it is no longer found.
 */
export async function ensureKeyFile(path: string): Promise<void> {
  const macKeys = Object.fromEntries(MAC_PURPOSES.map((purpose) => [purpose, newKey()])) as Record<MacPurpose, string>;
  try {
    // `wx`: never overwrite a key file that appeared meanwhile; that would orphan its data.
    await writeFile(path, serialize({ aes_key: newKey(), mac_keys: macKeys }), { flag: 'wx', mode: 0o600 });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const existing = parseKeyFile<Partial<LocalKeyFile> & { hmac_key?: string }>(await readFile(path, 'utf8'), path);
  if (Buffer.from(existing.aes_key ?? '', 'base64').length !== 32) throw new Error(`${path}: aes_key must be base64 of 32 bytes`);
  const current = existing.mac_keys ?? ({} as Partial<Record<MacPurpose, string>>);
  const missing = MAC_PURPOSES.filter((purpose) => current[purpose] === undefined);
  for (const purpose of MAC_PURPOSES) {
    if (current[purpose] !== undefined && Buffer.from(current[purpose], 'base64').length !== 32) {
      throw new Error(`${path}: mac_keys.${purpose} must be base64 of 32 bytes`);
    }
  }
  if (missing.length === 0 && existing.hmac_key === undefined) return;
  const upgraded: LocalKeyFile = { aes_key: existing.aes_key!, mac_keys: { ...macKeys, ...current } };
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, serialize(upgraded), { mode: 0o600 });
  await rename(temporary, path);
}

function serialize(keys: LocalKeyFile): string {
  return `${JSON.stringify(keys, null, 2)}\n`;
}
