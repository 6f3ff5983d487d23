/**
 * Factories for the events Lambda receives, so unit tests call the exported, wrapped handlers
 * exactly as API Gateway would (REST API proxy payload v1).
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';

export interface ApiEventInput {
  method?: string;
  path?: string;
  resource?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  /** Authorizer context; defaults to a business caller. `null` sends none. */
  authorizer?: Record<string, string> | null;
}

export const TEST_BUSINESS_ID = '0190a3c4-0000-7000-8000-000000000001';
export const TEST_KEY_ID = '0190a3c4-0000-7000-8000-0000000000aa';

export function apiEvent(input: ApiEventInput = {}): APIGatewayProxyEvent {
  const authorizer =
    input.authorizer === null ? undefined : (input.authorizer ?? { credential: 'business', businessId: TEST_BUSINESS_ID, keyId: TEST_KEY_ID });
  const body = input.rawBody ?? (input.body === undefined ? null : JSON.stringify(input.body));
  return {
    httpMethod: input.method ?? 'GET',
    path: input.path ?? '/v1/test',
    resource: input.resource ?? input.path ?? '/v1/test',
    body,
    isBase64Encoded: false,
    headers: { 'Content-Type': 'application/json', ...(input.headers ?? {}) },
    multiValueHeaders: {},
    pathParameters: input.pathParameters ?? null,
    queryStringParameters: input.query ?? null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {
      requestId: randomUUID(),
      authorizer,
      httpMethod: input.method ?? 'GET',
      path: input.path ?? '/v1/test',
      stage: 'sandbox',
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

export function authorizerEvent(authorization: string | undefined): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:us-east-1:123456789012:abc123/sandbox/GET/v1/users',
    resource: '/v1/users',
    path: '/v1/users',
    httpMethod: 'GET',
    headers: authorization === undefined ? {} : { Authorization: authorization },
    multiValueHeaders: {},
    pathParameters: {},
    queryStringParameters: {},
    multiValueQueryStringParameters: {},
    stageVariables: {},
    requestContext: {} as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

export const lambdaContext = {
  functionName: 'unit-test',
  awsRequestId: 'unit-test-request',
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;

export function parseBody(result: { body: string }): any {
  return JSON.parse(result.body);
}
