import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/users/create-user.ts';
import { openSecret } from '../../../shared/crypto/envelope.ts';
import { isUuid } from '../../../shared/domain/ids.ts';
import { ekycFingerprints, ekycMatches } from '../../../shared/services/users.ts';
import { logsWhile } from '../../support/capture-logs.ts';
import { lambdaContext, TEST_BUSINESS_ID } from '../../support/events.ts';
import { createEvent, EKYC_SECRETS, parseBody, validCreateBody } from './support.ts';
import { listShardOf } from '../../../shared/db/keys.ts';

const ddb = mockClient(DynamoDBDocumentClient);

const withExternalId = (externalId: string) => ({ ...validCreateBody(), external_id: externalId });

describe('POST /v1/users', () => {
  beforeEach(() => ddb.reset());

  describe('creating a user', () => {
    it('answers 201 with the user and its masked eKYC', async () => {
      ddb.on(PutCommand).resolves({});
      const result = await handler(createEvent(validCreateBody()), lambdaContext);
      expect(result.statusCode).toBe(201);
      const user = parseBody(result);
      expect(isUuid(user.p_user_id)).toBe(true);
      expect(user).toEqual({
        p_user_id: user.p_user_id,
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
        p_created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
        p_updated_at: user.p_created_at,
      });
    });

    it('never returns the full id number, the date of birth or the address', async () => {
      ddb.on(PutCommand).resolves({});
      const result = await handler(createEvent(validCreateBody()), lambdaContext);
      expect(result.body).not.toContain('K98765432');
      expect(result.body).not.toContain('1990-05-17');
      expect(result.body).not.toContain('Queen');
    });

    it('writes one conditional Put that cannot overwrite an existing user', async () => {
      ddb.on(PutCommand).resolves({});
      const user = parseBody(await handler(createEvent(validCreateBody()), lambdaContext));
      const puts = ddb.commandCalls(PutCommand);
      expect(puts).toHaveLength(1);
      expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
      const input = puts[0]!.args[0].input;
      expect(input.ConditionExpression).toBe('attribute_not_exists(PK)');
      expect(input.Item).toMatchObject({
        PK: `USER#${user.p_user_id}`,
        SK: 'PROFILE',
        // The user's write shard of its business's list.
        GSI1PK: listShardOf(`BUSINESS#${TEST_BUSINESS_ID}#USERS`, user.p_user_id),
        GSI1SK: user.p_user_id,
        businessId: TEST_BUSINESS_ID,
        status: 'Active',
      });
    });

    it('stores the eKYC only encrypted: no name, email, phone, id number, birth date or address in any attribute', async () => {
      ddb.on(PutCommand).resolves({});
      await handler(createEvent(validCreateBody()), lambdaContext);
      const stored = JSON.stringify(ddb.commandCalls(PutCommand)[0]!.args[0].input.Item);
      for (const secret of EKYC_SECRETS) expect(stored, secret).not.toContain(secret);
    });

    it('binds the eKYC ciphertext to its business and user', async () => {
      ddb.on(PutCommand).resolves({});
      const user = parseBody(await handler(createEvent(validCreateBody()), lambdaContext));
      const item = ddb.commandCalls(PutCommand)[0]!.args[0].input.Item!;
      const context = { business_id: TEST_BUSINESS_ID, user_id: user.p_user_id, purpose: 'ekyc' };
      await expect(openSecret(item.ekyc, context)).resolves.toEqual({
        ...validCreateBody().ekyc,
        external_id: undefined,
      });
      await expect(openSecret(item.ekyc, { ...context, user_id: '0190a3c4-0000-7000-8000-00000000dead' })).rejects.toThrow(/context/);
      await expect(openSecret(item.ekyc, { ...context, business_id: 'another' })).rejects.toThrow(/context/);
    });

    it('stores keyed fingerprints of the normalized names and id number, for transfers to compare', async () => {
      ddb.on(PutCommand).resolves({});
      await handler(createEvent(validCreateBody()), lambdaContext);
      const item = ddb.commandCalls(PutCommand)[0]!.args[0].input.Item!;
      const stated = await ekycFingerprints({ first_name: ' TAI   MAN ', last_name: 'ng chan', id_number: 'ｋ98765432' });
      expect(item.ekycFingerprints).toEqual(stated);
      const other = await ekycFingerprints({ first_name: 'Tai Man', last_name: 'Ng Chan', id_number: 'K98765433' });
      expect(other.idNumber).not.toBe(item.ekycFingerprints.idNumber);
    });

    it('matches a stated identity against the registered one without decrypting it', async () => {
      ddb.on(PutCommand).resolves({});
      await handler(createEvent(validCreateBody()), lambdaContext);
      const item = ddb.commandCalls(PutCommand)[0]!.args[0].input.Item!;
      const user = { ekycFingerprints: item.ekycFingerprints } as Parameters<typeof ekycMatches>[0];
      expect(await ekycMatches(user, { first_name: 'tai  man', last_name: 'NG CHAN', id_number: ' K98765432' })).toBe(true);
      expect(await ekycMatches(user, { first_name: 'Tai Man', last_name: 'Ng Chan', id_number: 'K98765431' })).toBe(false);
      expect(await ekycMatches(user, { first_name: 'Tai', last_name: 'Ng Chan', id_number: 'K98765432' })).toBe(false);
      expect(await ekycMatches(user, { first_name: 'Tai Man', last_name: 'Chan', id_number: 'K98765432' })).toBe(false);
    });

    it('fingerprints each field under its own label, so a first name never matches a last name', async () => {
      const fingerprints = await ekycFingerprints({ first_name: 'Lee', last_name: 'Lee', id_number: 'Lee' });
      expect(new Set(Object.values(fingerprints)).size).toBe(3);
    });
  });

  describe('external_id', () => {
    it('claims the external_id in the same transaction as the user', async () => {
      ddb.on(TransactWriteCommand).resolves({});
      const user = parseBody(await handler(createEvent(withExternalId('crm-42')), lambdaContext));
      expect(user.external_id).toBe('crm-42');
      expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
      const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
      expect(items).toHaveLength(2);
      expect(items[0]!.Put!.Item).toMatchObject({ PK: `USER#${user.p_user_id}`, externalId: 'crm-42' });
      expect(items[1]!.Put).toMatchObject({
        Item: { PK: `BUSINESS#${TEST_BUSINESS_ID}#EXTERNAL_USER#crm-42`, SK: 'EXTERNAL_USER', userId: user.p_user_id },
        ConditionExpression: 'attribute_not_exists(PK)',
      });
    });

    it('answers 409 external_id_taken when the claim\'s condition fails', async () => {
      ddb.on(TransactWriteCommand).rejects(
        new TransactionCanceledException({
          message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]',
          $metadata: {},
          CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
        }),
      );
      const result = await handler(createEvent(withExternalId('crm-42')), lambdaContext);
      expect(result.statusCode).toBe(409);
      expect(parseBody(result).error).toMatchObject({ code: 'external_id_taken' });
      expect(result.body).not.toMatch(/cancellation reasons/i);
    });
    // A second user with the same external_id (refused in its business, allowed in another):
    // test/integration/users.test.ts, 'answers 409 external_id_taken for a second user with the same external_id'.
  });

  describe('validation', () => {
    it('answers 400 validation_error naming each bad field by its path', async () => {
      const body = validCreateBody();
      body.ekyc.phone = '9123 4567';
      body.ekyc.address.country = 'XX';
      const result = await handler(createEvent(body), lambdaContext);
      expect(result.statusCode).toBe(400);
      const { error } = parseBody(result);
      expect(error.code).toBe('validation_error');
      expect(error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['ekyc.address.country', 'ekyc.phone']);
      expect(ddb.calls()).toHaveLength(0);
    });

    it('answers 400 for a missing eKYC', async () => {
      const result = await handler(createEvent({ external_id: 'x' }), lambdaContext);
      expect(result.statusCode).toBe(400);
      expect(parseBody(result).error.fields).toEqual([{ path: 'ekyc', message: expect.any(String) }]);
    });

    it('answers 400 for an impossible date of birth and an invalid email', async () => {
      const body = validCreateBody();
      body.ekyc.date_of_birth = '1990-02-30';
      body.ekyc.email = 'taiman.chan@';
      const { error } = parseBody(await handler(createEvent(body), lambdaContext));
      expect(error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['ekyc.date_of_birth', 'ekyc.email']);
    });

    it('never echoes the rejected values back', async () => {
      const body = validCreateBody();
      body.ekyc.email = 'taiman.chan@@example.com';
      const result = await handler(createEvent(body), lambdaContext);
      expect(result.statusCode).toBe(400);
      expect(result.body).not.toContain('taiman.chan@@example.com');
    });

    it('answers 400 invalid_json for a body that is not JSON', async () => {
      const event = createEvent(undefined);
      event.body = '{"ekyc": {';
      const result = await handler(event, lambdaContext);
      expect(result.statusCode).toBe(400);
      expect(parseBody(result).error.code).toBe('invalid_json');
    });
  });

  describe('Idempotency-Key', () => {
    const KEY = 'create-user-1';
    const idempotent = (body: unknown, key = KEY) => createEvent(body, { 'Idempotency-Key': key });
    const recordKey = { PK: `IDEMPOTENCY#${TEST_BUSINESS_ID}#${KEY}`, SK: 'IDEMPOTENCY' };
    const keyTaken = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

    /** The first request commits; returns its answer and the completed record its transaction carried. */
    async function firstRequest() {
      ddb.on(PutCommand).resolves({});
      ddb.on(TransactWriteCommand).resolves({});
      const first = await handler(idempotent(validCreateBody()), lambdaContext);
      const record = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!.at(-1)!.Put!.Item!;
      return { first, record };
    }

    /** What DynamoDB answers a later request with the same key: the claim's condition fails, the record reads back. */
    function keyHolds(record: Record<string, unknown>) {
      ddb.reset();
      ddb.on(PutCommand, { Item: recordKey }).rejects(keyTaken());
      ddb.on(GetCommand, { Key: recordKey }).resolves({ Item: record });
    }

    it('claims the key, then commits the user and the idempotency record in one transaction', async () => {
      const { first } = await firstRequest();
      expect(first.statusCode).toBe(201);
      expect(ddb).toHaveReceivedCommandOnce(PutCommand);
      expect(ddb).toHaveReceivedCommandWith(PutCommand, { Item: expect.objectContaining({ ...recordKey, state: 'in_progress' }) });
      expect(ddb).toHaveReceivedCommandOnce(TransactWriteCommand);
      const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
      expect(items.map((item) => item.Put!.Item!.PK)).toEqual([`USER#${parseBody(first).p_user_id}`, recordKey.PK]);
      expect(items[1]!.Put).toMatchObject({ Item: { state: 'completed', statusCode: 201 }, ConditionExpression: '#owner = :owner AND #state = :inProgress' });
      // The stored response carries the masked eKYC view, so it is encrypted at rest.
      const stored = String(items[1]!.Put!.Item!.responseBody);
      expect(stored).not.toContain(validCreateBody().ekyc.email);
      expect(stored).not.toContain(validCreateBody().ekyc.phone);
    });

    it('replays the first response from the stored record for the same key and body, writing no second user', async () => {
      const { first, record } = await firstRequest();
      keyHolds(record);
      const second = await handler(idempotent(validCreateBody()), lambdaContext);
      expect(second.statusCode).toBe(first.statusCode);
      expect(second.body).toBe(first.body);
      expect(second.headers!['idempotent-replayed']).toBe('true');
      expect(ddb).toHaveReceivedCommandWith(GetCommand, { Key: recordKey, ConsistentRead: true });
      expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
    });

    it('answers 422 idempotency_key_reused for the same key with another body, and writes nothing', async () => {
      const { record } = await firstRequest();
      keyHolds(record);
      const changed = validCreateBody();
      changed.ekyc.first_name = 'Siu Ming';
      const result = await handler(idempotent(changed), lambdaContext);
      expect(result.statusCode).toBe(422);
      expect(parseBody(result).error.code).toBe('idempotency_key_reused');
      expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
      expect(ddb).not.toHaveReceivedCommand(DeleteCommand);
    });

    it('commits the external_id claim in the same transaction, and keeps 409 external_id_taken as the key\'s answer', async () => {
      ddb.on(PutCommand).resolves({});
      // The external_id is taken: the claim's condition (the second item) fails.
      ddb.on(TransactWriteCommand).rejects(
        new TransactionCanceledException({
          message: 'Transaction cancelled',
          $metadata: {},
          CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
        }),
      );
      const result = await handler(idempotent(withExternalId('crm-42')), lambdaContext);
      expect(result.statusCode).toBe(409);
      expect(parseBody(result).error.code).toBe('external_id_taken');
      const failed = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
      expect(failed.map((item) => item.Put!.Item!.SK)).toEqual(['PROFILE', 'EXTERNAL_USER', 'IDEMPOTENCY']);
      // Kept: the completion item of the cancelled transaction was never written, so the refusal is
      // recorded on its own (still on owning the claim), and the key is not released.
      expect(ddb).not.toHaveReceivedCommand(DeleteCommand);
      expect(ddb).toHaveReceivedCommandTimes(PutCommand, 2);
      const recorded = ddb.commandCalls(PutCommand)[1]!.args[0].input;
      expect(recorded).toMatchObject({ Item: { ...recordKey, state: 'completed', statusCode: 409 }, ConditionExpression: '#owner = :owner AND #state = :inProgress' });

      keyHolds(recorded.Item!);
      const replay = await handler(idempotent(withExternalId('crm-42')), lambdaContext);
      expect(replay.body).toBe(result.body);
      expect(replay.headers!['idempotent-replayed']).toBe('true');
      expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
    });
  });

  describe('failures', () => {
    it('never puts an unexpected error\'s message in the response', async () => {
      ddb.on(PutCommand).rejects(new Error('connect ECONNREFUSED 10.0.0.7:443 arn:aws:dynamodb:us-east-1:123456789012:table/secret'));
      const result = await handler(createEvent(validCreateBody()), lambdaContext);
      expect(result.statusCode).toBe(500);
      expect(parseBody(result)).toEqual({
        error: { code: 'internal_error', message: 'An unexpected error occurred.', request_id: result.headers!['x-request-id'] },
      });
    });
  });

  describe('logging', () => {
    it('never logs a created user\'s eKYC, on success or on failure', async () => {
      ddb.on(PutCommand).resolvesOnce({}).rejects(new Error('boom'));
      let userId = '';
      const logs = await logsWhile(async () => {
        userId = parseBody(await handler(createEvent(validCreateBody()), lambdaContext)).p_user_id;
        const failed = await handler(createEvent(validCreateBody()), lambdaContext);
        expect(failed.statusCode).toBe(500);
        const invalid = validCreateBody();
        invalid.ekyc.phone = 'not a phone +85291234567';
        expect((await handler(createEvent(invalid), lambdaContext)).statusCode).toBe(400);
      });
      // The request lines and the error were logged, so the check below has something to look at.
      expect(logs).toContain('"statusCode":201');
      expect(logs).toContain('unhandled error');
      expect(logs).toContain('"statusCode":400');
      expect(userId).not.toBe('');
      for (const secret of EKYC_SECRETS) expect(logs, secret).not.toContain(secret);
    });
  });
});
