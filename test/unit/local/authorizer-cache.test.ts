import { describe, expect, it } from 'vitest';
import { AuthorizerCache, parseAuthorizerResult } from '../../../infra/local/authorizer-cache.ts';

const arn = (method: string, path: string) => `arn:aws:execute-api:us-east-1:000000000000:local/sandbox/${method}${path}`;

function policy(statements: object[], context?: object) {
  return parseAuthorizerResult({ principalId: 'p1', policyDocument: { Version: '2012-10-17', Statement: statements }, context });
}

describe('authorizer policy', () => {
  it('allows every method covered by a wildcard resource', () => {
    const allowed = policy([{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: arn('*', '') }]);
    expect(allowed.allows(arn('GET', '/v1/users'))).toBe(true);
    expect(allowed.allows(arn('POST', '/v1/cards/c1/lock'))).toBe(true);
  });

  it('allows only the resources it names', () => {
    const allowed = policy([{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: [arn('GET', '/v1/users')] }]);
    expect(allowed.allows(arn('GET', '/v1/users'))).toBe(true);
    expect(allowed.allows(arn('POST', '/v1/users'))).toBe(false);
  });

  it('lets an explicit Deny win over an Allow', () => {
    const denied = policy([
      { Effect: 'Allow', Action: 'execute-api:Invoke', Resource: arn('*', '') },
      { Effect: 'Deny', Action: 'execute-api:Invoke', Resource: arn('*', '/v1/cards/*') },
    ]);
    expect(denied.allows(arn('GET', '/v1/users'))).toBe(true);
    expect(denied.allows(arn('GET', '/v1/cards/c1'))).toBe(false);
  });

  it('ignores statements about other actions', () => {
    expect(policy([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }]).allows(arn('GET', '/v1/users'))).toBe(false);
  });

  it('hands the context on as strings, as API Gateway does', () => {
    expect(policy([], { businessId: 'b1', count: 3, admin: false }).context).toEqual({ businessId: 'b1', count: '3', admin: 'false' });
  });

  it('rejects a malformed authorizer result', () => {
    expect(() => parseAuthorizerResult({ principalId: 'p1' })).toThrow(/malformed/);
    expect(() => policy([], { nested: { a: 1 } })).toThrow(/must be a string/);
  });
});

describe('authorizer result cache', () => {
  it('serves a policy for its credential and identity until the TTL ends', () => {
    let now = 0;
    const cache = new AuthorizerCache({ ttlMs: 60_000, now: () => now });
    const allowed = policy([]);
    cache.set('business', 'Bearer a', allowed);
    expect(cache.get('business', 'Bearer a')).toBe(allowed);
    expect(cache.get('network', 'Bearer a')).toBeUndefined();
    expect(cache.get('business', 'Bearer b')).toBeUndefined();
    now = 59_999;
    expect(cache.get('business', 'Bearer a')).toBe(allowed);
    now = 60_000;
    expect(cache.get('business', 'Bearer a')).toBeUndefined();
  });

  it('drops the oldest entry when full', () => {
    const cache = new AuthorizerCache({ ttlMs: 60_000, maxEntries: 2 });
    cache.set('business', 'a', policy([]));
    cache.set('business', 'b', policy([]));
    cache.set('business', 'c', policy([]));
    expect(cache.get('business', 'a')).toBeUndefined();
    expect(cache.get('business', 'b')).toBeDefined();
    expect(cache.get('business', 'c')).toBeDefined();
  });
});
