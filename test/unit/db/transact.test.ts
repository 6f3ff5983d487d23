import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { BusinessRuleError } from '../../../shared/errors.ts';
import { failedConditionIndex, transactWrite } from '../../../shared/db/transact.ts';

const ddb = mockClient(DynamoDBDocumentClient);

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

const items = [{ Put: { TableName: 't', Item: { PK: 'a', SK: 'b' } } }];

describe('transactWrite', () => {
  beforeEach(() => ddb.reset());

  it('retries a TransactionConflict and then succeeds', async () => {
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled('TransactionConflict', 'None')).resolves({});
    await transactWrite(items);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it('gives up with a retryable 503 after repeated conflicts', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('TransactionConflict'));
    await expect(transactWrite(items, { maxAttempts: 3 })).rejects.toMatchObject({ statusCode: 503, code: 'service_unavailable' });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(3);
  });

  it('does not retry a failed condition and maps it to the caller\'s domain error', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));
    await expect(
      transactWrite(items, {
        onConditionFailed: (reasons) => new BusinessRuleError('insufficient_balance', `item ${failedConditionIndex(reasons)}`),
      }),
    ).rejects.toMatchObject({ statusCode: 422, code: 'insufficient_balance', message: 'item 1' });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('rethrows other cancellations untouched', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('ValidationError'));
    await expect(transactWrite(items)).rejects.toBeInstanceOf(TransactionCanceledException);
  });
});
