import { DynamoDBDocumentClient, GetCommand, NumberValue, QueryCommand, TransactGetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as listBusinessBalances } from '../../../functions/balances/list-business-balances.ts';
import { handler as listUserBalances } from '../../../functions/users/list-user-balances.ts';
import { balanceView } from '../../../shared/services/balances.ts';
import { apiEvent, lambdaContext, TEST_BUSINESS_ID } from '../../support/events.ts';
import { businessAuthorizer, OTHER_BUSINESS_ID, parseBody, storedUserItem, userEvent } from './support.ts';

const ddb = mockClient(DynamoDBDocumentClient);

/** A balance item as the document client returns it with `wrapNumbers`. */
const balanceItem = (pk: string, currency: string, available: string, pending: string) => ({
  PK: pk,
  SK: `BALANCE#${currency}`,
  currency,
  available: new NumberValue(available),
  pending: new NumberValue(pending),
});

describe('balanceView', () => {
  it('formats minor units as decimal strings in the currency\'s exponent', () => {
    expect(balanceView('USD', 10150n, 0n)).toEqual({ currency: 'USD', available: '101.5', pending: '0' });
    expect(balanceView('JPY', 1200n, 300n)).toEqual({ currency: 'JPY', available: '1200', pending: '300' });
    expect(balanceView('BTC', 1n, 100_000_000n)).toEqual({ currency: 'BTC', available: '0.00000001', pending: '1' });
  });

  it('keeps amounts beyond a double\'s precision exact', () => {
    expect(balanceView('ETH', 123_456_789_012_345_678_901_234_567n, 0n).available).toBe('123456789.012345678901234567');
  });
});

describe('GET /v1/users/{p_user_id}/balances', () => {
  let stored: Record<string, any>;
  beforeEach(async () => {
    stored = await storedUserItem(ddb);
  });

  const request = (userId: string, authorizer?: Record<string, string>) =>
    listUserBalances(userEvent('GET', userId, { suffix: '/balances', ...(authorizer ? { authorizer } : {}) }), lambdaContext);

  it('lists the user\'s balances as decimal strings', async () => {
    ddb.on(GetCommand).resolves({ Item: stored });
    ddb.on(QueryCommand).resolves({
      Items: [balanceItem(stored.PK, 'ETH', '1500000000000000000000001', '0'), balanceItem(stored.PK, 'USD', '12550', '1000')],
    });
    const result = await request(stored.userId);
    expect(result.statusCode).toBe(200);
    expect(parseBody(result)).toEqual({
      data: [
        { currency: 'ETH', available: '1500000.000000000000000001', pending: '0' },
        { currency: 'USD', available: '125.5', pending: '10' },
      ],
    });
    expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input).toMatchObject({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': `USER#${stored.userId}`, ':prefix': 'BALANCE#' },
    });
  });

  it('answers an empty list before anything was credited', async () => {
    ddb.on(GetCommand).resolves({ Item: stored });
    ddb.on(QueryCommand).resolves({ Items: [] });
    expect(parseBody(await request(stored.userId))).toEqual({ data: [] });
  });

  it('answers 404 user_not_found for a user of another business, showing none of its balances', async () => {
    ddb.on(GetCommand).resolves({ Item: stored });
    ddb.on(QueryCommand).resolves({ Items: [balanceItem(stored.PK, 'USD', '12550', '0')] });
    const result = await request(stored.userId, businessAuthorizer(OTHER_BUSINESS_ID));
    expect(result.statusCode).toBe(404);
    expect(parseBody(result).error.code).toBe('user_not_found');
    expect(result.body).not.toContain('125.5');
  });

  it('answers 404 for a missing user and, without reading, for a malformed id', async () => {
    ddb.on(GetCommand).resolves({});
    ddb.on(QueryCommand).resolves({ Items: [] });
    expect((await request('0190a3c4-0000-7000-8000-00000000beef')).statusCode).toBe(404);
    ddb.reset();
    expect((await request('x')).statusCode).toBe(404);
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('GET /v1/balances', () => {
  const pk = `BUSINESS#${TEST_BUSINESS_ID}`;
  /** The table as the handler reads it: pools under the business, escrow shards in partitions of their own. */
  let table: Map<string, Record<string, unknown>>;
  const put = (item: Record<string, unknown>) => table.set(`${String(item.PK)}|${String(item.SK)}`, item);
  beforeEach(() => {
    ddb.reset();
    table = new Map();
    ddb.on(GetCommand).callsFake((input) => ({ Item: table.get(`${input.Key.PK}|${input.Key.SK}`) }));
    ddb.on(TransactGetCommand).callsFake((input) => ({
      Responses: input.TransactItems.map((t: any) => ({ Item: table.get(`${t.Get.Key.PK}|${t.Get.Key.SK}`) })),
    }));
    ddb.on(QueryCommand).callsFake(() => ({ Items: [...table.values()].filter((item) => item.PK === pk) }));
  });
  const request = () => listBusinessBalances(apiEvent({ method: 'GET', path: '/v1/balances', resource: '/v1/balances' }), lambdaContext);
  const shardItem = (currency: string, shard: number, available: string, pending: string) => ({
    ...balanceItem(`ESCROW#${TEST_BUSINESS_ID}#${currency}#${shard}`, currency, available, pending),
    SK: 'BALANCE',
    escrowShard: shard,
  });

  it('lists the business\'s own balances', async () => {
    put(balanceItem(pk, 'HKD', '100000', '2500'));
    put(balanceItem(pk, 'JPY', '5000', '0'));
    const result = await request();
    expect(result.statusCode).toBe(200);
    expect(parseBody(result)).toEqual({
      data: [
        { currency: 'HKD', available: '1000', pending: '25' },
        { currency: 'JPY', available: '5000', pending: '0' },
      ],
    });
    expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input.ExpressionAttributeValues).toEqual({ ':pk': pk, ':prefix': 'BALANCE#' });
  });

  it('sums each pool with every escrow shard it records, read in one TransactGetItems', async () => {
    put({ ...balanceItem(pk, 'USD', '1000', '0'), escrowShards: new NumberValue('8') });
    put(shardItem('USD', 0, '250', '50'));
    put(shardItem('USD', 7, '125', '0'));
    // Beyond the count the pool records: never filled, never read.
    put(shardItem('USD', 8, '99999', '0'));
    expect(parseBody(await request()).data).toEqual([{ currency: 'USD', available: '13.75', pending: '0.5' }]);
    const read = ddb.commandCalls(TransactGetCommand)[0]!.args[0].input.TransactItems!;
    expect(read.map((t: any) => t.Get.Key.PK)).toEqual([pk, ...Array.from({ length: 8 }, (_, shard) => `ESCROW#${TEST_BUSINESS_ID}#USD#${shard}`)]);
  });

  it('reads again with every shard when the count grew between its two reads', async () => {
    put({ ...balanceItem(pk, 'USD', '0', '0'), escrowShards: new NumberValue('4') });
    put(shardItem('USD', 5, '300', '0'));
    let reads = 0;
    ddb.on(TransactGetCommand).callsFake((input) => {
      // The count doubles just after the first read of it.
      if (reads++ === 0) put({ ...balanceItem(pk, 'USD', '0', '0'), escrowShards: new NumberValue('8') });
      return { Responses: input.TransactItems.map((t: any) => ({ Item: table.get(`${t.Get.Key.PK}|${t.Get.Key.SK}`) })) };
    });
    expect(parseBody(await request()).data).toEqual([{ currency: 'USD', available: '3', pending: '0' }]);
    expect(ddb.commandCalls(TransactGetCommand).map((call) => call.args[0].input.TransactItems!.length)).toEqual([5, 9]);
  });

  it('follows the query to its last page', async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [balanceItem(pk, 'EUR', '1', '0')], LastEvaluatedKey: { PK: pk, SK: 'BALANCE#EUR' } })
      .resolvesOnce({ Items: [balanceItem(pk, 'USD', '2', '0')] });
    put(balanceItem(pk, 'EUR', '1', '0'));
    put(balanceItem(pk, 'USD', '2', '0'));
    expect(parseBody(await request()).data.map((b: any) => b.currency)).toEqual(['EUR', 'USD']);
    expect(ddb.commandCalls(QueryCommand)[1]!.args[0].input.ExclusiveStartKey).toEqual({ PK: pk, SK: 'BALANCE#EUR' });
  });

  it('answers an empty list for a business that was never funded', async () => {
    expect(parseBody(await request())).toEqual({ data: [] });
  });
});
