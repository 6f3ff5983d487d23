/**
 * API Gateway REQUEST authorizers, one per credential kind, all this one function. Each maps
 * `Authorization: Bearer <key>` to its credential and answers with an IAM policy plus a context
 * that reaches the route's handler as `event.requestContext.authorizer`:
 *
 * - unknown, revoked, missing or malformed key: throws `Error('Unauthorized')`, the contract for
 *   a `401`;
 * - a valid key of another kind: a Deny policy whose context names the kind the route needs; API
 *   Gateway answers it with the ACCESS_DENIED gateway response, which renders that code as a `403`
 *   (infra/constructs/gateway-responses.ts; the local stack's adapter does the same);
 * - a valid key of this kind: an Allow policy; for a business key, with the business id as the
 *   `usageIdentifierKey` that selects its usage plan.
 *
 * API Gateway caches the result per Authorization header and per authorizer, so the policy covers
 * every method of the API, not just the one first called: an authorizer guards only the routes of
 * its kind, and its verdict on a key is the same for all of them.
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { bearerToken } from '../crypto/credentials.ts';
import type { CredentialKind, CredentialRecord } from '../domain/credentials.ts';
import { logger } from '../logger.ts';
import { identifyCredential } from '../services/credentials.ts';
import { refusalContext } from './credential-refusal.ts';

export function credentialAuthorizer(required: CredentialKind) {
  return async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const token = bearerToken(headerValue(event.headers, 'authorization'));
    const credential = token ? await identifyCredential(token) : undefined;
    if (!credential) {
      logger.info('authorization denied', { required, reason: token ? 'unknown or revoked credential' : 'missing or malformed header' });
      throw new Error('Unauthorized');
    }
    if (credential.kind !== required) {
      // Ids only: which credential knocked on the wrong door, never the key.
      logger.info('authorization denied', { required, reason: 'credential of another kind', kind: credential.kind, credentialId: credential.credentialId });
      return policy(event, 'Deny', principalOf(credential), { credential: credential.kind, ...refusalContext(required) });
    }
    const allowed = policy(event, 'Allow', principalOf(credential), handlerContext(credential));
    // The business's API Gateway API key (its value is the business id) puts the request in the
    // business's usage plan: per-business throttling (infra/stage-config.ts `businessUsagePlan`).
    return credential.kind === 'business' ? { ...allowed, usageIdentifierKey: credential.businessId! } : allowed;
  };
}

/**
 * What the route's handler reads (shared/http/handler.ts `authOf`): the kind, and for a business
 * key the business and the key's id (for audit records), for the others the credential's id.
 */
function handlerContext(credential: CredentialRecord): Record<string, string> {
  if (credential.kind === 'business') return { credential: 'business', businessId: credential.businessId!, keyId: credential.credentialId };
  return { credential: credential.kind, principal: credential.credentialId };
}

function principalOf(credential: CredentialRecord): string {
  return credential.kind === 'business' ? credential.businessId! : `${credential.kind}:${credential.credentialId}`;
}

function policy(event: APIGatewayRequestAuthorizerEvent, effect: 'Allow' | 'Deny', principalId: string, context: Record<string, string>): APIGatewayAuthorizerResult {
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: wholeApiArn(event.methodArn) }],
    },
    context,
  };
}

/** `arn:aws:execute-api:region:account:apiId/stage/METHOD/path` -> `arn:...:apiId/stage/*` */
export function wholeApiArn(methodArn: string): string {
  const [apiArn, stage] = methodArn.split('/');
  return `${apiArn}/${stage}/*`;
}

function headerValue(headers: Record<string, string | undefined> | null, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}
