/**
 * Builds the events API Gateway (REST API, Lambda proxy integration, payload 1.0) hands to Lambda:
 * the `REQUEST` authorizer's event and the route handler's `APIGatewayProxyEvent`, from a plain
 * description of an HTTP request. Kept free of `node:http` so it can be specified by unit tests.
 */
import type {
  APIGatewayEventIdentity,
  APIGatewayEventRequestContextWithAuthorizer,
  APIGatewayProxyEvent,
  APIGatewayRequestAuthorizerEvent,
} from 'aws-lambda';

/** The parts of an HTTP request the events are made of. */
export interface IncomingRequest {
  method: string;
  /** The request target as sent: path plus optional `?query`. */
  url: string;
  /** Node's `rawHeaders`: name, value, name, value... with the client's casing. */
  rawHeaders: string[];
  /** The body as UTF-8 text, or null when there was none. */
  body: string | null;
  sourceIp: string;
}

/** Where the request landed in the route table. */
export interface ResolvedResource {
  /** The route's template, e.g. `/v1/users/{p_user_id}` (API Gateway's `resource`). */
  template: string;
  pathParameters: Record<string, string> | null;
}

/** Identity of the emulated API, used in ARNs and `requestContext`. */
export interface ApiIdentity {
  region: string;
  accountId: string;
  apiId: string;
  stage: string;
}

export interface RequestParts {
  path: string;
  headers: Record<string, string> | null;
  multiValueHeaders: Record<string, string[]> | null;
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
}

/** Splits the raw request once; both events (authorizer and handler) are built from the result. */
export function requestParts(request: IncomingRequest): RequestParts {
  const queryAt = request.url.indexOf('?');
  const path = queryAt === -1 ? request.url : request.url.slice(0, queryAt);
  const query = queryAt === -1 ? '' : request.url.slice(queryAt + 1);

  let headers: Record<string, string> | null = null;
  let multiValueHeaders: Record<string, string[]> | null = null;
  // API Gateway tells the function the scheme it was reached by (always https there); the local
  // stack listens on plain http, and says so the same way, replacing whatever the client sent.
  const rawHeaders = [...withoutHeader(request.rawHeaders, 'x-forwarded-proto'), 'X-Forwarded-Proto', 'http'];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    headers ??= {};
    multiValueHeaders ??= {};
    // API Gateway keeps the last value of a repeated header in `headers`, and all of them in `multiValueHeaders`.
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }

  let queryStringParameters: Record<string, string> | null = null;
  let multiValueQueryStringParameters: Record<string, string[]> | null = null;
  if (query !== '') {
    for (const [name, value] of new URLSearchParams(query)) {
      queryStringParameters ??= {};
      multiValueQueryStringParameters ??= {};
      queryStringParameters[name] = value;
      (multiValueQueryStringParameters[name] ??= []).push(value);
    }
  }
  return { path, headers, multiValueHeaders, queryStringParameters, multiValueQueryStringParameters };
}

function withoutHeader(rawHeaders: string[], lowerCaseName: string): string[] {
  const kept: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() !== lowerCaseName) kept.push(rawHeaders[i] as string, rawHeaders[i + 1] as string);
  }
  return kept;
}

/** `arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path without leading slash>`. */
export function methodArn(api: ApiIdentity, method: string, path: string): string {
  return `arn:aws:execute-api:${api.region}:${api.accountId}:${api.apiId}/${api.stage}/${method}${path}`;
}

export function authorizerEvent(
  api: ApiIdentity,
  request: IncomingRequest,
  parts: RequestParts,
  resource: ResolvedResource,
  requestId: string,
  now: number,
): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: methodArn(api, request.method, parts.path),
    resource: resource.template,
    path: parts.path,
    httpMethod: request.method,
    headers: parts.headers,
    multiValueHeaders: parts.multiValueHeaders,
    pathParameters: resource.pathParameters,
    queryStringParameters: parts.queryStringParameters,
    multiValueQueryStringParameters: parts.multiValueQueryStringParameters,
    stageVariables: null,
    requestContext: requestContext(api, request, parts, resource, requestId, now, undefined),
  };
}

export function proxyEvent(
  api: ApiIdentity,
  request: IncomingRequest,
  parts: RequestParts,
  resource: ResolvedResource,
  requestId: string,
  now: number,
  authorizer: Record<string, unknown> | undefined,
): APIGatewayProxyEvent {
  return {
    resource: resource.template,
    path: parts.path,
    httpMethod: request.method,
    headers: parts.headers ?? {},
    multiValueHeaders: parts.multiValueHeaders ?? {},
    queryStringParameters: parts.queryStringParameters,
    multiValueQueryStringParameters: parts.multiValueQueryStringParameters,
    pathParameters: resource.pathParameters,
    stageVariables: null,
    requestContext: requestContext(api, request, parts, resource, requestId, now, authorizer),
    body: request.body,
    isBase64Encoded: false,
  };
}

function requestContext<A>(
  api: ApiIdentity,
  request: IncomingRequest,
  parts: RequestParts,
  resource: ResolvedResource,
  requestId: string,
  now: number,
  authorizer: A,
): APIGatewayEventRequestContextWithAuthorizer<A> {
  return {
    accountId: api.accountId,
    apiId: api.apiId,
    authorizer,
    domainName: parts.headers?.Host ?? parts.headers?.host ?? 'localhost',
    extendedRequestId: requestId,
    httpMethod: request.method,
    identity: identity(request.sourceIp, parts.headers?.['User-Agent'] ?? parts.headers?.['user-agent'] ?? null),
    // The path as the client sent it: the local stack is reached with no stage prefix (like a
    // custom domain mapped at its root), so links the API hands out point back at it.
    path: parts.path,
    protocol: 'HTTP/1.1',
    requestId,
    requestTimeEpoch: now,
    resourceId: 'local',
    resourcePath: resource.template,
    stage: api.stage,
  };
}

function identity(sourceIp: string, userAgent: string | null): APIGatewayEventIdentity {
  return {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp,
    user: null,
    userAgent,
    userArn: null,
  };
}
