/**
 * Responses API Gateway renders itself (no valid credential, throttling, unknown route, WAF block,
 * authorizer failure) in the error shape of API.md, with `x-request-id`, so a partner parses every
 * error the same way whether a handler or the gateway produced it.
 */
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { ERROR_CATALOGUE, type ErrorCode } from '../../shared/errors.ts';
import { REFUSAL_CONTEXT_KEYS } from '../../shared/http/credential-refusal.ts';

const REQUEST_ID_HEADER = { 'x-request-id': 'context.requestId' };

function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message, request_id: '$context.requestId' } });
}

interface ErrorResponse {
  type: apigw.ResponseType;
  /** Overrides the gateway's status; omitted, the gateway's own 4XX/5XX status stays. */
  statusCode?: string;
  /** A code of the catalogue (its message is the catalogue's), or the authorizer context's. */
  code: ErrorCode | { fromContext: true };
}

export const ERROR_RESPONSES: ErrorResponse[] = [
  // The authorizer throws "Unauthorized" for a missing, unknown or revoked key.
  { type: apigw.ResponseType.UNAUTHORIZED, statusCode: '401', code: 'unauthorized' },
  // The authorizer returns a Deny for a valid key of another kind, with the code and message that
  // name the kind the route needs in its context (shared/http/credential-refusal.ts). API Gateway
  // offers `$context.authorizer.<key>` to gateway response templates, and ACCESS_DENIED is the
  // response to a Lambda authorizer's Deny. Only our authorizers deny (no resource policy), and
  // they always set both keys; the messages hold no quote, so they need no escaping in the JSON.
  {
    type: apigw.ResponseType.ACCESS_DENIED,
    statusCode: '403',
    code: { fromContext: true },
  },
  // REST APIs answer an unknown path or method with 403 "Missing Authentication Token".
  { type: apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, statusCode: '404', code: 'route_not_found' },
  { type: apigw.ResponseType.THROTTLED, statusCode: '429', code: 'rate_limited' },
  { type: apigw.ResponseType.WAF_FILTERED, statusCode: '403', code: 'forbidden' },
  { type: apigw.ResponseType.BAD_REQUEST_PARAMETERS, statusCode: '400', code: 'validation_error' },
  { type: apigw.ResponseType.REQUEST_TOO_LARGE, statusCode: '413', code: 'request_too_large' },
  { type: apigw.ResponseType.DEFAULT_4XX, code: 'bad_request' },
  { type: apigw.ResponseType.DEFAULT_5XX, code: 'internal_error' },
];

function templateOf(code: ErrorResponse['code']): string {
  if (typeof code === 'string') return errorBody(code, ERROR_CATALOGUE[code].message);
  return errorBody(`$context.authorizer.${REFUSAL_CONTEXT_KEYS.code}`, `$context.authorizer.${REFUSAL_CONTEXT_KEYS.message}`);
}

export function addErrorResponses(api: apigw.RestApi): void {
  for (const response of ERROR_RESPONSES) {
    api.addGatewayResponse(response.type.responseType, {
      type: response.type,
      statusCode: response.statusCode,
      responseHeaders: REQUEST_ID_HEADER,
      templates: { 'application/json': templateOf(response.code) },
    });
  }
}
