import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../../shared/http/cursor.ts';

const scope = { businessId: 'b-1', list: 'users' };
const key = { PK: 'USER#1', SK: 'PROFILE', GSI1PK: 'BUSINESS#b-1#USERS', GSI1SK: '1' };

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

  it('are rejected when tampered with', async () => {
    const cursor = (await encodeCursor(scope, key))!;
    const [payload, mac] = cursor.split('.');
    const forged = Buffer.from(JSON.stringify({ ...key, PK: 'USER#2' })).toString('base64url');
    await expect(decodeCursor(scope, `${forged}.${mac}`)).rejects.toMatchObject({ code: 'invalid_cursor' });
    await expect(decodeCursor(scope, `${payload}.${mac}x`)).rejects.toMatchObject({ code: 'invalid_cursor' });
    await expect(decodeCursor(scope, 'garbage')).rejects.toMatchObject({ code: 'invalid_cursor' });
    await expect(decodeCursor(scope, `${payload}.${mac}.extra`)).rejects.toMatchObject({ code: 'invalid_cursor' });
  });
});
