/**
 * API Gateway REQUEST authorizers. Each maps `Authorization: Bearer <credential>` to an identity
 * and returns an IAM policy plus a context that reaches the route's handler as
 * `event.requestContext.authorizer`. API Gateway caches the result per Authorization header, so
 * the policy must allow every method of the API, not just the one first called.
 *
 * Throwing `Error('Unauthorized')` is the contract for a 401.
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { bearerToken } from '../crypto/credentials.ts';
import { logger } from '../logger.ts';

export type Identify = (token: string) => Promise<{ principalId: string; context: Record<string, string> } | undefined>;

export function requestAuthorizer(identify: Identify) {
  return async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const header = headerValue(event.headers, 'authorization');
    const token = bearerToken(header);
    const identity = token ? await identify(token) : undefined;
    if (!identity) {
      logger.info('authorization denied', { reason: token ? 'unknown credential' : 'missing or malformed header' });
      throw new Error('Unauthorized');
    }
    return {
      principalId: identity.principalId,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: wholeApiArn(event.methodArn) }],
      },
      context: identity.context,
    };
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
