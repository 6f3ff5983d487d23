/**
 * The local SQS event source mapping: receives from a queue and invokes its consumer with
 * Lambda-shaped `SQSEvent`s, then does what the Lambda service does with the outcome:
 * - success: delete every message of the batch;
 * - `batchItemFailures`: delete all but the reported messages (a report naming a message that is
 *   not in the batch fails the whole batch);
 * - an error: delete nothing.
 * Messages not deleted come back when their visibility timeout ends (which a consumer may change
 * itself, e.g. for exponential backoff) and are moved to the DLQ by the queue's redrive policy
 * after `maxReceiveCount` receives.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import type { LambdaHandler } from './handler-loader.ts';
import { lambdaContext } from './lambda-context.ts';
import { createPoller, type PollControl, type Poller } from './poller.ts';

export interface QueuePollerOptions {
  name: string;
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: () => Promise<LambdaHandler>;
  /** Messages per invocation (at most 10: one ReceiveMessage). */
  batchSize: number;
  /** The consumer's Lambda timeout, reported through `context.getRemainingTimeInMillis()`. */
  timeoutSeconds: number;
  region: string;
  accountId: string;
  /** Concurrent batches, like Lambda's parallel pollers; a slow consumer then does not block the queue. */
  concurrency?: number;
  onError: (message: string, error: unknown) => void;
}

/**
 * Kept short on purpose: local-aws-sqs misbehaves when a long poll outlasts a message's visibility
 * timeout, and it bounds how long `stop()` waits.
 */
const WAIT_TIME_SECONDS = 1;

export function createQueuePoller(options: QueuePollerOptions): Poller {
  async function loop(control: PollControl): Promise<void> {
    while (!control.stopped) {
      const received = await options.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: Math.max(1, Math.min(options.batchSize, 10)),
          WaitTimeSeconds: WAIT_TIME_SECONDS,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      const messages = received.Messages ?? [];
      // Once received, a batch is always handed to the consumer, even if a stop came meanwhile:
      // dropping it would only delay it by a visibility timeout.
      if (messages.length > 0) await deliver(messages);
    }
  }

  async function deliver(messages: Message[]): Promise<void> {
    const event: SQSEvent = { Records: messages.map((message) => sqsRecord(message, options.queueArn, options.region)) };
    let failed: Set<string>;
    try {
      const handler = await options.handler();
      const result = (await handler(event, lambdaContext(options.name, options.timeoutSeconds * 1000, options.region, options.accountId))) as SQSBatchResponse | undefined;
      failed = failedMessageIds(result, event.Records);
    } catch (error) {
      options.onError(`${options.name}: batch of ${messages.length} message(s) failed; they return after their visibility timeout`, error);
      return;
    }
    const done = event.Records.filter((record) => !failed.has(record.messageId));
    for (let i = 0; i < done.length; i += 10) {
      const chunk = done.slice(i, i + 10);
      const result = await options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: chunk.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
        }),
      );
      for (const failure of result.Failed ?? []) options.onError(`${options.name}: could not delete a processed message (${failure.Code}: ${failure.Message})`, undefined);
    }
  }

  return createPoller(options.name, loop, (error) => options.onError(`${options.name}: receiving failed`, error), options.concurrency ?? 2);
}

function failedMessageIds(result: SQSBatchResponse | undefined, records: SQSRecord[]): Set<string> {
  const reported = result?.batchItemFailures;
  if (!reported || reported.length === 0) return new Set();
  const ids = new Set(records.map((record) => record.messageId));
  if (reported.some((failure) => !failure?.itemIdentifier || !ids.has(failure.itemIdentifier))) return ids;
  return new Set(reported.map((failure) => failure.itemIdentifier));
}

/** A received message as Lambda delivers it. */
export function sqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const system = message.Attributes ?? {};
  const attributes: SQSRecordAttributes = {
    ...system,
    ApproximateReceiveCount: system.ApproximateReceiveCount ?? '1',
    SentTimestamp: system.SentTimestamp ?? String(Date.now()),
    SenderId: system.SenderId ?? 'local',
    ApproximateFirstReceiveTimestamp: system.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
  };
  return {
    messageId: message.MessageId as string,
    receiptHandle: message.ReceiptHandle as string,
    body: message.Body ?? '',
    attributes,
    messageAttributes: messageAttributes(message.MessageAttributes ?? {}),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

function messageAttributes(attributes: Record<string, MessageAttributeValue>): SQSMessageAttributes {
  const result: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes)) {
    result[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((item) => Buffer.from(item).toString('base64')),
    };
  }
  return result;
}
