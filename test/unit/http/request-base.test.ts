/**
 * `requestBaseUrl`: where the caller reached the API, for links the API hands back (card reveal
 * links), read from API Gateway's request context.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { requestBaseUrl } from '../../../shared/http/request-base.ts';

function event(domainName: string, contextPath: string, path: string): APIGatewayProxyEvent {
  return { path, requestContext: { domainName, path: contextPath } } as unknown as APIGatewayProxyEvent;
}

describe('requestBaseUrl', () => {
  it("keeps the stage prefix of API Gateway's own domain, over https", () => {
    const base = requestBaseUrl(event('abc123.execute-api.us-east-1.amazonaws.com', '/sandbox/v1/cards/1/reveal-sessions', '/v1/cards/1/reveal-sessions'), {});
    expect(base).toBe('https://abc123.execute-api.us-east-1.amazonaws.com/sandbox');
  });

  it('keeps a custom domain\'s base path, and nothing for one mapped at its root', () => {
    expect(requestBaseUrl(event('api.example.com', '/cards-api/v1/x', '/v1/x'), {})).toBe('https://api.example.com/cards-api');
    expect(requestBaseUrl(event('api.example.com', '/v1/x', '/v1/x'), {})).toBe('https://api.example.com');
  });

  it('uses http only when the gateway says so (the local stack), whatever else a client sends', () => {
    expect(requestBaseUrl(event('localhost:3000', '/v1/x', '/v1/x'), { 'x-forwarded-proto': 'http' })).toBe('http://localhost:3000');
    expect(requestBaseUrl(event('api.example.com', '/v1/x', '/v1/x'), { 'x-forwarded-proto': 'gopher' })).toBe('https://api.example.com');
  });
});
