/**
 * The HTTP wrapper every API handler uses. A handler names its operation's contract
 * (shared/contracts/) and does one domain call:
 *
 *   export const handler = operationHandler(createUser,
 *     ({ body, auth, idempotency }) => users.create(auth.businessId, body, idempotency));
 *
 * The wrapper (a middy chain) owns everything around that call: the request id, the caller's
 * identity from the authorizer, ids in the path (`pathIds`: a malformed one is `404
 * <resource>_not_found`), JSON parsing, zod validation into `400 validation_error` (queries
 * strict: an unknown parameter is refused), `Idempotency-Key` handling (a `2xx` or a refusal is
 * kept and replayed), rendering typed errors once, one structured log line per request (carrying the Lambda
 * context: function, cold start, `awsRequestId`), and one flush of the business metrics the call
 * recorded (shared/metrics.ts).
 */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import * as z from '../zod.ts';
import type { CredentialKind } from '../domain/credentials.ts';
import { ApiError } from '../errors.ts';
import { lambdaContextLogging, logger } from '../logger.ts';
import { businessMetrics } from '../metrics.ts';
import { claimIdempotencyKey, IDEMPOTENCY_IN_PROGRESS, type IdempotencyScope } from '../db/idempotency-repository.ts';
import { credentialRequiredError } from './credential-refusal.ts';
import { requestBaseUrl } from './request-base.ts';
import { requestHash } from './request-hash.ts';
import { errorResponse, HttpResult, jsonResponse, renderError, textResponse } from './responses.ts';
import { parsePathIds } from './path-ids.ts';
import { takesCardNumber, type Credential, type Operation, type QuerySchema } from '../contracts/operation.ts';
import { validate } from './validation.ts';

export interface BusinessAuth {
  kind: 'business';
  businessId: string;
  /** The API key's id (never the key): who did it, for audit records. */
  keyId: string;
}

/** The card network, or the chain watcher: `principal` is the id of the credential it called with. */
export interface NetworkAuth {
  kind: 'network';
  principal: string;
}

export interface ChainAuth {
  kind: 'chain';
  principal: string;
}

type Auth = BusinessAuth | NetworkAuth | ChainAuth;

export interface HttpRequest<B, Q, P, A> {
  body: B;
  query: Q;
  params: P;
  auth: A;
  requestId: string;
  headers: Record<string, string>;
  /** Where the caller reached this API (`https://host/stage`): for links back into it (shared/http/request-base.ts). */
  apiBase: string;
  /** Present on a POST carrying `Idempotency-Key`; pass it to the repository that commits the effect. */
  idempotency?: IdempotencyScope;
}

type Inferred<S> = S extends z.ZodMiniType ? z.output<S> : undefined;

type AuthOf<C extends Credential> = C extends 'business' ? BusinessAuth : C extends 'network' ? NetworkAuth : C extends 'chain' ? ChainAuth : undefined;

/** What a handler may return for its operation: the response's shape, or an `HttpResult` of it. */
export type ResultOf<R extends z.ZodMiniType> = z.input<R> | HttpResult<z.input<R>>;

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const IdempotencyKeyHeader = z.string().check(z.minLength(1), z.maxLength(255));
/** The query of a route that takes none: any parameter is unknown. */
const NoQuery = z.strictObject({});

/**
 * The handler of one operation (shared/contracts/): its credential, schemas and status come from
 * the contract, and the function returns what the contract's response schema describes.
 */
export function operationHandler<C extends Credential, B extends z.ZodMiniType | undefined, Q extends QuerySchema | undefined, N extends string, R extends z.ZodMiniType>(
  contract: Operation<C, B, Q, N, R>,
  fn: (request: HttpRequest<Inferred<B>, Inferred<Q>, Record<N, string>, AuthOf<C>>) => Promise<ResultOf<R>>,
): ApiHandler {
  return buildHandler(contract as unknown as Operation, fn as never);
}

function buildHandler(spec: Operation, fn: (request: HttpRequest<unknown, unknown, Record<string, string>, Auth | undefined>) => Promise<unknown>): ApiHandler {
  const credential = spec.credential;
  // Strict once, here, so every route refuses parameters it does not know (a typo such as
  // `?p_userid=` would otherwise silently list everything).
  const querySchema = spec.query ? z.catchall(spec.query, z.never()) : NoQuery;
  // A card number the route does not read enters its fingerprints as a marker: its row may not
  // hold the key that tokenizes numbers (shared/http/request-hash.ts).
  const cardNumbers = takesCardNumber(spec) ? 'token' : 'redact';
  const core = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const requestId = requestIdOf(event);
    const headers = lowerCaseHeaders(event.headers);
    const auth = credential === 'public' ? undefined : authOf(event, credential);
    // Which resource comes first: a malformed id is a 404 whatever else is wrong with the request.
    const params = spec.params ? parsePathIds(spec.params, event.pathParameters) : {};
    const parsedQuery = validate(querySchema, event.queryStringParameters ?? {});
    const query = spec.query ? parsedQuery : undefined;
    const sentBody = parseJsonBody(event);
    const body = spec.body ? validate(spec.body, sentBody) : undefined;

    let idempotency: IdempotencyScope | undefined;
    const idempotencyKey = headers['idempotency-key'];
    if (spec.idempotent === 'required' && idempotencyKey === undefined) throw new ApiError('idempotency_key_required');
    if (event.httpMethod === 'POST' && spec.idempotent !== false && idempotencyKey !== undefined) {
      validate(IdempotencyKeyHeader, idempotencyKey, 'Idempotency-Key');
      // Keys are scoped to their caller: a business, or one card-network or chain-watcher credential.
      if (!auth) throw new ApiError('unauthorized');
      const keyOwner = auth.kind === 'business' ? auth.businessId : `${auth.kind}:${auth.principal}`;
      // The body as sent (not as validated, which drops what the route ignores): "the same key with
      // a different body" is any difference a partner made, even in fields the route does not read.
      const claim = await claimIdempotencyKey(keyOwner, idempotencyKey, await requestHash(event.httpMethod, event.path, sentBody, cardNumbers), spec.status);
      if (claim.kind === 'replay') {
        return jsonResponse(claim.response.statusCode, claim.response.body, requestId, { 'idempotent-replayed': 'true' });
      }
      idempotency = claim.scope;
    }

    try {
      const result = await fn({ body, query, params, auth, requestId, headers, apiBase: requestBaseUrl(event, headers), idempotency });
      const response = result instanceof HttpResult ? result : new HttpResult(spec.status, result);
      if (idempotency) {
        const stored = idempotency.storedResponse ?? { statusCode: response.statusCode, body: JSON.stringify(response.body) };
        if (!idempotency.isConsumed) await idempotency.complete(stored);
        return jsonResponse(stored.statusCode, stored.body, requestId, response.headers);
      }
      if (spec.contentType) return textResponse(response.statusCode, String(response.body), spec.contentType, requestId, response.headers);
      return jsonResponse(response.statusCode, JSON.stringify(response.body), requestId, response.headers);
    } catch (error) {
      if (!idempotency) throw error;
      // Whatever transaction carried a completion item was cancelled (all or nothing), so the item
      // was never written: the answer is recorded on its own, or not at all.
      idempotency.discardCompletion();
      if (!keptForReplay(error)) {
        // Conditional on the marker still being in flight, so a committed effect keeps its record.
        await idempotency.release();
        throw error;
      }
      const refusal = renderError(error, requestId);
      await idempotency.complete(refusal);
      return jsonResponse(refusal.statusCode, refusal.body, requestId);
    }
  };

  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(lambdaContextLogging())
    .use(businessMetrics())
    .use(requestLogging())
    .handler(core) as unknown as ApiHandler;
}

/**
 * Whether a refusal is the key's answer (API.md "Idempotency replays refusals too"): a request that
 * passed validation and authentication and was refused by a rule (`404`, `409`, `422`) is
 * answered the same way when replayed, even if the state changed since (a retried transfer refused
 * for its balance never executes later). Not kept: a validation error the effect found (`400`: the
 * request never passed validation), a lost or still-running claim (`409
 * idempotency_request_in_progress`: the key is someone else's), and anything unexpected (`5xx`),
 * whose retry must run again.
 */
function keptForReplay(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  if (error.code === IDEMPOTENCY_IN_PROGRESS) return false;
  return error.statusCode === 404 || error.statusCode === 409 || error.statusCode === 422;
}

/** Renders errors once and writes one log line per request (ids and outcome only, never bodies). */
function requestLogging(): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const started = new WeakMap<object, number>();
  const log = (request: middy.Request<APIGatewayProxyEvent, APIGatewayProxyResult>, statusCode: number) => {
    const event = request.event;
    const businessId = event.requestContext?.authorizer?.businessId as string | undefined;
    logger.info('request', {
      requestId: requestIdOf(event),
      method: event.httpMethod,
      resource: event.resource,
      statusCode,
      durationMs: Date.now() - (started.get(request) ?? Date.now()),
      ...(businessId ? { businessId } : {}),
    });
  };
  return {
    before: (request) => {
      started.set(request, Date.now());
    },
    after: (request) => {
      log(request, request.response?.statusCode ?? 0);
    },
    onError: (request) => {
      const requestId = requestIdOf(request.event);
      request.response = errorResponse(request.error, requestId);
      if (request.response.statusCode >= 500) {
        // Message and stack only: never the event, whose body may carry card or eKYC data.
        const error = request.error as Error | undefined;
        logger.error('unhandled error', { requestId, errorName: error?.name, errorMessage: error?.message, stack: error?.stack });
      }
      log(request, request.response.statusCode);
    },
  };
}

function requestIdOf(event: APIGatewayProxyEvent): string {
  return event.requestContext?.requestId ?? 'unknown';
}

function lowerCaseHeaders(headers: APIGatewayProxyEvent['headers'] | null): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) result[name.toLowerCase()] = value;
  }
  return result;
}

/**
 * The caller, as the route's authorizer described it. Behind API Gateway only the route's own kind
 * gets here; checking again means a misrouted row or a missing authorizer fails closed, with the
 * answer the gateway would give: `403` naming the kind for another kind's identity, `401` for none.
 */
function authOf(event: APIGatewayProxyEvent, required: CredentialKind): Auth {
  const context = event.requestContext?.authorizer ?? {};
  const kind = context.credential as string | undefined;
  if (kind !== undefined && kind !== required) throw credentialRequiredError(required);
  if (required === 'business') {
    const businessId = context.businessId as string | undefined;
    const keyId = context.keyId as string | undefined;
    if (kind !== 'business' || !businessId || !keyId) throw new ApiError('unauthorized');
    return { kind: 'business', businessId, keyId };
  }
  const principal = context.principal as string | undefined;
  if (kind !== required || !principal) throw new ApiError('unauthorized');
  return { kind: required, principal };
}

function parseJsonBody(event: APIGatewayProxyEvent): unknown {
  if (event.body === null || event.body === undefined || event.body === '') return {};
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError('invalid_json');
  }
}
