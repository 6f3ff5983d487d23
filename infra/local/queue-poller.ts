/**
 * The local SQS event source mapping: receives from a queue and invokes its consumer with
 * Lambda-shaped `SQSEvent`s, then does what the Lambda service does with the outcome:
 * - success: delete every message of the batch;
 * - `batchItemFailures`: delete all but the reported messages (a report naming a message that is
 *   not in the batch fails the whole batch);
 * - an error: delete nothing.
 * Messages not deleted come back when their visibility timeout ends (which a consumer may change
 * itself, e.g. for exponential backoff). A message received more than `maxReceiveCount` times is
 * moved to the DLQ instead of being delivered, as SQS's redrive does; the poller counts receives
 * itself because the emulator miscounts visibility changes (see sqs-server.ts), and hands the
 * consumer that count as `ApproximateReceiveCount`.
 */
import { DeleteMessageBatchCommand, DeleteMessageCommand, ReceiveMessageCommand, type Message, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
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
  /** Receives after which a message goes to the DLQ, and how it gets there (the caller then deletes it here). */
  maxReceiveCount: number;
  moveToDeadLetterQueue: (message: Message) => void;
  /** Concurrent batches, like Lambda's parallel pollers; a slow consumer then does not block the queue. */
  concurrency?: number;
  onError: (message: string, error: unknown) => void;
}

/**
 * Short polls (`WaitTimeSeconds: 0`) plus a pause when the queue is empty: local-aws-sqs answers a
 * long poll only when it has a full batch or the wait is over (so every delivery would wait the
 * whole wait), and it misbehaves when a long poll outlasts a message's visibility timeout.
 */
const IDLE_DELAY_MS = 100;

export function createQueuePoller(options: QueuePollerOptions): Poller {
  /** Receives of each message still in the queue, by message id. */
  const receives = new Map<string, number>();

  async function loop(control: PollControl): Promise<void> {
    while (!control.stopped) {
      const received = await options.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: Math.max(1, Math.min(options.batchSize, 10)),
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      const deliverable: Message[] = [];
      for (const message of received.Messages ?? []) {
        const count = (receives.get(message.MessageId as string) ?? 0) + 1;
        if (count > options.maxReceiveCount) await deadLetter(message);
        else {
          receives.set(message.MessageId as string, count);
          deliverable.push({ ...message, Attributes: { ...message.Attributes, ApproximateReceiveCount: String(count) } });
        }
      }
      // Once received, a batch is always handed to the consumer, even if a stop came meanwhile:
      // dropping it would only delay it by a visibility timeout.
      if (deliverable.length > 0) await deliver(deliverable);
      else if ((received.Messages ?? []).length === 0) await control.sleep(IDLE_DELAY_MS);
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
    for (const record of done) receives.delete(record.messageId);
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

  async function deadLetter(message: Message): Promise<void> {
    options.moveToDeadLetterQueue(message);
    receives.delete(message.MessageId as string);
    await options.sqs.send(new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: message.ReceiptHandle }));
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
