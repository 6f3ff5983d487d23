/**
 * Event-source wiring of the `consumers` table (shared/routes.ts): the table stream (the outbox)
 * and the SQS queues.
 *
 * The stream source never gives up on a record: a failing batch is retried without end (bisected
 * on an error, resumed from the first reported item failure otherwise) and never skipped or
 * aged out, so a committed event waits in the stream until the dispatcher queues it. A source with
 * finite retries would drop the batch after them, with only its shard and sequence numbers for
 * the on-failure destination: the event would be gone from the pipeline. The price is that one
 * record that can never be dispatched holds back its shard; the dispatcher reports only records
 * SQS refused, which succeed once SQS is back. The stream keeps records 24 h; for a dispatcher
 * down longer than that, the sweeper finds the events in the undelivered index instead.
 *
 * The stream DLQ stays the on-failure destination: with these settings Lambda never writes to it,
 * but it is where a batch would land if the settings were ever changed, it keeps (14 days) any
 * record written before this change, and `npm run admin -- dead-letters --queue stream` shows it.
 * A queue message that keeps failing is moved to its queue's DLQ by SQS redrive.
 */
import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { ConsumerRow, QueueName, QueueRow } from '../../shared/routes.ts';
import type { PlatformFunction } from './platform-function.ts';

/** Timeout of a stream consumer (queue consumers take theirs from the queue row). */
export const STREAM_CONSUMER_TIMEOUT = Duration.seconds(30);
/** Retries of a failing stream batch: -1 is without end (the Lambda API's "infinite"). */
export const STREAM_RETRY_ATTEMPTS = -1;
/** How old a stream record may get before Lambda skips it: -1 is never (up to the stream's retention). */
export const STREAM_MAX_RECORD_AGE_SECONDS = -1;

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
  const source = new DynamoEventSource(streamView(scope, fn, sources.table), {
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
  });
  target.addEventSource(source);
  // CDK's `maxRecordAge` takes a Duration of 60 s to 7 days; "never" is only spelt -1 in the API.
  const mappings = fn.node.children.filter((child): child is lambda.EventSourceMapping => child instanceof lambda.EventSourceMapping);
  if (mappings.length !== 1) throw new Error(`Stream consumer ${row.handler} should have one event source mapping, not ${mappings.length}`);
  (mappings[0]!.node.defaultChild as lambda.CfnEventSourceMapping).addPropertyOverride('MaximumRecordAgeInSeconds', STREAM_MAX_RECORD_AGE_SECONDS);
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
