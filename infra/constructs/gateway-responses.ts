/**
 * Responses API Gateway renders itself (no valid credential, throttling, unknown route, WAF block,
 * authorizer failure) in the error shape of API.md, with `x-request-id`, so a partner parses every
 * error the same way whether a handler or the gateway produced it.
 */
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { UnauthorizedError } from '../../shared/errors.ts';
import { REFUSAL_CONTEXT_KEYS } from '../../shared/http/credential-refusal.ts';

const REQUEST_ID_HEADER = { 'x-request-id': 'context.requestId' };

function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message, request_id: '$context.requestId' } });
}

interface ErrorResponse {
  type: apigw.ResponseType;
  /** Overrides the gateway's status; omitted, the gateway's own 4XX/5XX status stays. */
  statusCode?: string;
  code: string;
  message: string;
}

export const ERROR_RESPONSES: ErrorResponse[] = [
  // The authorizer throws "Unauthorized" for a missing, unknown or revoked key.
  { type: apigw.ResponseType.UNAUTHORIZED, statusCode: '401', code: 'unauthorized', message: new UnauthorizedError().message },
  // The authorizer returns a Deny for a valid key of another kind, with the code and message that
  // name the kind the route needs in its context (shared/http/credential-refusal.ts). API Gateway
  // offers `$context.authorizer.<key>` to gateway response templates, and ACCESS_DENIED is the
  // response to a Lambda authorizer's Deny. Only our authorizers deny (no resource policy), and
  // they always set both keys; the messages hold no quote, so they need no escaping in the JSON.
  {
    type: apigw.ResponseType.ACCESS_DENIED,
    statusCode: '403',
    code: `$context.authorizer.${REFUSAL_CONTEXT_KEYS.code}`,
    message: `$context.authorizer.${REFUSAL_CONTEXT_KEYS.message}`,
  },
  // REST APIs answer an unknown path or method with 403 "Missing Authentication Token".
  { type: apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, statusCode: '404', code: 'route_not_found', message: 'No such route.' },
  { type: apigw.ResponseType.THROTTLED, statusCode: '429', code: 'rate_limited', message: 'Too many requests; retry shortly.' },
  { type: apigw.ResponseType.WAF_FILTERED, statusCode: '403', code: 'forbidden', message: 'The request was blocked.' },
  { type: apigw.ResponseType.BAD_REQUEST_PARAMETERS, statusCode: '400', code: 'validation_error', message: 'A required path parameter is missing.' },
  { type: apigw.ResponseType.REQUEST_TOO_LARGE, statusCode: '413', code: 'request_too_large', message: 'The request is too large.' },
  { type: apigw.ResponseType.DEFAULT_4XX, code: 'bad_request', message: 'The request was rejected.' },
  { type: apigw.ResponseType.DEFAULT_5XX, code: 'internal_error', message: 'An unexpected error occurred.' },
];

export function addErrorResponses(api: apigw.RestApi): void {
  for (const response of ERROR_RESPONSES) {
    api.addGatewayResponse(response.type.responseType, {
      type: response.type,
      statusCode: response.statusCode,
      responseHeaders: REQUEST_ID_HEADER,
      templates: { 'application/json': errorBody(response.code, response.message) },
    });
  }
}
