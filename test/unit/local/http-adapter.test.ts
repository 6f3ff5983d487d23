import { createServer, type Server } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { HandlerLoader } from '../../../infra/local/handler-loader.ts';
import { createHttpAdapter, type AdapterRoute, type HttpAdapterOptions } from '../../../infra/local/http-adapter.ts';

const api = { region: 'us-east-1', accountId: '000000000000', apiId: 'local', stage: 'sandbox' };
const GOOD_KEY = 'Bearer good-key';

/** An authorizer like the business one: one good key, wildcard Allow, context for the handler. */
function makeAuthorizer() {
  const calls: APIGatewayRequestAuthorizerEvent[] = [];
  const handler = async (event: APIGatewayRequestAuthorizerEvent) => {
    calls.push(event);
    const header = event.headers?.Authorization ?? event.headers?.authorization;
    if (header === 'Bearer deny-me') {
      return {
        principalId: 'x',
        policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'execute-api:Invoke', Resource: '*' }] },
        context: { credential: 'network', errorCode: 'api_key_required', errorMessage: 'This route needs a business API key.' },
      };
    }
    if (header !== GOOD_KEY) throw new Error('Unauthorized');
    const [apiArn, stage] = event.methodArn.split('/');
    return {
      principalId: 'business-1',
      policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: `${apiArn}/${stage}/*` }] },
      context: { businessId: 'business-1', keyId: 'key-1' },
    };
  };
  return { calls, handler };
}

const received: APIGatewayProxyEvent[] = [];
const echo = async (event: APIGatewayProxyEvent) => {
  received.push(event);
  return {
    statusCode: 201,
    headers: { 'x-request-id': event.requestContext.requestId, 'content-type': 'application/json' },
    multiValueHeaders: { 'set-cookie': ['a=1', 'b=2'] },
    body: JSON.stringify({ params: event.pathParameters, length: event.body?.length ?? 0 }),
  };
};

let server: Server | undefined;

afterEach(async () => {
  received.length = 0;
  if (server) await new Promise<void>((resolve) => server?.close(() => resolve()));
  server = undefined;
});

async function start(overrides: Partial<HttpAdapterOptions> & { routes?: AdapterRoute[] } = {}) {
  const authorizer = makeAuthorizer();
  const adapter = createHttpAdapter({
    routes: [
      { method: 'POST', path: '/v1/things/{id}', handler: echo, credential: 'business' },
      { method: 'GET', path: '/v1/things/{id}', handler: echo, credential: 'business' },
      { method: 'GET', path: '/v1/crash', handler: async () => Promise.reject(new Error('boom')), credential: 'business' },
      { method: 'GET', path: '/v1/encoded', handler: async () => ({ statusCode: 200, body: Buffer.from('raw').toString('base64'), isBase64Encoded: true }), credential: 'business' },
    ],
    authorizers: { business: { handler: authorizer.handler } },
    loader: new HandlerLoader('/nonexistent'),
    api,
    ...overrides,
  });
  server = createServer(adapter.listener);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  const call = async (method: string, path: string, init: { body?: string; authorization?: string } = {}) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      body: init.body,
      headers: init.authorization ? { Authorization: init.authorization } : {},
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: response.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as Record<string, any>) : null };
  };
  return { call, authorizer, adapter };
}

describe('local HTTP adapter (API Gateway stand-in)', () => {
  it('invokes the route handler with the authorizer context and writes its result back', async () => {
    const { call } = await start();
    const response = await call('POST', '/v1/things/t-1?x=1', { body: '{"a":1}', authorization: GOOD_KEY });
    expect(response.status).toBe(201);
    expect(response.json).toEqual({ params: { id: 't-1' }, length: 7 });
    expect(response.headers.get('set-cookie')).toBe('a=1, b=2');
    expect(received[0]?.requestContext.authorizer).toMatchObject({ businessId: 'business-1', keyId: 'key-1', principalId: 'business-1' });
    expect(received[0]?.queryStringParameters).toEqual({ x: '1' });
    expect(response.headers.get('x-request-id')).toBe(received[0]?.requestContext.requestId);
  });

  it('answers 401 with the API error body, without calling the authorizer, when Authorization is missing', async () => {
    const { call, authorizer } = await start();
    const response = await call('GET', '/v1/things/t-1');
    expect(response.status).toBe(401);
    expect(response.json).toEqual({ error: { code: 'unauthorized', message: 'A valid credential is required.', request_id: response.headers.get('x-request-id') } });
    expect(authorizer.calls).toHaveLength(0);
    expect(received).toHaveLength(0);
  });

  it('answers 401 when the authorizer throws Unauthorized', async () => {
    const { call } = await start();
    const response = await call('GET', '/v1/things/t-1', { authorization: 'Bearer wrong' });
    expect(response.status).toBe(401);
    expect(response.json?.error.code).toBe('unauthorized');
    expect(received).toHaveLength(0);
  });

  it("answers a Deny policy as API Gateway's ACCESS_DENIED response does: 403 with the code and message of the Deny's context", async () => {
    const { call } = await start();
    const response = await call('GET', '/v1/things/t-1', { authorization: 'Bearer deny-me' });
    expect(response.status).toBe(403);
    expect(response.json).toEqual({
      error: { code: 'api_key_required', message: 'This route needs a business API key.', request_id: response.headers.get('x-request-id') },
    });
    expect(received).toHaveLength(0);
  });

  it('caches the authorizer result per Authorization header and re-evaluates the policy per method', async () => {
    const { call, authorizer } = await start();
    await call('GET', '/v1/things/t-1', { authorization: GOOD_KEY });
    await call('POST', '/v1/things/t-2', { authorization: GOOD_KEY, body: '{}' });
    expect(authorizer.calls).toHaveLength(1);
    await call('GET', '/v1/things/t-1', { authorization: 'Bearer deny-me' });
    expect(authorizer.calls).toHaveLength(2);
    expect(authorizer.calls[0]).toMatchObject({ type: 'REQUEST', methodArn: 'arn:aws:execute-api:us-east-1:000000000000:local/sandbox/GET/v1/things/t-1' });
  });

  it('calls the authorizer again once the cache is flushed or disabled', async () => {
    const { call, authorizer, adapter } = await start();
    await call('GET', '/v1/things/t-1', { authorization: GOOD_KEY });
    adapter.flushAuthorizerCache();
    await call('GET', '/v1/things/t-1', { authorization: GOOD_KEY });
    expect(authorizer.calls).toHaveLength(2);
  });

  it('answers 404 route_not_found for an unknown path and 405 for a known path with another method', async () => {
    const { call } = await start();
    const missing = await call('GET', '/v1/nothing-here', { authorization: GOOD_KEY });
    expect(missing.status).toBe(404);
    expect(missing.json?.error).toMatchObject({ code: 'route_not_found', request_id: missing.headers.get('x-request-id') });
    const wrongMethod = await call('DELETE', '/v1/things/t-1', { authorization: GOOD_KEY });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.json?.error.code).toBe('method_not_allowed');
    expect(wrongMethod.headers.get('allow')).toBe('POST, GET');
  });

  it("answers 413 to a body over API Gateway's 10 MiB, readable by the client once its upload ends, without invoking the handler", async () => {
    const { call } = await start();
    const response = await call('POST', '/v1/things/t-1', { authorization: GOOD_KEY, body: 'x'.repeat(10 * 1024 * 1024 + 1) });
    expect(response.status).toBe(413);
    expect(response.json?.error.code).toBe('request_too_large');
    expect(response.headers.get('connection')).toBe('close');
    expect(received).toHaveLength(0);
    const atLimit = await call('POST', '/v1/things/t-1', { authorization: GOOD_KEY, body: 'x'.repeat(10 * 1024 * 1024) });
    expect(atLimit.status).toBe(201);
  });

  it('answers 413 to a chunked body (no content-length) once it grows past the limit', async () => {
    await start({ maxBodyBytes: 16 });
    const port = (server?.address() as { port: number }).port;
    const chunks = ['0123456789', '0123456789', '0123456789'];
    const body = new ReadableStream({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const response = await fetch(`http://127.0.0.1:${port}/v1/things/t-1`, { method: 'POST', body, headers: { Authorization: GOOD_KEY }, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('request_too_large');
    expect(received).toHaveLength(0);
  });

  it('turns a crashed handler into a 500 internal_error that reveals nothing', async () => {
    const reported: string[] = [];
    const { call } = await start({ onError: (requestId, what) => reported.push(`${requestId} ${what}`) });
    const response = await call('GET', '/v1/crash', { authorization: GOOD_KEY });
    expect(response.status).toBe(500);
    expect(response.json).toEqual({ error: { code: 'internal_error', message: 'An unexpected error occurred.', request_id: response.headers.get('x-request-id') } });
    expect(reported).toEqual([`${response.headers.get('x-request-id')} GET /v1/crash`]);
  });

  it('decodes a base64-encoded handler result', async () => {
    const { call } = await start();
    expect((await call('GET', '/v1/encoded', { authorization: GOOD_KEY })).text).toBe('raw');
  });

  it('refuses a route whose credential has no authorizer', () => {
    expect(() =>
      createHttpAdapter({ routes: [{ method: 'GET', path: '/x', handler: echo, credential: 'network' }], authorizers: {}, loader: new HandlerLoader('/'), api }),
    ).toThrow(/No authorizer for credential "network"/);
  });
});
