/**
 * One contract per operation: everything a partner, the stack and the code need to agree on, in
 * one place. The route table (shared/routes.ts) takes method, path and credential from it; the
 * HTTP wrapper (shared/http/handler.ts) validates with its schemas and answers with its status
 * (also the status an `Idempotency-Key` stores); the OpenAPI description (./openapi.ts) is
 * generated from it, with the error codes it may answer.
 *
 *   export const getCard = operation({
 *     id: 'getCard', method: 'GET', path: '/v1/cards/{id}', credential: 'business', tag: 'Cards',
 *     summary: 'Get a card', params: pathIds({ id: 'card' }), status: 200, response: Card, errors: [],
 *   });
 */
import type * as z from '../zod.ts';
import type { CredentialKind } from '../domain/credentials.ts';
import type { ErrorCode } from '../errors.ts';
import type { PathIds } from '../http/path-ids.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Which authorizer guards the operation, by the kind of key it takes; `public` routes (the API
 * description and its reference page) take none.
 */
export type Credential = CredentialKind | 'public';

/** Query parameters are flat name/value pairs: an object schema (made strict by the wrapper). */
export type QuerySchema = z.ZodMiniObject;

export interface Operation<
  C extends Credential = Credential,
  B extends z.ZodMiniType | undefined = z.ZodMiniType | undefined,
  Q extends QuerySchema | undefined = QuerySchema | undefined,
  N extends string = string,
  R extends z.ZodMiniType = z.ZodMiniType,
> {
  /** The OpenAPI `operationId`, and the typed client's name for it. */
  id: string;
  method: HttpMethod;
  /** API Gateway path with `{param}` placeholders. */
  path: string;
  credential: C;
  /** Only deployed on the `sandbox` stage (the local stack is sandbox). */
  sandboxOnly?: boolean;
  /** The reference page's section. */
  tag: string;
  summary: string;
  description?: string;
  /** Which resource each `{param}` of the path names (`pathIds`); each must be a UUID. */
  params?: PathIds<N>;
  /** The query parameters it takes. Strict: an unknown parameter is a `400 validation_error`. */
  query?: Q;
  body?: B;
  /**
   * `false` for a POST whose answer must never be stored (a reveal link: its token exists only as
   * a hash). Its `Idempotency-Key` is ignored: a repeat makes a second, equally valid answer.
   * `'required'` for a card-network message whose resend would otherwise have a second effect (a
   * partial capture, a partial reversal, an increment carry no id of their own in the body): no
   * key is `400 idempotency_key_required`.
   */
  idempotent?: false | 'required';
  /**
   * The URL carries a secret (a reveal link's token in the query string): the stack never traces the
   * route and every log redacts the query string (infra/constructs/untraced-routes.ts).
   */
  secretInUrl?: true;
  /** The success status: of a plain return value, and the one an `Idempotency-Key` stores with the effect. */
  status: number;
  /** Other success statuses the service may choose (`respond(200, ...)` for a repeat), same body. */
  otherStatuses?: Partial<Record<number, string>>;
  /** The success body's schema (a JSON body; `contentType` names another media type). */
  response: R;
  /** The media type of the success body when it is not JSON (the reference page's HTML). */
  contentType?: string;
  /**
   * The error codes of this operation's own rules. The ones every operation of its kind may answer
   * (credential, validation, idempotency, path ids, throttling, 5xx) are added by `errorCodesOf`.
   */
  errors: readonly ErrorCode[];
}

/** `otherStatuses` of the routes keyed by a network's or chain's own id: a resent message answers 200. */
export const NEW_OR_REPEAT = { 200: 'A repeat of an earlier request (same network or deposit id): the first answer, as it is now.' };

/** Declares one operation, keeping every schema's exact type for the handler and the client. */
export function operation<
  const C extends Credential,
  B extends z.ZodMiniType | undefined = undefined,
  Q extends QuerySchema | undefined = undefined,
  const N extends string = never,
  R extends z.ZodMiniType = z.ZodMiniType,
>(contract: Operation<C, B, Q, N, R>): Operation<C, B, Q, N, R> {
  return contract;
}

const CREDENTIAL_ERRORS: Record<Credential, readonly ErrorCode[]> = {
  business: ['unauthorized', 'api_key_required', 'rate_limited'],
  network: ['unauthorized', 'network_credential_required', 'rate_limited'],
  chain: ['unauthorized', 'chain_credential_required', 'rate_limited'],
  public: ['rate_limited'],
};

/**
 * Every code an operation may answer: its own, and those the platform adds around it (the
 * credential's refusals, validation of path, query and body, idempotency for a POST, the
 * not-found of each id in its path, and the dependency errors any call may meet).
 */
export function errorCodesOf(contract: Operation): ErrorCode[] {
  const codes = new Set<ErrorCode>([...CREDENTIAL_ERRORS[contract.credential], 'validation_error']);
  for (const resource of Object.values(contract.params?.resources ?? {})) codes.add(`${resource}_not_found`);
  if (contract.query?.shape && 'cursor' in contract.query.shape) codes.add('invalid_cursor');
  // Any body sent is parsed (and refused when it is not JSON), whether or not the route reads one.
  if (contract.method !== 'GET') {
    codes.add('invalid_json');
    codes.add('request_too_large');
  }
  if (contract.method === 'POST' && contract.idempotent !== false) {
    codes.add('idempotency_request_in_progress');
    codes.add('idempotency_key_reused');
  }
  if (contract.idempotent === 'required') codes.add('idempotency_key_required');
  for (const code of contract.errors) codes.add(code);
  codes.add('internal_error');
  codes.add('service_unavailable');
  return [...codes];
}

/**
 * Whether the operation's body takes a card number (the card network's messages addressed by
 * number): its request fingerprints carry the number's index token, so its row must hold the
 * `pan` key (shared/http/request-hash.ts; test/unit/http/card-number-grants.test.ts).
 */
export function takesCardNumber(contract: Pick<Operation, 'body'>): boolean {
  const shape = (contract.body as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape !== undefined && 'card_number' in shape;
}
