/**
 * Response shapes of API.md: JSON bodies, `x-request-id` on every response, and the one error
 * body `{"error": {code, message, request_id, fields?}}`.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ApiError, isRetryableDependencyError } from '../errors.ts';

/** What a handler returns when it needs a status or headers other than the route's default. */
export class HttpResult<T = unknown> {
  constructor(
    readonly statusCode: number,
    readonly body: T,
    readonly headers: Record<string, string> = {},
  ) {}
}

export function respond<T>(statusCode: number, body: T, headers: Record<string, string> = {}): HttpResult<T> {
  return new HttpResult(statusCode, body, headers);
}

export function jsonResponse(
  statusCode: number,
  bodyText: string,
  requestId: string,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId, ...headers },
    body: bodyText,
  };
}

/** A body that is not JSON (the API reference page), with the same request id header. */
export function textResponse(statusCode: number, body: string, contentType: string, requestId: string, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': contentType, 'x-request-id': requestId, ...headers }, body };
}

/** An error rendered into its API.md body: the exact text sent, and kept for an idempotent replay. */
export interface RenderedError {
  statusCode: number;
  body: string;
}

/**
 * Renders any error into the one error body of API.md. The only place an error becomes text: the
 * wrapper answers with it and, for a refusal it keeps for the `Idempotency-Key`, stores it.
 */
export function renderError(error: unknown, requestId: string): RenderedError {
  // A dependency still throttling or unreachable after the SDK's retries: the caller may retry.
  if (isRetryableDependencyError(error)) return renderError(new ApiError('service_unavailable'), requestId);
  if (error instanceof ApiError) {
    const body: Record<string, unknown> = { code: error.code, message: error.message, request_id: requestId };
    if (error.fields) body.fields = error.fields;
    if (error.party) body.party = error.party;
    if (error.declineReason) body.decline_reason = error.declineReason;
    return { statusCode: error.statusCode, body: JSON.stringify({ error: body }) };
  }
  return {
    statusCode: 500,
    body: JSON.stringify({ error: { code: 'internal_error', message: 'An unexpected error occurred.', request_id: requestId } }),
  };
}

export function errorResponse(error: unknown, requestId: string): APIGatewayProxyResult {
  const rendered = renderError(error, requestId);
  return jsonResponse(rendered.statusCode, rendered.body, requestId);
}
