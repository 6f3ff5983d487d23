/**
 * The local stack's key file (the stand-in for KMS keys): written once, owner-only, with a key per
 * purpose; a malformed one is refused by name, never by quoting it (the JSON parser's message
 * carries the text around the error, which is key material).
 */
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureKeyFile } from '../../../infra/local/key-file.ts';
import { resetConfigForTests } from '../../../shared/config.ts';
import { readLocalKeyFile, resetKeyMaterialForTests } from '../../../shared/crypto/key-material.ts';
import { MAC_PURPOSES } from '../../../shared/crypto/keyed-hash.ts';

const unitKeyFile = process.env.LOCAL_KEY_FILE;

afterEach(() => {
  process.env.LOCAL_KEY_FILE = unitKeyFile;
  resetConfigForTests();
  resetKeyMaterialForTests();
});

async function scratchPath(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'key-file-')), 'keys.json');
}

describe('the local key file', () => {
  it('is written once, owner-only, with an AES key and a key for every MAC purpose', async () => {
    const path = await scratchPath();
    await ensureKeyFile(path);
    const written = JSON.parse(await readFile(path, 'utf8')) as { aes_key: string; mac_keys: Record<string, string> };
    expect(Buffer.from(written.aes_key, 'base64')).toHaveLength(32);
    expect(Object.keys(written.mac_keys).sort()).toEqual([...MAC_PURPOSES].sort());
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    // A second start keeps it.
    await ensureKeyFile(path);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(written);
  });

  it('is refused by name when malformed, without quoting a byte of it (at start and when a function reads it)', async () => {
    const path = await scratchPath();
    const key = Buffer.alloc(32, 0x5a).toString('base64');
    // Truncated mid-file, as a full disk or an interrupted copy leaves it.
    await writeFile(path, `{"aes_key":"${key}","mac_keys":{"pan":"${key}"`, { mode: 0o600 });

    const atStart = await ensureKeyFile(path).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    process.env.LOCAL_KEY_FILE = path;
    resetConfigForTests();
    resetKeyMaterialForTests();
    let whenRead: Error | undefined;
    try {
      readLocalKeyFile();
    } catch (error) {
      whenRead = error as Error;
    }

    for (const error of [atStart, whenRead]) {
      expect(error?.message).toBe(`Key file ${path} is not valid JSON`);
      expect(`${error?.message}\n${error?.stack}`).not.toContain(key.slice(0, 12));
    }
  });
});
