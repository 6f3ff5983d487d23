import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/users/get-user.ts';
import { lambdaContext, TEST_BUSINESS_ID } from '../../support/events.ts';
import { businessAuthorizer, OTHER_BUSINESS_ID, parseBody, storedUserItem, userEvent } from './support.ts';

const ddb = mockClient(DynamoDBDocumentClient);

describe('GET /v1/users/{p_user_id}', () => {
  let stored: Record<string, any>;
  beforeEach(async () => {
    stored = await storedUserItem(ddb);
  });

  it('returns the user with its decrypted, masked eKYC', async () => {
    ddb.on(GetCommand, { Key: { PK: stored.PK, SK: 'PROFILE' } }).resolves({ Item: stored });
    const result = await handler(userEvent('GET', stored.userId), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(parseBody(result)).toEqual({
      p_user_id: stored.userId,
      p_business_id: TEST_BUSINESS_ID,
      status: 'Active',
      external_id: null,
      ekyc: {
        first_name: 'Tai Man',
        last_name: 'Ng Chan',
        nationality: 'HK',
        id_type: 'passport',
        id_number_last4: '5432',
        email: 'taiman.chan@example.com',
        phone: '+85291234567',
      },
      p_created_at: stored.createdAt,
      p_updated_at: stored.updatedAt,
    });
    expect(ddb.commandCalls(GetCommand)[0]!.args[0].input.ConsistentRead).toBe(true);
  });

  it('answers 404 user_not_found for a user of another business, exactly as for a missing one', async () => {
    ddb.on(GetCommand, { Key: { PK: stored.PK, SK: 'PROFILE' } }).resolves({ Item: stored });
    ddb.on(GetCommand, { Key: { PK: 'USER#0190a3c4-0000-7000-8000-00000000beef', SK: 'PROFILE' } }).resolves({});
    const foreign = await handler(userEvent('GET', stored.userId, { authorizer: businessAuthorizer(OTHER_BUSINESS_ID) }), lambdaContext);
    const missing = await handler(userEvent('GET', '0190a3c4-0000-7000-8000-00000000beef'), lambdaContext);
    expect(foreign.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    const strip = (body: string) => ({ ...parseBody({ body }).error, request_id: undefined });
    expect(strip(foreign.body)).toEqual(strip(missing.body));
    expect(parseBody(foreign).error.code).toBe('user_not_found');
    expect(foreign.body).not.toContain('Tai Man');
  });

  it('answers 404 (not 400) for a malformed id, without reading the table', async () => {
    for (const id of ['not-a-uuid', '1', 'USER#x', '0190a3c4-0000-7000-8000-00000000beef-extra']) {
      const result = await handler(userEvent('GET', id), lambdaContext);
      expect(result.statusCode, id).toBe(404);
      expect(parseBody(result).error.code).toBe('user_not_found');
    }
    expect(ddb.calls()).toHaveLength(0);
  });

  it('refuses to show an eKYC ciphertext copied onto another user', async () => {
    const other = await storedUserItem(ddb);
    ddb.on(GetCommand).resolves({ Item: { ...other, ekyc: stored.ekyc } });
    const result = await handler(userEvent('GET', other.userId), lambdaContext);
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('Tai Man');
  });
});
