import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../../shared/http/cursor.ts';

const scope = { businessId: 'b-1', list: 'users' };
// Values long enough that random ciphertext cannot contain one by chance (a one-character value
// turns up in ~100 random bytes a third of the time).
const key = {
  PK: 'USER#0190a3c4-0000-7000-8000-000000000001',
  SK: 'PROFILE',
  GSI1PK: 'BUSINESS#b-1#USERS',
  GSI1SK: '0190a3c4-0000-7000-8000-000000000001',
};

describe('list cursors', () => {
  it('round-trip for the same business and list', async () => {
    const cursor = await encodeCursor(scope, key);
    expect(cursor).toBeTypeOf('string');
    expect(await decodeCursor(scope, cursor!)).toEqual(key);
  });

  it('are null at the end of a list', async () => {
    expect(await encodeCursor(scope, undefined)).toBeNull();
  });

  it('are rejected for another business or another list', async () => {
    const cursor = (await encodeCursor(scope, key))!;
    await expect(decodeCursor({ ...scope, businessId: 'b-2' }, cursor)).rejects.toMatchObject({ statusCode: 400, code: 'invalid_cursor' });
    await expect(decodeCursor({ ...scope, list: 'cards' }, cursor)).rejects.toMatchObject({ code: 'invalid_cursor' });
  });

  it('are rejected when tampered with, one bit anywhere', async () => {
    const cursor = (await encodeCursor(scope, key))!;
    const bytes = Buffer.from(cursor, 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      const flipped = Buffer.from(bytes);
      flipped[i]! ^= 0x01;
      await expect(decodeCursor(scope, flipped.toString('base64url'))).rejects.toMatchObject({ code: 'invalid_cursor' });
    }
    await expect(decodeCursor(scope, 'garbage')).rejects.toMatchObject({ code: 'invalid_cursor' });
    await expect(decodeCursor(scope, `${cursor}.extra`)).rejects.toMatchObject({ code: 'invalid_cursor' });
    // Node's base64 decoder drops a stray last character: that must not make a second valid spelling.
    await expect(decodeCursor(scope, `${cursor}x`)).rejects.toMatchObject({ code: 'invalid_cursor' });
    await expect(decodeCursor(scope, 'A'.repeat(5000))).rejects.toMatchObject({ code: 'invalid_cursor' });
  });

  it('reveal no part of the key they carry (encrypted, not just signed)', async () => {
    const itemKey = { PK: 'USER#0195c0de-7a1e-7c4b-9e3a-5f1d2c3b4a59', SK: 'PROFILE', GSI1PK: 'BUSINESS#b-1#USERS', GSI1SK: '0195c0de-7a1e-7c4b' };
    const cursor = (await encodeCursor(scope, itemKey))!;
    const text = Buffer.from(cursor, 'base64url').toString('latin1');
    for (const value of Object.values(itemKey)) expect(text).not.toContain(value);
    for (const value of Object.values(itemKey)) expect(cursor).not.toContain(Buffer.from(value).toString('base64url').slice(0, 8));
    // Two cursors for the same key differ (a fresh IV each), so equal positions are not linkable.
    expect(await encodeCursor(scope, key)).not.toBe(cursor);
  });
});
