import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { transaction, transactWrite, UntaggedConditionFailed, type TransactItem } from '../../../shared/db/transact.ts';

const ddb = mockClient(DynamoDBDocumentClient);

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

const put = (pk: string): TransactItem => ({ Put: { TableName: 't', Item: { PK: pk, SK: 'S' }, ConditionExpression: 'attribute_not_exists(PK)' } });

/** user check, balance, card, a fresh put (untagged). */
function transfer() {
  return transaction<'user' | 'balance' | 'card'>()
    .add(put('USER#u'), 'user')
    .add(put('BALANCE#b'), 'balance')
    .add(put('CARD#c'), 'card')
    .add(put('TXN#t'));
}

const tokens = () => ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.ClientRequestToken);

describe('transaction', () => {
  beforeEach(() => ddb.reset());

  it('commits the items in the order they were added, with a request token', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await expect(transfer().commit()).resolves.toEqual({ committed: true });
    const [call] = ddb.commandCalls(TransactWriteCommand);
    expect(call!.args[0].input.TransactItems!.map((item) => item.Put!.Item!.PK)).toEqual(['USER#u', 'BALANCE#b', 'CARD#c', 'TXN#t']);
    expect(call!.args[0].input.ClientRequestToken).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('maps a cancellation to the tags of the items whose condition failed, without retrying', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed', 'ConditionalCheckFailed', 'None'));
    const result = await transfer().commit();
    expect(result).toEqual({ committed: false, failed: new Set(['balance', 'card']) });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('reports a tag once however many of its items failed', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'ConditionalCheckFailed'));
    const result = await transaction<'check'>().add(put('A'), 'check').add(put('B'), 'check').commit();
    expect(result.committed).toBe(false);
    expect(!result.committed && [...result.failed]).toEqual(['check']);
  });

  it('reads its own posting already there as its earlier commit, whose answer was lost (not a refusal, not a broken invariant)', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'ConditionalCheckFailed', 'None'));
    const move = transaction<'stale'>().add(put('TXN#t'), 'stale').add(put('POSTING#p')).add(put('EVENT#e'));
    await expect(move.commit()).resolves.toEqual({ committed: true });
  });

  it('retries a TransactionConflict with a new token per attempt, then commits', async () => {
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled('TransactionConflict', 'None', 'None', 'None')).resolves({});
    await expect(transfer().commit()).resolves.toEqual({ committed: true });
    const sent = tokens();
    expect(sent).toHaveLength(2);
    expect(sent[0]).not.toEqual(sent[1]);
  });

  it('retries a throttled item with a new token too', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('None', 'ThrottlingError', 'None', 'None'))
      .rejectsOnce(cancelled('None', 'None', 'ThrottlingError', 'None'))
      .resolves({});
    await expect(transfer().commit()).resolves.toEqual({ committed: true });
    expect(new Set(tokens()).size).toBe(3);
  });

  it('answers a failed condition over a conflict in the same cancellation (no retry)', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('TransactionConflict', 'ConditionalCheckFailed', 'None', 'None'));
    await expect(transfer().commit()).resolves.toEqual({ committed: false, failed: new Set(['balance']) });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('gives up with a retryable 503 after repeated conflicts', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('TransactionConflict'));
    await expect(transfer().commit({ maxAttempts: 3 })).rejects.toMatchObject({ statusCode: 503, code: 'service_unavailable' });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(3);
  });

  it('throws, naming the index, when an untagged item fails its condition, whatever else failed', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None', 'ConditionalCheckFailed'));
    const release = { Update: { TableName: 't', Key: { PK: 'BALANCE#b', SK: 'S' }, UpdateExpression: 'ADD held :minus', ConditionExpression: 'held >= :amount' } };
    const error = await transaction<'user'>()
      .add(put('USER#u'), 'user')
      .add(put('CARD#c'))
      .add(release as TransactItem)
      .commit()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UntaggedConditionFailed);
    expect(error).toMatchObject({ index: 2, message: expect.stringContaining('item 2 (Update on a BALANCE# item)') });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('reads an untagged Put of a fresh id that finds its item there as its own earlier commit', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None', 'None', 'ConditionalCheckFailed'));
    await expect(transfer().commit()).resolves.toEqual({ committed: true });
  });

  it('rethrows other cancellations untouched', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('ValidationError'));
    await expect(transfer().commit()).rejects.toBeInstanceOf(TransactionCanceledException);
  });

  it('takes the same tagged entries as a list', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));
    const result = await transactWrite<'first' | 'second'>([
      { item: put('A'), tag: 'first' },
      { item: put('B'), tag: 'second' },
    ]);
    expect(result).toEqual({ committed: false, failed: new Set(['second']) });
  });
});
