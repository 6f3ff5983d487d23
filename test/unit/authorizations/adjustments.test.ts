/**
 * Reversals and settlements of an authorization: only an `Authorized` transaction can move, never
 * by more than is still held, and each move is one transaction pinned to the version that was read.
 */
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as reverse } from '../../../functions/simulate/reverse-authorization.ts';
import { handler as settle } from '../../../functions/simulate/settle-authorization.ts';
import { lambdaContext, parseBody } from '../../support/events.ts';
import { adjustEvent, cancelled, OTHER_BUSINESS_ID, serveItems, transactionItem, type TransactionItemOptions } from './support.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const handlers = { reverse, settle };

function transactions() {
  return ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems as Record<string, any>[]);
}

function withTransaction(options: TransactionItemOptions) {
  serveItems(ddb, [transactionItem(options)]);
}

beforeEach(() => ddb.reset());

describe.each(['reverse', 'settle'] as const)('POST /v1/simulate/authorizations/{id}/%s', (action) => {
  const call = (body: Record<string, unknown> = {}) => handlers[action](adjustEvent(action, body), lambdaContext);

  it.each([
    ['Declined', 'transaction_declined'],
    ['Reversed', 'transaction_reversed'],
    ['Settled', 'transaction_settled'],
  ] as const)('refuses a %s transaction with 409 %s and writes nothing', async (status, code) => {
    withTransaction({ status });

    const result = await call();

    expect(result.statusCode).toBe(409);
    expect(parseBody(result).error.code).toBe(code);
    expect(transactions()).toHaveLength(0);
  });

  it('refuses more than is still held with 422 amount_exceeds_authorization', async () => {
    withTransaction({ held: 1000n, remainingHold: 400n });

    const result = await call({ amount: '4.01' });

    expect(result.statusCode).toBe(422);
    expect(parseBody(result).error.code).toBe('amount_exceeds_authorization');
    expect(transactions()).toHaveLength(0);
  });

  it('answers 404 for a transaction of another business, exactly as for a missing one', async () => {
    withTransaction({ businessId: OTHER_BUSINESS_ID });
    const other = await call();
    serveItems(ddb, []);
    const missing = await call();

    expect(other.statusCode).toBe(404);
    expect(parseBody(other).error.code).toBe('transaction_not_found');
    expect(parseBody(missing).error).toEqual({ ...parseBody(other).error, request_id: parseBody(missing).error.request_id });
  });

  it('reads the transaction consistently and pins the version it read', async () => {
    withTransaction({ version: 7 });

    const result = await call({ amount: '4' });

    expect(result.statusCode).toBe(200);
    const read = ddb.commandCalls(GetCommand)[0]!.args[0].input;
    expect(read.ConsistentRead).toBe(true);
    const [first] = transactions()[0]!;
    expect(first!.Put).toMatchObject({ ConditionExpression: 'version = :version', ExpressionAttributeValues: { ':version': 7 } });
    expect(first!.Put.Item.version).toBe(8);
  });

  it('reads again and decides again when the transaction changed meanwhile', async () => {
    ddb.on(GetCommand).resolvesOnce({ Item: transactionItem({ version: 1 }) }).resolves({ Item: transactionItem({ status: 'Reversed', version: 2 }) });
    ddb.on(TransactWriteCommand).rejects(cancelled(['ConditionalCheckFailed', 'None', 'None', 'None']));

    const result = await call();

    expect(result.statusCode).toBe(409);
    expect(parseBody(result).error.code).toBe('transaction_reversed');
    expect(ddb.commandCalls(GetCommand)).toHaveLength(2);
  });
});

describe('a partial reversal', () => {
  it('keeps the rest held and gives the reversed amount back to the balance and every window', async () => {
    withTransaction({ held: 1000n });

    const result = await reverse(adjustEvent('reverse', { amount: '2.5' }), lambdaContext);

    expect(parseBody(result)).toMatchObject({ status: 'Authorized' });
    const items = transactions()[0]!;
    expect(items[0]!.Put.Item).toMatchObject({ status: 'Authorized', remainingHold: 750n, reversedAmount: 250n });
    const counters = items.filter((item) => item.Update?.Key.SK.startsWith('SPEND#'));
    expect(counters.map((item) => item.Update.ExpressionAttributeValues[':amount'])).toEqual([-250n, -250n, -250n]);
    expect(counters.every((item) => item.Update.ConditionExpression === undefined)).toBe(true);
  });
});
