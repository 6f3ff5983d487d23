/**
 * Event-source wiring of the `consumers` table (functions/routes.ts): the table stream (the outbox)
 * and the SQS queues. Every path ends somewhere visible: a stream batch that keeps failing is
 * bisected down to the poison record, which goes to the stream DLQ; a queue message that keeps
 * failing is moved to its queue's DLQ by SQS redrive.
 */
import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { ConsumerRow, QueueName, QueueRow } from '../../functions/routes.ts';
import type { PlatformFunction } from './platform-function.ts';

/** Timeout of a stream consumer (queue consumers take theirs from the queue row). */
export const STREAM_CONSUMER_TIMEOUT = Duration.seconds(30);
/** Retries of a failing stream batch (bisected each time) before its records go to the DLQ. */
export const STREAM_RETRY_ATTEMPTS = 10;

export function consumerTimeout(row: ConsumerRow, queueRows: readonly QueueRow[]): Duration {
  if (row.source.kind === 'stream') return STREAM_CONSUMER_TIMEOUT;
  const queueName = row.source.queue;
  const queue = queueRows.find((candidate) => candidate.name === queueName);
  if (!queue) throw new Error(`Consumer ${row.handler} reads queue "${queueName}", which is not in the queues table`);
  return Duration.seconds(queue.consumerTimeoutSeconds);
}

export interface ConsumerSources {
  table: dynamodb.ITable;
  /** Where the stream's poison records go (their shard and sequence numbers, for inspection). */
  streamDeadLetterQueue?: sqs.IQueue;
  queues: ReadonlyMap<QueueName, sqs.IQueue>;
  /** Most concurrent invocations per queue's consumer (stage config `deliveryConcurrency`). */
  queueConcurrency: Readonly<Record<QueueName, number>>;
}

/** Feeds `fn` from its row's source; the event source invokes `fn.invocationTarget` (its `live` alias on a canary stage). */
export function attachEventSource(scope: Construct, fn: PlatformFunction, row: ConsumerRow, sources: ConsumerSources): void {
  const target = fn.invocationTarget;
  if (row.source.kind === 'queue') {
    const queue = sources.queues.get(row.source.queue);
    if (!queue) throw new Error(`Consumer ${row.handler} reads queue "${row.source.queue}", which is not in the queues table`);
    // Maximum concurrency, not reserved concurrency: messages beyond it wait in the queue instead
    // of being throttled back into it (and towards the DLQ), and the other functions keep the
    // rest of the account's concurrency when partners' endpoints hang.
    target.addEventSource(
      new SqsEventSource(queue, { batchSize: row.batchSize, reportBatchItemFailures: true, maxConcurrency: sources.queueConcurrency[row.source.queue] }),
    );
    return;
  }
  if (!sources.streamDeadLetterQueue) throw new Error('A stream consumer needs the stream dead-letter queue');
  const filter = row.source.filter;
  target.addEventSource(
    new DynamoEventSource(streamView(scope, fn, sources.table), {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: row.batchSize,
      retryAttempts: STREAM_RETRY_ATTEMPTS,
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      onFailure: new SqsDlq(sources.streamDeadLetterQueue),
      filters: filter
        ? [
            lambda.FilterCriteria.filter({
              eventName: lambda.FilterRule.isEqual('INSERT'),
              dynamodb: { NewImage: { [filter.attribute]: { S: lambda.FilterRule.beginsWith(filter.beginsWith) } } },
            }),
          ]
        : undefined,
    }),
  );
}

/**
 * The stream as seen by an event source: the table without its encryption key. Granting stream
 * reads on the real table would also grant a plain `kms:Decrypt` on the data key, i.e. direct
 * envelope decryption; the consumer's row grants key use through DynamoDB only (access.ts).
 */
function streamView(scope: Construct, fn: lambda.Function, table: dynamodb.ITable): dynamodb.ITable {
  if (!table.tableStreamArn) throw new Error('The table has no stream');
  return dynamodb.Table.fromTableAttributes(scope, `${fn.node.id}StreamView`, {
    tableArn: table.tableArn,
    tableStreamArn: table.tableStreamArn,
  });
}
