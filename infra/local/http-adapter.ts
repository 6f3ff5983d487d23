/**
 * The local stand-in for API Gateway (REST API, Lambda proxy integration): a `node:http` request
 * listener that resolves the route from the route table, runs the route's REQUEST authorizer first
 * (with API Gateway's result cache), then invokes the route's handler in-process with an
 * `APIGatewayProxyEvent` and writes its `APIGatewayProxyResult` back.
 *
 * Responses the gateway itself produces (no route, wrong method, too large, unauthorized, a key of
 * the wrong kind, a crashed integration) use API.md's error body and carry `x-request-id`, as the
 * deployed API's gateway responses do.
 *
 * Kept lean on purpose (a benchmark holds it to >= 85 % of bare DynamoDB Local's throughput):
 * handlers and routes are resolved once, nothing touches the disk per request, and keep-alive is on.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ApiError } from '../../shared/errors.ts';
import { refusalFromContext } from '../../shared/http/credential-refusal.ts';
import { errorResponse } from '../../shared/http/responses.ts';
import { authorizerEvent, methodArn, proxyEvent, requestParts, type ApiIdentity, type IncomingRequest } from './api-gateway-event.ts';
import { AuthorizerCache, parseAuthorizerResult, type AuthorizerPolicy } from './authorizer-cache.ts';
import type { HandlerLoader, HandlerRef } from './handler-loader.ts';
import type { Access } from '../../shared/routes.ts';
import { functionNameOf, lambdaContext } from './lambda-context.ts';
import { compileRoutes } from './route-matcher.ts';

/** A route as the adapter needs it; the route table's rows fit this shape. */
export interface AdapterRoute {
  method: string;
  path: string;
  handler: HandlerRef;
  credential: string;
  /** The row's access: its envelope-encryption grant is enforced locally as KMS does in AWS. */
  access?: Access;
}

export interface HttpAdapterOptions {
  routes: readonly AdapterRoute[];
  /** The authorizer guarding each credential kind. */
  authorizers: Readonly<Record<string, { handler: HandlerRef; access?: Access }>>;
  loader: HandlerLoader;
  api: ApiIdentity;
  /** API Gateway's authorizer result TTL; 60 s unless a test needs otherwise. */
  authorizerCacheTtlMs?: number;
  /** Larger request bodies get `413`; API Gateway's REST API limit (10 MB) unless a test needs less. */
  maxBodyBytes?: number;
  /** The handler's Lambda timeout as reported by `context.getRemainingTimeInMillis()`. */
  handlerTimeoutMs?: number;
  /** Where failures of authorizers and handlers are reported (the client only sees a 500). */
  onError?: (requestId: string, what: string, error: unknown) => void;
}

export interface HttpAdapter {
  listener: RequestListener;
  /** Forget cached authorizer results (API Gateway's "flush authorizer cache"). */
  flushAuthorizerCache(): void;
}

/** API Gateway's payload limit for a REST API: 10 MB. */
const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

export function createHttpAdapter(options: HttpAdapterOptions): HttpAdapter {
  const matcher = compileRoutes(options.routes);
  const cache = new AuthorizerCache({ ttlMs: options.authorizerCacheTtlMs ?? 60_000 });
  const maxBodyBytes = options.maxBodyBytes ?? API_GATEWAY_MAX_BODY_BYTES;
  const handlerTimeoutMs = options.handlerTimeoutMs ?? 29_000;
  const onError = options.onError ?? (() => {});
  const { api, loader } = options;

  for (const route of options.routes) {
    if (route.credential !== 'public' && !options.authorizers[route.credential]) throw new Error(`No authorizer for credential "${route.credential}" (${route.method} ${route.path})`);
  }

  /** What API Gateway does before the integration: the route's authorizer (cached), or its refusal. */
  async function authorize(
    req: IncomingMessage,
    request: IncomingRequest,
    parts: ReturnType<typeof requestParts>,
    resource: { template: string; pathParameters: Record<string, string> | null },
    route: { credential: string; path: string },
    requestId: string,
    now: number,
  ): Promise<{ context: Record<string, unknown> } | { response: APIGatewayProxyResult }> {
    const method = request.method;
    // The identity source is the Authorization header: without it API Gateway answers 401 itself.
    const identity = req.headers.authorization;
    if (!identity) return { response: errorResponse(new ApiError('unauthorized'), requestId) };

    const authorizerStarted = Date.now();
    let policy: AuthorizerPolicy | undefined = cache.get(route.credential, identity);
    if (!policy) {
      const authorizer = options.authorizers[route.credential] as { handler: HandlerRef; access?: Access };
      try {
        const authorize = await loader.load(authorizer.handler, authorizer.access);
        const event = authorizerEvent(api, request, parts, resource, requestId, now);
        const result = await authorize(event, lambdaContext(nameOf(authorizer.handler), 10_000, api.region, api.accountId));
        policy = parseAuthorizerResult(result);
      } catch (error) {
        // The contract of a Lambda authorizer: throwing exactly "Unauthorized" means 401.
        if (error instanceof Error && error.message === 'Unauthorized') return { response: errorResponse(new ApiError('unauthorized'), requestId) };
        onError(requestId, `authorizer for ${method} ${route.path}`, error);
        return { response: errorResponse(error, requestId) };
      }
      cache.set(route.credential, identity, policy);
    }
    if (!policy.allows(methodArn(api, method, parts.path))) {
      // API Gateway's ACCESS_DENIED response: 403 with the code and message the Deny's context
      // carries (a valid key of another kind: infra/constructs/gateway-responses.ts).
      return { response: errorResponse(refusalFromContext(policy.context), requestId) };
    }
    return { context: { ...policy.context, principalId: policy.principalId, integrationLatency: Date.now() - authorizerStarted } };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);

    const match = matcher.match(method, path);
    if (match.kind === 'not_found') {
      req.resume();
      return send(res, errorResponse(new ApiError('route_not_found'), requestId));
    }
    if (match.kind === 'method_not_allowed') {
      req.resume();
      const result = errorResponse(new ApiError('method_not_allowed'), requestId);
      return send(res, { ...result, headers: { ...result.headers, allow: match.allowed.join(', ') } });
    }

    const body = await readBody(req, maxBodyBytes);
    if (body === tooLarge) {
      // Answered once the whole body has arrived (and been discarded): a client still uploading
      // when the answer comes would see EPIPE instead of the 413. `connection: close`, as a
      // client that sends that much should not reuse this connection for more.
      res.shouldKeepAlive = false;
      return send(res, errorResponse(new ApiError('request_too_large'), requestId));
    }

    const route = match.route;
    const request: IncomingRequest = { method, url, rawHeaders: req.rawHeaders, body, sourceIp: req.socket.remoteAddress ?? '127.0.0.1' };
    const parts = requestParts(request);
    const resource = { template: route.path, pathParameters: match.pathParameters };
    const now = Date.now();

    // A public route (the API description) has no authorizer; any other route runs its own first.
    let authorizerContext: Record<string, unknown> | undefined;
    if (route.credential !== 'public') {
      const outcome = await authorize(req, request, parts, resource, route, requestId, now);
      if ('response' in outcome) return send(res, outcome.response);
      authorizerContext = outcome.context;
    }

    let result: APIGatewayProxyResult;
    try {
      const handler = await loader.load(route.handler, route.access);
      const event = proxyEvent(api, request, parts, resource, requestId, now, authorizerContext);
      result = (await handler(event, lambdaContext(nameOf(route.handler), handlerTimeoutMs, api.region, api.accountId))) as APIGatewayProxyResult;
      if (!result || typeof result.statusCode !== 'number') throw new Error('Handler returned a malformed proxy result (statusCode is required)');
    } catch (error) {
      onError(requestId, `${method} ${route.path}`, error);
      return send(res, errorResponse(error, requestId));
    }
    return send(res, result);
  }

  return {
    listener(req, res) {
      handle(req, res).catch((error: unknown) => {
        // The path only: a query string may carry a secret (a card reveal link's token).
        onError('-', `${req.method} ${(req.url ?? '/').split('?')[0]}`, error);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    },
    flushAuthorizerCache: () => cache.clear(),
  };
}

function nameOf(ref: HandlerRef): string {
  return typeof ref === 'string' ? functionNameOf(ref) : 'local-inline-handler';
}

const tooLarge = Symbol('tooLarge');

/** The body as text, `null` when empty, or `tooLarge` once a body over `limit` has been read to its end. */
function readBody(req: IncomingMessage, limit: number): Promise<string | null | typeof tooLarge> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // A declared length over the limit is refused without buffering anything of it.
    let exceeded = Number(req.headers['content-length']) > limit;
    req.on('data', (chunk: Buffer) => {
      if (exceeded) return;
      size += chunk.length;
      if (size > limit) {
        exceeded = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (exceeded) resolve(tooLarge);
      else resolve(size === 0 ? null : (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function send(res: ServerResponse, result: APIGatewayProxyResult): void {
  const body = result.body === undefined || result.body === null ? '' : result.body;
  const payload = result.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  const headers: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) headers[name.toLowerCase()] = values.map(String);
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  headers['content-length'] = String(payload.length);
  res.writeHead(result.statusCode, headers);
  res.end(payload);
}
