import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/users/list-users.ts';
import { LIST_SHARDS, listShards } from '../../../shared/db/keys.ts';
import { apiEvent, lambdaContext, TEST_BUSINESS_ID } from '../../support/events.ts';
import { businessAuthorizer, OTHER_BUSINESS_ID, parseBody, storedUserItem, validCreateBody } from './support.ts';

const ddb = mockClient(DynamoDBDocumentClient);

const listEvent = (query: Record<string, string> = {}, authorizer?: Record<string, string>) =>
  apiEvent({ method: 'GET', path: '/v1/users', resource: '/v1/users', query, ...(authorizer ? { authorizer } : {}) });

describe('GET /v1/users', () => {
  /** Three stored users, newest first, as GSI1 returns them with ScanIndexForward=false. */
  let newestFirst: Record<string, any>[];
  beforeAll(async () => {
    const created: Record<string, any>[] = [];
    for (const [i, name] of ['Ada', 'Grace', 'Hedy'].entries()) {
      const body = validCreateBody();
      body.ekyc.first_name = name;
      body.external_id = `crm-${i}`;
      created.push(await storedUserItemWithClaim(body));
    }
    newestFirst = created.reverse();
  });
  beforeEach(() => ddb.reset());

  /** GSI1 as DynamoDB holds it: each item in its list shard (its GSI1PK), newest first. */
  function serveList(items: Record<string, any>[]) {
    ddb.on(QueryCommand).resolves({ Items: [] });
    for (const partition of new Set(items.map((item) => item.GSI1PK))) {
      ddb.on(QueryCommand, { ExpressionAttributeValues: { ':partition': partition } }).resolves({ Items: items.filter((item) => item.GSI1PK === partition) });
    }
  }

  async function storedUserItemWithClaim(body: ReturnType<typeof validCreateBody>) {
    // With an external_id the create is a transaction; the read side only needs the user item.
    const { external_id, ...rest } = body;
    const item = await storedUserItem(ddb, rest);
    return { ...item, externalId: external_id };
  }

  it('queries every write shard of the business\'s list in GSI1, newest first, with the default limit of 20, and merges them', async () => {
    serveList(newestFirst);
    const result = await handler(listEvent(), lambdaContext);
    expect(result.statusCode).toBe(200);
    const inputs = ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(inputs.map((input) => input.ExpressionAttributeValues![':partition'])).toEqual(listShards(`BUSINESS#${TEST_BUSINESS_ID}#USERS`));
    for (const input of inputs) {
      // One more than the page, to know whether another page exists.
      expect(input).toMatchObject({ IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :partition', ScanIndexForward: false, Limit: 21 });
    }
    const body = parseBody(result);
    expect(body.next_cursor).toBeNull();
    expect(body.data.map((u: any) => u.ekyc.first_name)).toEqual(['Hedy', 'Grace', 'Ada']);
    expect(body.data.map((u: any) => u.external_id)).toEqual(['crm-2', 'crm-1', 'crm-0']);
    expect(body.data[0].ekyc.id_number_last4).toBe('5432');
    expect(result.body).not.toContain('K98765432');
  });

  it('pages with an opaque cursor that starts after the last user shown', async () => {
    serveList(newestFirst);
    const first = parseBody(await handler(listEvent({ limit: '2' }), lambdaContext));
    expect(first.data.map((u: any) => u.p_user_id)).toEqual([newestFirst[0]!.userId, newestFirst[1]!.userId]);
    expect(first.next_cursor).toEqual(expect.any(String));

    ddb.resetHistory();
    const second = parseBody(await handler(listEvent({ limit: '2', cursor: first.next_cursor }), lambdaContext));
    // Every shard reads on from below the last user shown.
    for (const call of ddb.commandCalls(QueryCommand)) {
      expect(call.args[0].input).toMatchObject({ KeyConditionExpression: 'GSI1PK = :partition AND GSI1SK < :before', ExpressionAttributeValues: { ':before': newestFirst[1]!.userId } });
    }
    expect(second.data.map((u: any) => u.p_user_id)).toEqual([newestFirst[2]!.userId]);
    expect(second.next_cursor).toBeNull();
  });

  it('reads on past DynamoDB\'s 1 MB cut to fill the page, from where DynamoDB stopped', async () => {
    // Two users of shard 0 (the list partition without a suffix), cut after the first.
    const shard0 = `BUSINESS#${TEST_BUSINESS_ID}#USERS`;
    const lastKey = { PK: newestFirst[0]!.PK, SK: 'PROFILE', GSI1PK: shard0, GSI1SK: newestFirst[0]!.GSI1SK };
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':partition': shard0 } })
      .resolvesOnce({ Items: newestFirst.slice(0, 1), LastEvaluatedKey: lastKey })
      .resolves({ Items: newestFirst.slice(1, 2) });
    const body = parseBody(await handler(listEvent({ limit: '5' }), lambdaContext));
    expect(body.data).toHaveLength(2);
    expect(body.next_cursor).toBeNull();
    const shard0Calls = ddb.commandCalls(QueryCommand, { ExpressionAttributeValues: { ':partition': shard0 } });
    expect(shard0Calls[1]!.args[0].input.ExclusiveStartKey).toEqual(lastKey);
  });

  it('answers an empty page for a business without users', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    expect(parseBody(await handler(listEvent(), lambdaContext))).toEqual({ data: [], next_cursor: null });
  });

  it('answers 400 invalid_cursor for an edited cursor, without querying', async () => {
    serveList(newestFirst);
    const { next_cursor } = parseBody(await handler(listEvent({ limit: '1' }), lambdaContext));
    const sealed = Buffer.from(String(next_cursor), 'base64url');
    sealed[sealed.length - 1]! ^= 0x01;
    const forged = Buffer.from(JSON.stringify({ PK: 'USER#x', SK: 'PROFILE', GSI1PK: `BUSINESS#${OTHER_BUSINESS_ID}#USERS`, GSI1SK: 'x' })).toString('base64url');
    for (const cursor of [sealed.toString('base64url'), forged, `${next_cursor}x`, 'garbage', `${next_cursor}.${forged}`]) {
      const result = await handler(listEvent({ cursor }), lambdaContext);
      expect(result.statusCode, cursor).toBe(400);
      expect(parseBody(result).error.code).toBe('invalid_cursor');
    }
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(LIST_SHARDS);
  });

  it('answers 400 invalid_cursor for a cursor another business was given', async () => {
    serveList(newestFirst);
    const { next_cursor } = parseBody(await handler(listEvent({ limit: '1' }), lambdaContext));
    const result = await handler(listEvent({ cursor: next_cursor }, businessAuthorizer(OTHER_BUSINESS_ID)), lambdaContext);
    expect(result.statusCode).toBe(400);
    expect(parseBody(result).error.code).toBe('invalid_cursor');
  });

  it('answers 400 validation_error for a limit outside 1..100', async () => {
    for (const limit of ['0', '101', 'abc', '1.5']) {
      const result = await handler(listEvent({ limit }), lambdaContext);
      expect(result.statusCode, limit).toBe(400);
      expect(parseBody(result).error).toMatchObject({ code: 'validation_error', fields: [{ path: 'limit' }] });
    }
    expect(ddb.calls()).toHaveLength(0);
  });

  it('accepts the limits 1 and 100', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    expect((await handler(listEvent({ limit: '1' }), lambdaContext)).statusCode).toBe(200);
    expect((await handler(listEvent({ limit: '100' }), lambdaContext)).statusCode).toBe(200);
    expect(ddb.commandCalls(QueryCommand).map((c) => c.args[0].input.Limit)).toEqual([...Array(LIST_SHARDS).fill(2), ...Array(LIST_SHARDS).fill(101)]);
  });
});
