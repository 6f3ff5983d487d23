/**
 * Typed errors. Each carries the HTTP status and the machine-readable code of API.md; the HTTP
 * wrapper renders them once into `{"error": {...}}`. Anything that is not an `ApiError` becomes a
 * 500 `internal_error` with no internals.
 */
export interface FieldIssue {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly fields?: FieldIssue[],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 400: the request is malformed; `fields` says where. */
export class ValidationError extends ApiError {
  constructor(fields: FieldIssue[], message = 'The request is invalid.') {
    super(400, 'validation_error', message, fields);
  }
}

/** 400 with a specific code (e.g. `invalid_cursor`, `invalid_json`). */
export class BadRequestError extends ApiError {
  constructor(code: string, message: string) {
    super(400, code, message);
  }
}

/**
 * 401: no credential, or one the platform does not know (or revoked). The message is the gateway's
 * too (infra/constructs/gateway-responses.ts), so the answer is the same whoever gives it.
 */
export class UnauthorizedError extends ApiError {
  constructor(message = 'A valid credential is required.') {
    super(401, 'unauthorized', message);
  }
}

/** 403: a valid credential, but not the kind this route takes (e.g. `network_credential_required`). */
export class ForbiddenError extends ApiError {
  constructor(code: string, message: string) {
    super(403, code, message);
  }
}

/** 404: missing, or belonging to another business (indistinguishable on purpose). */
export class NotFoundError extends ApiError {
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}

/**
 * The resources a request names by id (in a path, a filter or a body), each with its one not-found
 * answer, so a malformed id, a missing one and another business's answer the same.
 */
const NOT_FOUND_MESSAGES = {
  user: 'No user with this id.',
  card: 'No such card.',
  transaction: 'No such transaction.',
  transfer: 'No transfer with this id.',
  event: 'No such event.',
  verification: 'No such verification.',
} as const;

export type NamedResource = keyof typeof NOT_FOUND_MESSAGES;

/** 404 `<resource>_not_found`, e.g. `card_not_found`. */
export function notFound(resource: NamedResource): NotFoundError {
  return new NotFoundError(`${resource}_not_found`, NOT_FOUND_MESSAGES[resource]);
}

/** 409: the resource's state forbids the action (e.g. `card_terminated`). */
export class ConflictError extends ApiError {
  constructor(code: string, message: string) {
    super(409, code, message);
  }
}

/** 422: a business rule failed (e.g. `insufficient_balance`). */
export class BusinessRuleError extends ApiError {
  constructor(code: string, message: string) {
    super(422, code, message);
  }
}

/** 503: a dependency is throttling or unavailable after retries; safe to retry. */
export class ServiceUnavailableError extends ApiError {
  constructor(message = 'The service is busy; retry shortly.') {
    super(503, 'service_unavailable', message);
  }
}

/**
 * Error names AWS SDK clients use for throttling (as the SDK's own retry strategy classifies
 * them). Once the SDK has spent its retries, the caller gets a retryable 503, not a 500.
 */
const THROTTLING_ERROR_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);

/** Network faults the SDK retries as transient (a reset or timed-out connection, a 5xx from AWS). */
const TRANSIENT_ERROR_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'InternalServerError', 'ServiceUnavailable']);
const TRANSIENT_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

/**
 * Whether `error` is a dependency's transient failure that outlasted the SDK's retries: throttling
 * (by name, HTTP 429 or the throttling trait), a network fault, or a 5xx of an AWS service. The
 * caller gets a retryable 503, not a 500: a commit whose answer was lost is safe to ask again
 * (transactions carry a ClientRequestToken, money routes are idempotent by key or network id).
 */
export function isRetryableDependencyError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const sdk = error as Error & { code?: string; $fault?: string; $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean } };
  if (THROTTLING_ERROR_NAMES.has(error.name) || sdk.$metadata?.httpStatusCode === 429 || sdk.$retryable?.throttling === true) return true;
  if (TRANSIENT_ERROR_NAMES.has(error.name) || (sdk.code !== undefined && TRANSIENT_ERROR_CODES.has(sdk.code))) return true;
  return sdk.$fault === 'server' && (sdk.$metadata?.httpStatusCode ?? 0) >= 500;
}
