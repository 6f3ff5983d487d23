/**
 * The local stack's API Gateway stand-in, through HTTP the way a partner calls it: routes from the
 * route table, the business authorizer in front of them, and the gateway's own error responses in
 * API.md's error shape.
 */
import { describe, expect, it } from 'vitest';
import { api, localStack, type ApiResponse } from '../support/stack.ts';

function expectGatewayError(response: ApiResponse, status: number, code: string) {
  expect(response.status).toBe(status);
  const requestId = response.headers.get('x-request-id');
  expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
  expect(response.body).toEqual({ error: { code, message: expect.any(String), request_id: requestId } });
}

describe('local stack API', () => {
  it('serves a route of the route table to the sandbox business', async () => {
    const response = await api(localStack().apiKey).get('/v1/balances');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: expect.any(Array) });
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives every request its own request id', async () => {
    const client = api(localStack().apiKey);
    const [first, second] = await Promise.all([client.get('/v1/balances'), client.get('/v1/balances')]);
    expect(first.headers.get('x-request-id')).not.toBe(second.headers.get('x-request-id'));
  });

  it('answers 401 unauthorized without an Authorization header', async () => {
    expectGatewayError(await api().get('/v1/balances'), 401, 'unauthorized');
  });

  it('answers 401 unauthorized to an unknown API key', async () => {
    const response = await api('cpk_sandbox_not-a-real-key-0000000000000000000000').get('/v1/balances');
    expectGatewayError(response, 401, 'unauthorized');
    expect(response.body.error.message).toBe('A valid credential is required.');
  });

  it('refuses the card network and chain watcher keys on the business API with 403 api_key_required', async () => {
    expectGatewayError(await api(localStack().networkKey).get('/v1/balances'), 403, 'api_key_required');
    expectGatewayError(await api(localStack().chainKey).get('/v1/balances'), 403, 'api_key_required');
  });

  it('answers 404 route_not_found to a path that is not in the route table, even without a key', async () => {
    expectGatewayError(await api(localStack().apiKey).get('/v1/no-such-thing'), 404, 'route_not_found');
    expectGatewayError(await api().get('/v2/balances'), 404, 'route_not_found');
  });

  it('answers 405 method_not_allowed to a known path with a method it does not have', async () => {
    const response = await api(localStack().apiKey).delete('/v1/balances');
    expectGatewayError(response, 405, 'method_not_allowed');
    expect(response.headers.get('allow')).toBe('GET');
  });

  it("accepts a 1 MB request body, as API Gateway does (this one is then invalid: 400, not a broken pipe)", async () => {
    const response = await api(localStack().apiKey).post('/v1/users', { padding: 'x'.repeat(1024 * 1024) });
    expect(response.status, response.text).toBe(400);
    expect(response.body.error.code).toBe('validation_error');
  });

  it("answers 413 request_too_large to a body over API Gateway's 10 MB, readable once the upload ends", async () => {
    const response = await api(localStack().apiKey).post('/v1/users', { padding: 'x'.repeat(11 * 1024 * 1024) });
    expectGatewayError(response, 413, 'request_too_large');
    expect(response.headers.get('connection')).toBe('close');
  });

  it('passes path parameters to the handler (a missing user of this business is a 404 from the handler)', async () => {
    const response = await api(localStack().apiKey).get('/v1/users/01900000-0000-7000-8000-000000000000');
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('user_not_found');
    expect(response.body.error.request_id).toBe(response.headers.get('x-request-id'));
  });
});
