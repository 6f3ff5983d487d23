import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/users/update-user-status.ts';
import { lambdaContext, TEST_BUSINESS_ID, TEST_KEY_ID } from '../../support/events.ts';
import { businessAuthorizer, OTHER_BUSINESS_ID, parseBody, storedUserItem, userEvent } from './support.ts';

const ddb = mockClient(DynamoDBDocumentClient);

const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

describe('PATCH /v1/users/{p_user_id}', () => {
  let stored: Record<string, any>;
  beforeEach(async () => {
    stored = await storedUserItem(ddb);
  });

  const patch = (status: unknown, userId = stored.userId, authorizer?: Record<string, string>) =>
    handler(userEvent('PATCH', userId, { body: { status }, ...(authorizer ? { authorizer } : {}) }), lambdaContext);

  it('suspends the user in one conditional update and returns the user', async () => {
    ddb.on(UpdateCommand).callsFake((input) => ({
      Attributes: { ...stored, status: 'Suspended', updatedAt: input.ExpressionAttributeValues[':now'] },
    }));
    const result = await patch('Suspended');
    expect(result.statusCode).toBe(200);
    const user = parseBody(result);
    expect(user).toMatchObject({ p_user_id: stored.userId, status: 'Suspended', ekyc: { first_name: 'Tai Man', id_number_last4: '5432' } });
    expect(user.p_updated_at > user.p_created_at).toBe(true);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('is conditional on the user existing in the caller\'s business, and records who changed it and when', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { ...stored, status: 'Suspended' } });
    await patch('Suspended');
    const input = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(input.Key).toEqual({ PK: `USER#${stored.userId}`, SK: 'PROFILE' });
    expect(input.ConditionExpression).toContain('attribute_exists(PK)');
    expect(input.ConditionExpression).toContain('businessId = :businessId');
    expect(input.UpdateExpression).toContain('statusChangedBy = :by');
    expect(input.UpdateExpression).toContain('statusChangedAt = :now');
    expect(input.ExpressionAttributeValues).toMatchObject({ ':businessId': TEST_BUSINESS_ID, ':by': TEST_KEY_ID, ':status': 'Suspended' });
    expect(input.ExpressionAttributeValues![':now']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
  });

  it('treats setting the current status as a no-op 200', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({ Item: stored });
    const result = await patch('Active');
    expect(result.statusCode).toBe(200);
    expect(parseBody(result)).toMatchObject({ status: 'Active', p_updated_at: stored.updatedAt });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it('answers 404 user_not_found for a user of another business', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({ Item: stored });
    const result = await patch('Suspended', stored.userId, businessAuthorizer(OTHER_BUSINESS_ID));
    expect(result.statusCode).toBe(404);
    expect(parseBody(result).error.code).toBe('user_not_found');
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input.ExpressionAttributeValues).toMatchObject({ ':businessId': OTHER_BUSINESS_ID });
  });

  it('answers 404 user_not_found for a missing user and for a malformed id', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({});
    expect((await patch('Suspended', '0190a3c4-0000-7000-8000-00000000beef')).statusCode).toBe(404);
    ddb.reset();
    const malformed = await patch('Suspended', 'nope');
    expect(malformed.statusCode).toBe(404);
    expect(parseBody(malformed).error.code).toBe('user_not_found');
    expect(ddb.calls()).toHaveLength(0);
  });

  it('tries again when another request flipped the status between its update and its read', async () => {
    ddb.on(UpdateCommand).rejectsOnce(conditionFailed()).resolves({ Attributes: { ...stored, status: 'Suspended' } });
    ddb.on(GetCommand).resolves({ Item: { ...stored, status: 'Active' } });
    const result = await patch('Suspended');
    expect(result.statusCode).toBe(200);
    expect(parseBody(result).status).toBe('Suspended');
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(2);
  });

  it('answers 400 validation_error for any other status', async () => {
    for (const status of ['Terminated', 'active', '', null]) {
      const result = await patch(status);
      expect(result.statusCode).toBe(400);
      expect(parseBody(result).error).toMatchObject({ code: 'validation_error', fields: [{ path: 'status' }] });
    }
    expect(ddb.calls()).toHaveLength(0);
  });
});
