import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cardNumberToken } from '../../../shared/crypto/card-number-token.ts';
import { withKeyGrant } from '../../../shared/crypto/local-key-policy.ts';
import { canonicalJson, requestHash, UNREAD_CARD_NUMBER } from '../../../shared/http/request-hash.ts';

const CARD = '3567720000008213';
const body = { card_number: CARD, network_authorization_id: 'n-1', amount: '25', currency: 'HKD' };

describe('requestHash', () => {
  it('ignores key order', async () => {
    expect(await requestHash('POST', '/v1/x', { a: 1, b: { c: 2, d: 3 } }, 'token')).toBe(await requestHash('POST', '/v1/x', { b: { d: 3, c: 2 }, a: 1 }, 'token'));
  });

  it('differs for a different body, path or method', async () => {
    const base = await requestHash('POST', '/v1/x', { a: 1 }, 'token');
    expect(await requestHash('POST', '/v1/x', { a: 2 }, 'token')).not.toBe(base);
    expect(await requestHash('POST', '/v1/y', { a: 1 }, 'token')).not.toBe(base);
    expect(await requestHash('PUT', '/v1/x', { a: 1 }, 'token')).not.toBe(base);
  });

  it('tells two card numbers apart without digesting either: each stands in as its index token', async () => {
    const other = await requestHash('POST', '/network/authorizations', { ...body, card_number: '3567720000008221' }, 'token');
    expect(await requestHash('POST', '/network/authorizations', body, 'token')).not.toBe(other);
    const withToken = { ...body, card_number: { pan_token: await cardNumberToken(CARD) } };
    const digest = createHash('sha256').update(`POST /network/authorizations\n${canonicalJson(withToken)}`).digest('base64url');
    expect(await requestHash('POST', '/network/authorizations', body, 'token')).toBe(
      createHmac('sha256', Buffer.from(unitKeys().mac_keys.idempotency!, 'base64')).update(`request\0${digest}`).digest('base64url'),
    );
  });

  it('is no unkeyed digest of the body, so guessing a card number and hashing gets nowhere', async () => {
    const stored = await requestHash('POST', '/network/authorizations', body, 'token');
    const plain = `POST /network/authorizations\n${canonicalJson(body)}`;
    for (const algorithm of ['sha256', 'sha1', 'md5', 'sha512']) {
      for (const encoding of ['hex', 'base64', 'base64url'] as const) {
        expect(stored).not.toBe(createHash(algorithm).update(plain).digest(encoding));
      }
    }
  });

  it('on a route that reads no card number, puts a marker in its place: no card-number key needed, and no trace of the number', async () => {
    const grant = { encrypt: [], decrypt: [], mac: ['idempotency'] };
    const reversal = (extra: object) => withKeyGrant(grant, () => requestHash('POST', '/network/authorizations/a/reverse', { amount: '1', ...extra }, 'redact'));
    const stray = await reversal({ card_number: '3567720000009999' });
    expect(await reversal({ card_number: '3567720000001111' })).toBe(stray);
    expect(await reversal({})).not.toBe(stray);
    const marked = canonicalJson({ amount: '1', card_number: UNREAD_CARD_NUMBER });
    const digest = createHash('sha256').update(`POST /network/authorizations/a/reverse\n${marked}`).digest('base64url');
    expect(stray).toBe(createHmac('sha256', Buffer.from(unitKeys().mac_keys.idempotency!, 'base64')).update(`request\0${digest}`).digest('base64url'));
  });

  it('needs both the idempotency and the card-number MAC grants for a body with a card number', async () => {
    await expect(withKeyGrant({ encrypt: [], decrypt: [], mac: ['idempotency'] }, () => requestHash('POST', '/n', { card_number: '3567720000009999' }, 'token'))).rejects.toThrow(/AccessDenied.*"pan"/);
    await expect(withKeyGrant({ encrypt: [], decrypt: [], mac: ['pan'] }, () => requestHash('POST', '/n', { a: 1 }, 'token'))).rejects.toThrow(/AccessDenied.*"idempotency"/);
  });
});

function unitKeys(): { mac_keys: Record<string, string> } {
  return JSON.parse(readFileSync(process.env.LOCAL_KEY_FILE!, 'utf8'));
}
