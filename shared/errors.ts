/**
 * Typed errors. Each carries the HTTP status and the machine-readable code of API.md; the HTTP
 * wrapper renders them once into `{"error": {...}}`. Anything that is not an `ApiError` becomes a
 * 500 `internal_error` with no internals.
 */
export interface FieldIssue {
  path: string;
  message: string;
}

/**
 * Every error code the platform answers with, each with its one HTTP status and its one message.
 * Contracts (shared/contracts/) name the codes each operation may answer from this catalogue, and
 * the OpenAPI description lists them per status, so a partner can switch on `code` exhaustively.
 */
export const ERROR_CATALOGUE = {
  // 400: the request is malformed
  validation_error: { status: 400, message: 'The request is invalid.' },
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  invalid_cursor: { status: 400, message: 'The cursor is not valid for this list.' },
  bad_request: { status: 400, message: 'The request was rejected.' },
  invalid_name: { status: 400, message: 'The name must be 1-128 characters.' },
  invalid_timezone: { status: 400, message: 'The timezone is not an IANA timezone.' },
  invalid_reveal_origin: {
    status: 400,
    message: 'The origin must be exactly an https origin (scheme, host and optional port; http://localhost is allowed in sandbox).',
  },
  invalid_webhook_url: { status: 400, message: 'The webhook URL must be https on a public host (http://localhost is allowed in sandbox).' },
  // 401, 403: who is calling
  unauthorized: { status: 401, message: 'A valid credential is required.' },
  api_key_required: { status: 403, message: 'This route needs a business API key.' },
  network_credential_required: { status: 403, message: 'This route needs the card network credential.' },
  chain_credential_required: { status: 403, message: 'This route needs the chain watcher credential.' },
  forbidden: { status: 403, message: 'The request was blocked.' },
  // 404: missing, or another business's (indistinguishable on purpose)
  user_not_found: { status: 404, message: 'No user with this id.' },
  card_not_found: { status: 404, message: 'No such card.' },
  transaction_not_found: { status: 404, message: 'No such transaction.' },
  transfer_not_found: { status: 404, message: 'No transfer with this id.' },
  event_not_found: { status: 404, message: 'No such event.' },
  verification_not_found: { status: 404, message: 'No such verification.' },
  address_not_found: { status: 404, message: 'No deposit address of the platform on this chain.' },
  business_not_found: { status: 404, message: 'No such business.' },
  credential_not_found: { status: 404, message: 'No such credential.' },
  route_not_found: { status: 404, message: 'No such route.' },
  method_not_allowed: { status: 405, message: 'This method is not allowed on this route.' },
  // 409: the state forbids the action
  idempotency_request_in_progress: { status: 409, message: 'A request with this Idempotency-Key is still being processed.' },
  card_terminated: { status: 409, message: 'The card is terminated.' },
  card_locked: { status: 409, message: 'The card is locked.' },
  card_expired: { status: 409, message: 'The card is past its expiry month.' },
  card_already_locked: { status: 409, message: 'The card is already locked.' },
  card_not_locked: { status: 409, message: 'The card is not locked.' },
  user_not_active: { status: 409, message: 'The user is not Active.' },
  user_suspended: { status: 409, message: "The card's user is suspended." },
  external_id_taken: { status: 409, message: 'Another user of this business already has this external_id.' },
  otp_attempts_exhausted: { status: 409, message: 'The card had too many wrong codes in the last 24 hours; it cannot be challenged for now.' },
  verification_already_used: { status: 409, message: 'This verification already succeeded; a code is accepted once.' },
  network_authorization_conflict: {
    status: 409,
    message: 'This network_authorization_id was already used for another authorization (another card, amount, currency or merchant).',
  },
  transaction_declined: { status: 409, message: 'A declined authorization cannot be reversed or settled.' },
  transaction_reversed: { status: 409, message: 'The authorization is already fully reversed.' },
  transaction_settled: { status: 409, message: 'The authorization is already settled.' },
  transaction_expired: { status: 409, message: 'The authorization expired: its hold was released (a capture still posts; nothing else applies).' },
  network_settlement_conflict: {
    status: 409,
    message: 'This network_settlement_id was already used for another force post (another card, amount, currency or merchant).',
  },
  network_refund_conflict: {
    status: 409,
    message: 'This network_refund_id was already used for another refund (another card, amount, currency, merchant or transaction_id).',
  },
  deposit_conflict: { status: 409, message: 'A different deposit was already recorded for this transaction (chain, tx_hash and log_index or vout).' },
  event_expired: { status: 409, message: 'This event expired (a 3DS code is only valid for 5 minutes); it cannot be redelivered.' },
  api_key_changed: { status: 409, message: 'The API key changed meanwhile (a concurrent rotation); try again.' },
  webhook_secret_changed: { status: 409, message: 'The webhook secret changed meanwhile (a concurrent rotation); try again.' },
  authorization_endpoint_changed: { status: 409, message: 'The authorization endpoint changed meanwhile (a concurrent update or rotation); read it and try again.' },
  authorization_endpoint_not_set: { status: 404, message: 'No authorization endpoint is set.' },
  webhook_url_not_set: { status: 409, message: 'No webhook URL is set: set one with PUT /v1/webhook-endpoint first.' },
  credential_already_revoked: { status: 409, message: 'The credential was already revoked.' },
  request_too_large: { status: 413, message: 'The request is too large.' },
  // 422: a business rule failed
  idempotency_key_required: { status: 400, message: 'This operation needs an Idempotency-Key header (the id of the message), so that a resend has no second effect.' },
  idempotency_key_reused: { status: 422, message: 'This Idempotency-Key was already used with a different request.' },
  insufficient_balance: { status: 422, message: 'The available balance is less than the amount.' },
  same_user: { status: 422, message: 'The sender and the receiver are the same user.' },
  ekyc_mismatch: { status: 422, message: "The party's first_name, last_name and id_number do not match the registered eKYC." },
  amount_exceeds_authorization: {
    status: 422,
    message: 'The amount is more than the authorization still holds (plus 20% of the authorized amount for tip MCCs 5812, 5813, 5814, 4121, 7230).',
  },
  increment_declined: { status: 422, message: 'The increment was declined (decline_reason says why); the authorization still holds what it held.' },
  // 429, 5xx
  rate_limited: { status: 429, message: 'Too many requests; retry shortly.' },
  internal_error: { status: 500, message: 'An unexpected error occurred.' },
  service_unavailable: { status: 503, message: 'The service is busy; retry shortly.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, code);
}

/**
 * Which side of a transfer an error is about, rendered as the error body's extra `party` field
 * (the message is the code's one message; this says which of the two users it concerns).
 */
export type TransferParty = 'sender' | 'receiver' | 'both';

export interface ErrorDetail {
  /** Only on `validation_error`: which fields are wrong. */
  fields?: FieldIssue[];
  party?: TransferParty;
  /** Only on `increment_declined`: the decline reason, as an authorization's (API.md "Transactions"). */
  declineReason?: string;
}

/** An error of the catalogue; the HTTP wrapper renders it once into `{"error": {...}}`. */
export class ApiError extends Error {
  readonly statusCode: number;
  readonly fields?: FieldIssue[];
  readonly party?: TransferParty;
  readonly declineReason?: string;

  constructor(
    readonly code: ErrorCode,
    detail: ErrorDetail = {},
  ) {
    super(ERROR_CATALOGUE[code].message);
    this.name = 'ApiError';
    this.statusCode = ERROR_CATALOGUE[code].status;
    if (detail.fields) this.fields = detail.fields;
    if (detail.party) this.party = detail.party;
    if (detail.declineReason) this.declineReason = detail.declineReason;
  }
}

/** 400 `validation_error`; `fields` says where. */
export class ValidationError extends ApiError {
  constructor(fields: FieldIssue[]) {
    super('validation_error', { fields });
    this.name = 'ValidationError';
  }
}

/**
 * The resources a request names by id (in a path, a filter or a body), each with its one not-found
 * answer, so a malformed id, a missing one and another business's answer the same.
 */
export type NamedResource = 'user' | 'card' | 'transaction' | 'transfer' | 'event' | 'verification';

/** 404 `<resource>_not_found`, e.g. `card_not_found`. */
export function notFound(resource: NamedResource): ApiError {
  return new ApiError(`${resource}_not_found`);
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
