import { describe, expect, it } from 'vitest';
import { compileRoutes } from '../../../infra/local/route-matcher.ts';

const routes = [
  { method: 'GET', path: '/v1/users' },
  { method: 'POST', path: '/v1/users' },
  { method: 'GET', path: '/v1/users/{p_user_id}' },
  { method: 'PATCH', path: '/v1/users/{p_user_id}' },
  { method: 'GET', path: '/v1/users/{p_user_id}/balances' },
  { method: 'POST', path: '/v1/simulate/{kind}' },
  { method: 'POST', path: '/v1/simulate/3ds' },
  { method: 'POST', path: '/v1/simulate/3ds/{verification_id}/verify' },
];

describe('route matcher', () => {
  const matcher = compileRoutes(routes);

  it('matches a literal path with no path parameters', () => {
    expect(matcher.match('GET', '/v1/users')).toEqual({ kind: 'route', route: routes[0], pathParameters: null });
  });

  it('captures {param} segments by name', () => {
    expect(matcher.match('GET', '/v1/users/0193-abc/balances')).toEqual({
      kind: 'route',
      route: routes[4],
      pathParameters: { p_user_id: '0193-abc' },
    });
  });

  it('URL-decodes path parameters, as API Gateway does', () => {
    const match = matcher.match('GET', '/v1/users/a%20b');
    expect(match.kind === 'route' && match.pathParameters).toEqual({ p_user_id: 'a b' });
  });

  it('prefers a literal segment over a parameter at the same position', () => {
    const match = matcher.match('POST', '/v1/simulate/3ds');
    expect(match.kind === 'route' && match.route.path).toBe('/v1/simulate/3ds');
    const other = matcher.match('POST', '/v1/simulate/topups');
    expect(other.kind === 'route' && other.pathParameters).toEqual({ kind: 'topups' });
  });

  it('treats a trailing slash as the same resource', () => {
    expect(matcher.match('GET', '/v1/users/').kind).toBe('route');
  });

  it('says which methods exist when the path is known but the method is not', () => {
    expect(matcher.match('DELETE', '/v1/users/123')).toEqual({ kind: 'method_not_allowed', allowed: ['GET', 'PATCH'] });
  });

  it('does not match a parameter to an empty segment or a path of another length', () => {
    expect(matcher.match('GET', '/v1/users//balances').kind).toBe('not_found');
    expect(matcher.match('GET', '/v1/users/1/balances/extra').kind).toBe('not_found');
    expect(matcher.match('GET', '/v2/users').kind).toBe('not_found');
  });

  it('rejects a route table that defines the same method and path twice', () => {
    const users = { method: 'GET', path: '/v1/users' };
    expect(() => compileRoutes([users, users])).toThrow(/Duplicate route GET \/v1\/users/);
  });
});
