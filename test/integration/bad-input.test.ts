/**
 * Every route of the route table, fed malformed input (broken JSON, wrong types, odd ids, forged
 * cursors, unknown query parameters): each answer is a 4xx in the API.md error shape, never a 5xx.
 * New routes are covered automatically.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { routesForStage, type RouteRow } from '../../shared/routes.ts';
import { api, localStack } from '../support/stack.ts';

const BODIES: unknown[] = ['{', '[]', 'null', '"text"', {}, { amount: -1, currency: 12, card_id: {}, status: 'Nope' }, { limits: 'x', mode: 'B2Z' }];

/**
 * Ids that name nothing (ids are UUIDs): too long for a DynamoDB key, not of the format, or
 * carrying what a key builder must never see (`#` separates key parts; NUL; unicode). Each is sent
 * percent-encoded, as a client would, so the handler sees exactly these characters.
 */
const MALFORMED_IDS = [
  'not-an-id',
  'a'.repeat(65),
  'a'.repeat(300),
  'a'.repeat(2100),
  `${randomUUID()}0`,
  `${randomUUID()}#CARD`,
  'id#with#hash',
  '\u0000',
  `${randomUUID()}\u0000`,
  'ü',
  '卡'.repeat(36),
  '😀'.repeat(18),
  'a/b',
  ' ',
  '%',
  '%00',
];

const routes = routesForStage('sandbox');
const routesWithIds = routes.filter((route) => route.path.includes('{'));

const paramsOf = (route: RouteRow): string[] => [...route.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!);
const pathWith = (route: RouteRow, ids: Record<string, string> = {}) =>
  route.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(ids[name] ?? randomUUID()));

/** The resource a path parameter names: the collection whose segment comes right before it. */
function resourceNamedBy(route: RouteRow, param: string): string {
  const segments = route.path.split('/');
  const collection = segments[segments.indexOf(`{${param}}`) - 1];
  const resources: Record<string, string> = {
    users: 'user',
    cards: 'card',
    transactions: 'transaction',
    authorizations: 'transaction',
    transfers: 'transfer',
    events: 'event',
    '3ds': 'verification',
    challenges: 'verification',
  };
  const resource = resources[collection!];
  if (!resource) throw new Error(`Which resource does {${param}} of ${route.path} name? Add its collection here.`);
  return resource;
}

function clientFor(route: RouteRow) {
  const { apiKey, networkKey, chainKey } = localStack();
  // A public route (the API description) is called with no key.
  return api({ business: apiKey, network: networkKey, chain: chainKey, public: undefined }[route.credential]);
}

describe('bad input on every route', () => {
  it.each(routes.map((r) => [`${r.method} ${r.path}`, r] as const))('%s answers 4xx with the error body', async (_, route) => {
    const client = clientFor(route);
    for (const id of ['not-an-id', randomUUID(), ' ', 'a'.repeat(300)]) {
      const path = route.path.replace(/\{[^}]+\}/g, encodeURIComponent(id));
      // A body the route's own contract accepts is not bad input: `{}` replaces the business's
      // controls with none (`PUT /v1/controls`, every field optional), which is a 200.
      const accepts = (body: unknown) => typeof body === 'object' && body !== null && route.operation.body?.safeParse(body).success === true;
      const bodies = route.method === 'GET' || route.method === 'DELETE' ? [undefined] : BODIES.filter((body) => !accepts(body));
      for (const body of bodies) {
        const query = route.method === 'GET' ? '?limit=1000&cursor=forged&status=Nope&from=yesterday&p_user_id=x' : '';
        const response = await client.request(route.method, `${path}${query}`, body);
        const context = `${route.method} ${path}${query} ${JSON.stringify(body)}: ${response.text}`;
        expect(response.status, context).toBeGreaterThanOrEqual(400);
        expect(response.status, context).toBeLessThan(500);
        expect(response.headers.get('x-request-id')).toBeTruthy();
        expect(response.body?.error?.code, context).toMatch(/^[a-z_]+$/);
        expect(response.body?.error?.request_id).toBe(response.headers.get('x-request-id'));
      }
    }
  });

  it.each(routes.map((r) => [`${r.method} ${r.path}`, r] as const))('%s refuses an unknown query parameter with 400 validation_error naming it', async (_, route) => {
    const response = await clientFor(route).request(route.method, `${pathWith(route)}?unknown_param=1`, route.method === 'GET' ? undefined : {});
    expect(response.status, response.text).toBe(400);
    expect(response.body.error.code).toBe('validation_error');
    expect(response.body.error.fields).toContainEqual({ path: 'unknown_param', message: expect.any(String) });
  });
});

describe('ids in paths', () => {
  it.each(routesWithIds.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s answers an over-long or malformed id with 404 <resource>_not_found, never a 5xx',
    async (_, route) => {
      const client = clientFor(route);
      for (const param of paramsOf(route)) {
        const code = `${resourceNamedBy(route, param)}_not_found`;
        for (const id of MALFORMED_IDS) {
          // Only the id is wrong: every other id is a UUID, and the body is an empty object.
          const response = await client.request(route.method, pathWith(route, { [param]: id }), route.method === 'GET' ? undefined : {});
          const context = `${route.method} ${pathWith(route, { [param]: id }).slice(0, 80)}: ${response.text}`;
          expect(response.status, context).toBe(404);
          expect(response.body.error.code, context).toBe(code);
          expect(response.body.error.request_id).toBe(response.headers.get('x-request-id'));
        }
      }
    },
  );

  it.each(routesWithIds.filter((r) => r.method === 'GET').map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s answers a malformed id exactly as a missing one (it names no resource)',
    async (_, route) => {
      const client = clientFor(route);
      for (const param of paramsOf(route)) {
        const missing = await client.get(pathWith(route, { [param]: randomUUID() }));
        const malformed = await client.get(pathWith(route, { [param]: 'a'.repeat(2100) }));
        expect(missing.status).toBe(404);
        const { request_id: _a, ...missingError } = missing.body.error;
        const { request_id: _b, ...malformedError } = malformed.body.error;
        expect(malformed.status).toBe(404);
        expect(malformedError).toEqual(missingError);
      }
    },
  );
});

describe('reveal link tokens', () => {
  it('answers a malformed, over-long or repeated token with 400 or a 410 page, never a 5xx', async () => {
    const anyone = api();
    const tokens = ['', 'x', 'a'.repeat(129), 'a'.repeat(3000), '%00', `rvl_${'%23'.repeat(43)}`, `rvl_${'A'.repeat(42)}%00`, '%F0%9F%98%80'.repeat(20), 'rvl_x&token=rvl_y'];
    for (const token of tokens) {
      const response = await anyone.get(`/v1/card-reveal?token=${token}`);
      const context = `token=${token.slice(0, 40)}: ${response.status} ${response.text.slice(0, 200)}`;
      expect([400, 410], context).toContain(response.status);
      expect(response.headers.get('x-request-id')).toBeTruthy();
      if (response.status === 400) expect(response.body.error.code, context).toBe('validation_error');
      else expect(response.headers.get('cache-control'), context).toBe('no-store');
    }
    const none = await anyone.get('/v1/card-reveal');
    expect(none.status).toBe(400);
    expect(none.body.error.fields).toContainEqual({ path: 'token', message: expect.any(String) });
  });
});
