/**
 * Helpers for the users and balances handler tests: a valid create body, events for each route,
 * and a stored user item. Tests answer DynamoDB with plain aws-sdk-client-mock responses; what
 * only DynamoDB's own semantics decide (a taken external_id, a replay across requests) is in
 * test/integration/users.test.ts.
 */
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';
import { handler as createUser } from '../../../functions/users/create-user.ts';
import { apiEvent, lambdaContext, parseBody } from '../../support/events.ts';

export type DocumentMock = AwsStub<any, any, DynamoDBDocumentClient['config']>;

export const OTHER_BUSINESS_ID = '0190a3c4-0000-7000-8000-0000000000f2';

export function validCreateBody() {
  return {
    ekyc: {
      first_name: 'Tai Man',
      last_name: 'Ng Chan',
      date_of_birth: '1990-05-17',
      nationality: 'HK',
      id_type: 'passport',
      id_number: 'K98765432',
      email: 'taiman.chan@example.com',
      phone: '+85291234567',
      address: { line1: '1 Queen\'s Road Central', line2: 'Flat 2A', city: 'Hong Kong', postal_code: '999077', country: 'HK' },
    },
    external_id: undefined as string | undefined,
  };
}

/**
 * Every secret of `validCreateBody()` that must never appear at rest or in a log. Each is long or has
 * a character base64 never produces, so a ciphertext or fingerprint cannot contain one by chance.
 */
export const EKYC_SECRETS = ['K98765432', 'taiman.chan@example.com', '+85291234567', '91234567', 'Tai Man', 'Ng Chan', '1990-05-17', 'Queen\'s Road'];

export function createEvent(body: unknown, headers: Record<string, string> = {}) {
  return apiEvent({ method: 'POST', path: '/v1/users', resource: '/v1/users', body, headers });
}

export function userEvent(method: string, userId: string, options: { body?: unknown; authorizer?: Record<string, string>; suffix?: string } = {}) {
  const suffix = options.suffix ?? '';
  return apiEvent({
    method,
    path: `/v1/users/${userId}${suffix}`,
    resource: `/v1/users/{p_user_id}${suffix}`,
    pathParameters: { p_user_id: userId },
    body: options.body,
    ...(options.authorizer ? { authorizer: options.authorizer } : {}),
  });
}

export function businessAuthorizer(businessId: string) {
  return { credential: 'business', businessId, keyId: '0190a3c4-0000-7000-8000-0000000000ab' };
}

/**
 * Creates a user through the real handler against `ddb` and returns the item it stored, so read
 * tests start from exactly what a create writes (a real ciphertext, real fingerprints).
 */
export async function storedUserItem(ddb: DocumentMock, body: unknown = validCreateBody()): Promise<Record<string, any>> {
  ddb.reset();
  ddb.on(PutCommand).resolves({});
  const result = await createUser(createEvent(body), lambdaContext);
  if (result.statusCode !== 201) throw new Error(`create failed: ${result.body}`);
  const item = ddb.commandCalls(PutCommand)[0]!.args[0].input.Item as Record<string, any>;
  ddb.reset();
  return item;
}

export { parseBody };
