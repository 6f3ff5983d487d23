import { describe, expect, it } from 'vitest';
import { authorizerEvent, methodArn, proxyEvent, requestParts, type IncomingRequest } from '../../../infra/local/api-gateway-event.ts';

const api = { region: 'us-east-1', accountId: '000000000000', apiId: 'local', stage: 'sandbox' };

function request(overrides: Partial<IncomingRequest> = {}): IncomingRequest {
  return {
    method: 'GET',
    url: '/v1/users/u1?limit=5&status=Active&status=Suspended',
    rawHeaders: ['Host', 'localhost:3000', 'Authorization', 'Bearer k', 'X-Tag', 'a', 'X-Tag', 'b'],
    body: null,
    sourceIp: '127.0.0.1',
    ...overrides,
  };
}

const resource = { template: '/v1/users/{p_user_id}', pathParameters: { p_user_id: 'u1' } };

describe('API Gateway proxy event (REST API, payload 1.0)', () => {
  it('carries method, path, resource template and path parameters', () => {
    const req = request();
    const event = proxyEvent(api, req, requestParts(req), resource, 'req-1', 1_700_000_000_000, undefined);
    expect(event).toMatchObject({
      httpMethod: 'GET',
      path: '/v1/users/u1',
      resource: '/v1/users/{p_user_id}',
      pathParameters: { p_user_id: 'u1' },
      body: null,
      isBase64Encoded: false,
      stageVariables: null,
    });
  });

  it('keeps the last value of repeated query parameters and headers, and all of them in the multi-value maps', () => {
    const req = request();
    const event = proxyEvent(api, req, requestParts(req), resource, 'req-1', 0, undefined);
    expect(event.queryStringParameters).toEqual({ limit: '5', status: 'Suspended' });
    expect(event.multiValueQueryStringParameters).toEqual({ limit: ['5'], status: ['Active', 'Suspended'] });
    expect(event.headers['X-Tag']).toBe('b');
    expect(event.multiValueHeaders['X-Tag']).toEqual(['a', 'b']);
    expect(event.headers.Authorization).toBe('Bearer k');
  });

  it('has null query parameters when the URL has no query', () => {
    const req = request({ url: '/v1/users/u1' });
    const event = proxyEvent(api, req, requestParts(req), resource, 'req-1', 0, undefined);
    expect(event.queryStringParameters).toBeNull();
    expect(event.multiValueQueryStringParameters).toBeNull();
  });

  it('passes the body as a string and the authorizer context in requestContext', () => {
    const req = request({ method: 'PATCH', body: '{"status":"Suspended"}' });
    const authorizer = { businessId: 'b1', keyId: 'k1', principalId: 'b1' };
    const event = proxyEvent(api, req, requestParts(req), resource, 'req-9', 1234, authorizer);
    expect(event.body).toBe('{"status":"Suspended"}');
    expect(event.requestContext).toMatchObject({
      requestId: 'req-9',
      authorizer,
      httpMethod: 'PATCH',
      resourcePath: '/v1/users/{p_user_id}',
      path: '/v1/users/u1',
      stage: 'sandbox',
      requestTimeEpoch: 1234,
      identity: { sourceIp: '127.0.0.1' },
    });
  });
});

describe('REQUEST authorizer event', () => {
  it('names the method ARN of the called method and carries the headers', () => {
    const req = request();
    const event = authorizerEvent(api, req, requestParts(req), resource, 'req-1', 0);
    expect(event).toMatchObject({
      type: 'REQUEST',
      methodArn: 'arn:aws:execute-api:us-east-1:000000000000:local/sandbox/GET/v1/users/u1',
      resource: '/v1/users/{p_user_id}',
      path: '/v1/users/u1',
      httpMethod: 'GET',
      pathParameters: { p_user_id: 'u1' },
    });
    expect(event.headers?.Authorization).toBe('Bearer k');
  });

  it('builds method ARNs as API Gateway does', () => {
    expect(methodArn(api, 'POST', '/v1/cards')).toBe('arn:aws:execute-api:us-east-1:000000000000:local/sandbox/POST/v1/cards');
  });
});
