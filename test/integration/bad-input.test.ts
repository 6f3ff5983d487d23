/**
 * Every route of the route table, fed malformed input (broken JSON, wrong types, odd ids, forged
 * cursors): each answer is a 4xx in the API.md error shape, never a 5xx. New routes are covered
 * automatically.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { routesForStage } from '../../functions/routes.ts';
import { api, localStack } from '../support/stack.ts';

const BODIES: unknown[] = ['{', '[]', 'null', '"text"', {}, { amount: -1, currency: 12, card_id: {}, status: 'Nope' }, { limits: 'x', mode: 'B2Z' }];

const routes = routesForStage('sandbox');

describe('bad input on every route', () => {
  it.each(routes.map((r) => [`${r.method} ${r.path}`, r] as const))('%s answers 4xx with the error body', async (_, route) => {
    const { apiKey, networkKey, chainKey } = localStack();
    const client = api({ business: apiKey, network: networkKey, chain: chainKey }[route.credential]);
    for (const id of ['not-an-id', randomUUID(), '%20', 'a'.repeat(300)]) {
      const path = route.path.replace(/\{[^}]+\}/g, encodeURIComponent(id));
      const bodies = route.method === 'GET' || route.method === 'DELETE' ? [undefined] : BODIES;
      for (const body of bodies) {
        const query = route.method === 'GET' ? '?limit=1000&cursor=forged&status=Nope&from=yesterday&p_user_id=x' : '';
        const response = await client.request(route.method, `${path}${query}`, body);
        expect(response.status, `${route.method} ${path} ${JSON.stringify(body)}: ${response.text}`).toBeLessThan(500);
        expect(response.headers.get('x-request-id')).toBeTruthy();
        // A route without input (GET /v1/balances) rightly ignores a stray query string.
        if (route.path.includes('{') || route.method !== 'GET' || response.status !== 200) {
          expect(response.status, `${route.method} ${path} ${JSON.stringify(body)}`).toBeGreaterThanOrEqual(400);
          expect(response.body?.error?.code, response.text).toMatch(/^[a-z_]+$/);
          expect(response.body?.error?.request_id).toBe(response.headers.get('x-request-id'));
        }
      }
    }
  });
});
