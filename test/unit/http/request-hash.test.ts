import { describe, expect, it } from 'vitest';
import { requestHash } from '../../../shared/http/request-hash.ts';

describe('requestHash', () => {
  it('ignores key order', () => {
    expect(requestHash('POST', '/v1/x', { a: 1, b: { c: 2, d: 3 } })).toBe(requestHash('POST', '/v1/x', { b: { d: 3, c: 2 }, a: 1 }));
  });

  it('differs for a different body, path or method', () => {
    const base = requestHash('POST', '/v1/x', { a: 1 });
    expect(requestHash('POST', '/v1/x', { a: 2 })).not.toBe(base);
    expect(requestHash('POST', '/v1/y', { a: 1 })).not.toBe(base);
    expect(requestHash('PUT', '/v1/x', { a: 1 })).not.toBe(base);
  });
});
