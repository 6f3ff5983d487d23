/**
 * The `403` for a valid credential of the wrong kind, in one place for its three renderers: the
 * handler wrapper (defence in depth), API Gateway's ACCESS_DENIED gateway response (which can only
 * read what the authorizer put in its context) and the local stack's adapter, so all three answer
 * the same status and body.
 */
import { CREDENTIAL_REQUIRED, type CredentialKind } from '../domain/credentials.ts';
import { ApiError, ERROR_CATALOGUE, isErrorCode } from '../errors.ts';

/** The authorizer context keys a Deny carries; the gateway response template reads `$context.authorizer.<key>`. */
export const REFUSAL_CONTEXT_KEYS = { code: 'errorCode', message: 'errorMessage' } as const;

/** The context of a Deny for a key that is not of the `required` kind. */
export function refusalContext(required: CredentialKind): Record<string, string> {
  const code = CREDENTIAL_REQUIRED[required];
  return { [REFUSAL_CONTEXT_KEYS.code]: code, [REFUSAL_CONTEXT_KEYS.message]: ERROR_CATALOGUE[code].message };
}

export function credentialRequiredError(required: CredentialKind): ApiError {
  return new ApiError(CREDENTIAL_REQUIRED[required]);
}

/**
 * The `403` of a Deny policy, from the authorizer's context, as the gateway response renders it
 * (an absent context value renders as an empty string there, and so here).
 */
export function refusalFromContext(context: Record<string, string>): ApiError {
  const code = context[REFUSAL_CONTEXT_KEYS.code] ?? '';
  return new ApiError(isErrorCode(code) ? code : 'forbidden');
}
