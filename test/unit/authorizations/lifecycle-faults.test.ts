/**
 * The authorization lifecycle through the exported handlers with DynamoDB mocked: what a capture,
 * an increment and the hold-expiry sweeper write (one transaction each, with its posting and
 * event), and what they do when DynamoDB does not go along: a conflict (retried), throttling
 * (a 503 that reveals nothing, or a hold left for the next sweep), a version that moved (re-read,
 * decide again: never a second release).
 */
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, NumberValue, QueryCommand, TransactGetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { ScheduledEvent } from 'aws-lambda';
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as increment } from '../../../functions/simulate/increment-authorization.ts';
import { handler as settle } from '../../../functions/simulate/settle-authorization.ts';
import { handler as expireHolds } from '../../../functions/transactions/expire-holds.ts';
import { resetConfigForTests } from '../../../shared/config.ts';
import { HOLD_EXPIRY_SHARDS } from '../../../shared/db/keys.ts';
import { apiEvent, lambdaContext, parseBody, TEST_BUSINESS_ID } from '../../support/events.ts';
import { logsWhile } from '../../support/capture-logs.ts';
import { businessItem, cancelled, cardItem, serveItems, TRANSACTION_ID, transactionItem } from './support.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const runSweeper = () => expireHolds({ 'detail-type': 'Scheduled Event' } as ScheduledEvent);

function transactions() {
  return ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems as Record<string, any>[]);
}

function lifecycleEvent(action: 'settle' | 'increment', body: Record<string, unknown>) {
  return apiEvent({
    method: 'POST',
    path: `/v1/simulate/authorizations/${TRANSACTION_ID}/${action}`,
    resource: `/v1/simulate/authorizations/{id}/${action}`,
    pathParameters: { id: TRANSACTION_ID },
    body,
  });
}

/** An authorization of 10.00 USD at `mcc`, held and due to expire at `holdExpiresAt`. */
function authorization(options: { mcc?: string; version?: number; status?: 'Authorized' | 'Settled'; holdExpiresAt?: string } = {}) {
  const item = transactionItem({ held: 1000n, version: options.version ?? 1, status: options.status ?? 'Authorized' });
  return {
    ...item,
    merchant: { ...(item.merchant as object), mcc: options.mcc ?? '5999' },
    holdExpiresAt: options.holdExpiresAt ?? '2025-03-11T03:32:11.051702Z',
    feeCollected: 0n,
  };
}

beforeEach(() => ddb.reset());

describe('a capture', () => {
  it('that is partial posts what it captures, keeps the rest held (still in the expiry index) and leaves the windows alone', async () => {
    serveItems(ddb, [authorization()]);

    const result = await settle(lifecycleEvent('settle', { amount: '4', final: false }), lambdaContext);

    expect(result.statusCode).toBe(200);
    expect(parseBody(result)).toMatchObject({ status: 'Authorized', held_amount: '-6', final_local_amount: '-4' });
    const [items] = transactions();
    expect(items![0]!.Put.Item).toMatchObject({ status: 'Authorized', remainingHold: 600n, settledAmount: 400n, GSI4SK: `2025-03-11T03:32:11.051702Z#${TRANSACTION_ID}` });
    const balance = items!.find((item) => item.Update?.Key.SK === 'BALANCE#USD')!.Update;
    expect(balance.ExpressionAttributeValues).toMatchObject({ ':available': 0n, ':pending': -400n, ':minPending': 400n });
    expect(items!.filter((item) => item.Update?.Key.SK.startsWith('SPEND#'))).toEqual([]);
  });

  it('with a tip (MCC 5812) posts beyond the hold as a forced capture, taking the tip from what is available, and counts the tip in the windows', async () => {
    serveItems(ddb, [authorization({ mcc: '5812' })]);
    // The business balance as read: 50.00 in the pool (held before escrow), no shard funded.
    const pool = { PK: `BUSINESS#${TEST_BUSINESS_ID}`, SK: 'BALANCE#USD', available: new NumberValue('5000'), pending: new NumberValue('1000') };
    ddb.on(BatchGetCommand).callsFake((input) => ({ Responses: { [Object.keys(input.RequestItems)[0]!]: [pool] } }));

    const result = await settle(lifecycleEvent('settle', { amount: '12' }), lambdaContext);

    expect(parseBody(result)).toMatchObject({ status: 'Settled', final_local_amount: '-12', held_amount: '0' });
    const [items] = transactions();
    expect(items![0]!.Put.Item.GSI4PK).toBeUndefined();
    const balance = items!.find((item) => item.Update?.Key.SK === 'BALANCE#USD')!.Update;
    // The hold's release and the tip's debit merged on the one item: the tip only if it is still there (else: plan again).
    expect(balance.ExpressionAttributeValues).toMatchObject({ ':available': -200n, ':pending': -1000n, ':minAvailable': 200n, ':minPending': 1000n });
    expect(balance.ConditionExpression).toBe('available >= :minAvailable AND pending >= :minPending');
    const posting = items!.find((item) => item.Put?.Item.entity === 'posting')!.Put.Item;
    expect(posting.kind).toBe('forced_capture');
    const counters = items!.filter((item) => item.Update?.Key.SK.startsWith('SPEND#'));
    expect(counters.map((item) => item.Update.ExpressionAttributeValues[':amount'])).toEqual([200n, 200n, 200n]);
  });

  it('retries a TransactionConflict and commits once', async () => {
    serveItems(ddb, [authorization()]);
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled(['TransactionConflict', 'None', 'None', 'None'])).resolves({});

    const result = await settle(lifecycleEvent('settle', {}), lambdaContext);

    expect(result.statusCode).toBe(200);
    expect(parseBody(result).status).toBe('Settled');
    expect(transactions()).toHaveLength(2);
  });

  it('answers a retryable 503 that reveals nothing when DynamoDB keeps throttling', async () => {
    serveItems(ddb, [authorization()]);
    ddb.on(TransactWriteCommand).rejects(cancelled(['ThrottlingError', 'None', 'None', 'None']));

    const result = await settle(lifecycleEvent('settle', { amount: '3' }), lambdaContext);

    expect(result.statusCode).toBe(503);
    expect(parseBody(result).error).toEqual({ code: 'service_unavailable', message: 'The service is busy; retry shortly.', request_id: expect.any(String) });
  });

  it('re-reads when the authorization moved meanwhile, and then refuses a settled one: nothing posts twice', async () => {
    ddb.on(GetCommand).resolvesOnce({ Item: authorization({ version: 1 }) }).resolves({ Item: authorization({ version: 2, status: 'Settled' }) });
    ddb.on(TransactWriteCommand).rejects(cancelled(['ConditionalCheckFailed', 'None', 'None', 'None']));

    const result = await settle(lifecycleEvent('settle', {}), lambdaContext);

    expect(result.statusCode).toBe(409);
    expect(parseBody(result).error.code).toBe('transaction_settled');
    expect(transactions()).toHaveLength(1);
  });
});

describe('an increment', () => {
  it('declined at commit answers 422 increment_declined with the reason, and nothing else is written', async () => {
    serveItems(ddb, [authorization(), cardItem(), businessItem()]);
    // [daily] [monthly] [lifetime] [hold] [card check] [transaction] [posting] [event]
    ddb.on(TransactWriteCommand).rejects(cancelled(['None', 'None', 'None', 'ConditionalCheckFailed', 'None', 'None', 'None', 'None']));
    // Held on the pool before escrow: short there (1.00), and short in the whole balance too (4.00 with shard 2's 3.00).
    const balance = [{ PK: `BUSINESS#${TEST_BUSINESS_ID}`, SK: 'BALANCE#USD', available: new NumberValue('100'), pending: new NumberValue('1000') }, { PK: `ESCROW#${TEST_BUSINESS_ID}#USD#2`, SK: 'BALANCE', available: new NumberValue('300') }];
    ddb.on(BatchGetCommand).callsFake((input) => ({ Responses: { [Object.keys(input.RequestItems)[0]!]: balance } }));
    ddb.on(TransactGetCommand).resolves({ Responses: [{ Item: balance[0] }, {}, {}, { Item: balance[1] }, {}] });

    const result = await increment(lifecycleEvent('increment', { amount: '5' }), lambdaContext);

    expect(result.statusCode).toBe(422);
    expect(parseBody(result).error).toMatchObject({ code: 'increment_declined', decline_reason: 'insufficient_balance' });
    const [items] = transactions();
    expect(items).toHaveLength(9);
    expect(items![3]!.Update.ExpressionAttributeValues).toMatchObject({ ':available': -500n, ':pending': 500n, ':minAvailable': 500n });
  });
});

describe('the hold-expiry sweeper', () => {
  function indexAnswer(ids: string[]) {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':partition': 'HOLD_EXPIRY#1' } }).resolves({ Items: ids.map((transactionId) => ({ transactionId })) });
  }

  it('queries every shard of the expiry index for holds due now, oldest first', async () => {
    indexAnswer([]);

    expect(await runSweeper()).toEqual({ due: 0, expired: 0, moved: 0, failed: 0, unfinished: false });

    const queries = ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(queries).toHaveLength(HOLD_EXPIRY_SHARDS);
    for (const query of queries) expect(query).toMatchObject({ IndexName: 'GSI4', KeyConditionExpression: 'GSI4PK = :partition AND GSI4SK < :before', ScanIndexForward: true });
  });

  it('expires a due hold in one transaction: status Expired, released, windows given back, posting and event', async () => {
    indexAnswer([TRANSACTION_ID]);
    serveItems(ddb, [authorization()]);

    expect(await runSweeper()).toEqual({ due: 1, expired: 1, moved: 0, failed: 0, unfinished: false });

    const [items] = transactions();
    expect(items![0]!.Put).toMatchObject({ ConditionExpression: 'version = :version', Item: { status: 'Expired', remainingHold: 0n, expiredAmount: 1000n } });
    expect(items![0]!.Put.Item.GSI4PK).toBeUndefined();
    const counters = items!.filter((item) => item.Update?.Key.SK.startsWith('SPEND#'));
    expect(counters.map((item) => item.Update.ExpressionAttributeValues[':amount'])).toEqual([-1000n, -1000n, -1000n]);
    const event = items!.find((item) => item.Put?.Item.entity === 'event')!.Put.Item;
    expect(JSON.parse(event.payload)).toMatchObject({ action: 'Expired', type: 'transaction.expiry' });
  });

  it('meets a capture that committed first: re-reads, finds it settled, and releases nothing', async () => {
    indexAnswer([TRANSACTION_ID]);
    ddb.on(GetCommand).resolvesOnce({ Item: authorization({ version: 1 }) }).resolves({ Item: authorization({ version: 2, status: 'Settled' }) });
    ddb.on(TransactWriteCommand).rejects(cancelled(['ConditionalCheckFailed', 'None', 'None', 'None', 'None', 'None', 'None']));

    expect(await runSweeper()).toEqual({ due: 1, expired: 0, moved: 1, failed: 0, unfinished: false });
    expect(transactions()).toHaveLength(1);
  });

  it('leaves a hold whose expiry an increment pushed on', async () => {
    indexAnswer([TRANSACTION_ID]);
    serveItems(ddb, [authorization({ holdExpiresAt: '2999-01-01T00:00:00.000000Z' })]);

    expect(await runSweeper()).toEqual({ due: 1, expired: 0, moved: 1, failed: 0, unfinished: false });
    expect(transactions()).toHaveLength(0);
  });

  it('pages on past a hold that fails, so it never blocks the holds behind it', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    const shard = { ':partition': 'HOLD_EXPIRY#1' };
    // The oldest due hold cannot be read (throttled on every try); the two behind it can.
    const stuck = '0b6c1d7e-0000-4000-8000-000000000001';
    const page = { Items: [{ transactionId: stuck }, { transactionId: TRANSACTION_ID }] };
    ddb.on(QueryCommand, { ExpressionAttributeValues: shard }).resolves({ ...page, LastEvaluatedKey: { PK: 'next' } });
    ddb.on(QueryCommand, { ExpressionAttributeValues: shard, ExclusiveStartKey: { PK: 'next' } }).resolves({ Items: [{ transactionId: TRANSACTION_ID }] });
    serveItems(ddb, [authorization()]);
    ddb.on(GetCommand, { Key: { PK: `TXN#${stuck}`, SK: 'TXN' } }).rejects(new ProvisionedThroughputExceededException({ message: 'throttled', $metadata: {} }));

    expect(await runSweeper()).toEqual({ due: 3, expired: 2, moved: 0, failed: 1, unfinished: false });
    const pages = ddb.commandCalls(QueryCommand, { ExpressionAttributeValues: shard }).map((call) => call.args[0].input.ExclusiveStartKey);
    expect(pages).toEqual([undefined, { PK: 'next' }]);
  });

  it('stops paging when its time budget is spent and says the next run goes on', async () => {
    process.env.HOLD_EXPIRY_SWEEP_SECONDS = '1';
    resetConfigForTests();
    try {
      // An index that never ends (every page says there is more).
      ddb.on(QueryCommand).resolves({ Items: [], LastEvaluatedKey: { PK: 'more' } });
      expect(await runSweeper()).toMatchObject({ due: 0, unfinished: true });
    } finally {
      delete process.env.HOLD_EXPIRY_SWEEP_SECONDS;
      resetConfigForTests();
    }
  });

  it('leaves a throttled hold for the next run and logs its id only, never amounts or card data', async () => {
    indexAnswer([TRANSACTION_ID]);
    serveItems(ddb, [authorization()]);
    ddb.on(TransactWriteCommand).rejects(cancelled(['ThrottlingError', 'None', 'None', 'None', 'None', 'None', 'None']));
    let report: unknown;

    const logs = await logsWhile(async () => {
      report = await runSweeper();
    });

    expect(report).toEqual({ due: 1, expired: 0, moved: 0, failed: 1, unfinished: false });
    const lines = logs.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    const failure = lines.find((line) => String(line.message).startsWith('hold expiry: a hold could not be released'));
    expect(failure).toMatchObject({ transactionId: TRANSACTION_ID, error: 'ApiError' });
    expect(logs).not.toMatch(/356772|remainingHold|1000/);
  });
});
