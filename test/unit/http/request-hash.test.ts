import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cardNumberToken } from '../../../shared/crypto/card-number-token.ts';
import { withKeyGrant } from '../../../shared/crypto/local-key-policy.ts';
import { canonicalJson, requestHash } from '../../../shared/http/request-hash.ts';

const CARD = '3567720000008213';
const body = { card_number: CARD, network_authorization_id: 'n-1', amount: '25', currency: 'HKD' };

describe('requestHash', () => {
  it('ignores key order', async () => {
    expect(await requestHash('POST', '/v1/x', { a: 1, b: { c: 2, d: 3 } })).toBe(await requestHash('POST', '/v1/x', { b: { d: 3, c: 2 }, a: 1 }));
  });

  it('differs for a different body, path or method', async () => {
    const base = await requestHash('POST', '/v1/x', { a: 1 });
    expect(await requestHash('POST', '/v1/x', { a: 2 })).not.toBe(base);
    expect(await requestHash('POST', '/v1/y', { a: 1 })).not.toBe(base);
    expect(await requestHash('PUT', '/v1/x', { a: 1 })).not.toBe(base);
  });

  it('tells two card numbers apart without digesting either: each stands in as its index token', async () => {
    const other = await requestHash('POST', '/network/authorizations', { ...body, card_number: '3567720000008221' });
    expect(await requestHash('POST', '/network/authorizations', body)).not.toBe(other);
    const withToken = { ...body, card_number: { pan_token: await cardNumberToken(CARD) } };
    const digest = createHash('sha256').update(`POST /network/authorizations\n${canonicalJson(withToken)}`).digest('base64url');
    expect(await requestHash('POST', '/network/authorizations', body)).toBe(
      createHmac('sha256', Buffer.from(unitKeys().mac_keys.idempotency!, 'base64')).update(`request\0${digest}`).digest('base64url'),
    );
  });

  it('is no unkeyed digest of the body, so guessing a card number and hashing gets nowhere', async () => {
    const stored = await requestHash('POST', '/network/authorizations', body);
    const plain = `POST /network/authorizations\n${canonicalJson(body)}`;
    for (const algorithm of ['sha256', 'sha1', 'md5', 'sha512']) {
      for (const encoding of ['hex', 'base64', 'base64url'] as const) {
        expect(stored).not.toBe(createHash(algorithm).update(plain).digest(encoding));
      }
    }
  });

  it('needs both the idempotency and the card-number MAC grants for a body with a card number', async () => {
    await expect(withKeyGrant({ encrypt: [], decrypt: [], mac: ['idempotency'] }, () => requestHash('POST', '/n', { card_number: '3567720000009999' }))).rejects.toThrow(/AccessDenied.*"pan"/);
    await expect(withKeyGrant({ encrypt: [], decrypt: [], mac: ['pan'] }, () => requestHash('POST', '/n', { a: 1 }))).rejects.toThrow(/AccessDenied.*"idempotency"/);
  });
});

function unitKeys(): { mac_keys: Record<string, string> } {
  return JSON.parse(readFileSync(process.env.LOCAL_KEY_FILE!, 'utf8'));
}
