/**
 * The SQS client and the few calls the platform makes: the dispatcher's sends, a delivery
 * consumer's backoff (`ChangeMessageVisibility`), and the operator's redrive. Endpoints come from
 * the SDK's own `AWS_ENDPOINT_URL_SQS`, so the same calls reach the local stack's SQS server.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { QueueName } from '../routes.ts';
import { config } from '../config.ts';
import { assertKeyGrant } from '../crypto/local-key-policy.ts';

let client: SQSClient | undefined;

export function sqs(): SQSClient {
  client ??= new SQSClient({ maxAttempts: 4 });
  return client;
}

export function resetSqsForTests(): void {
  client = undefined;
  queueUrls.clear();
}

export interface OutgoingMessage {
  /** Unique within one call; reported back for entries that failed. */
  id: string;
  body: string;
}

/** Sends messages in batches of ten; returns the ids of those SQS did not accept. */
export async function sendMessages(queueUrl: string, messages: readonly OutgoingMessage[]): Promise<Set<string>> {
  const failed = new Set<string>();
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    try {
      const result = await sqs().send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map((m, index) => ({ Id: String(index), MessageBody: m.body })) }),
      );
      for (const failure of result.Failed ?? []) failed.add(chunk[Number(failure.Id)]!.id);
    } catch {
      for (const message of chunk) failed.add(message.id);
    }
  }
  return failed;
}

/** A webhook queue's URL, from the variable the stack sets on every function whose row sends to it. */
export function webhookQueueUrl(queue: QueueName): string {
  // Only a row whose `sendTo` lists the queue gets its URL and may send to it (local-key-policy.ts).
  assertKeyGrant('sendTo', queue);
  const cfg = config();
  const url = queue === 'otp' ? cfg.OTP_QUEUE_URL : cfg.EVENTS_QUEUE_URL;
  if (!url) throw new Error(`No URL configured for the ${queue} queue`);
  return url;
}

/** Hides a received message for `seconds` more: how a consumer schedules its next retry. */
export async function delayMessage(queueArn: string, receiptHandle: string, seconds: number): Promise<void> {
  await sqs().send(new ChangeMessageVisibilityCommand({ QueueUrl: await queueUrlOf(queueArn), ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }));
}

const queueUrls = new Map<string, Promise<string>>();

/**
 * A queue's URL from the ARN Lambda puts on each record (`arn:aws:sqs:<region>:<account>:<name>`),
 * looked up once per container; the event source mapping already grants `sqs:GetQueueUrl`.
 */
export function queueUrlOf(queueArn: string): Promise<string> {
  let url = queueUrls.get(queueArn);
  if (!url) {
    const name = queueArn.split(':').pop();
    if (!name) throw new Error(`Not a queue ARN: ${queueArn}`);
    url = sqs()
      .send(new GetQueueUrlCommand({ QueueName: name }))
      .then((result) => {
        if (!result.QueueUrl) throw new Error(`No URL for queue ${name}`);
        return result.QueueUrl;
      });
    url.catch(() => queueUrls.delete(queueArn));
    queueUrls.set(queueArn, url);
  }
  return url;
}

/** The dead-letter queue of `queueUrl`, from its redrive policy. */
export async function deadLetterQueueUrlOf(queueUrl: string): Promise<string> {
  const attributes = await sqs().send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }));
  const policy = attributes.Attributes?.RedrivePolicy;
  if (!policy) throw new Error(`Queue ${queueUrl} has no dead-letter queue`);
  const arn = (JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn;
  if (!arn) throw new Error(`Queue ${queueUrl} has no dead-letter queue`);
  return queueUrlOf(arn);
}

/** Up to ten messages, hidden from other readers for `visibilitySeconds` while the caller handles them. */
export async function receiveMessages(queueUrl: string, visibilitySeconds: number, waitSeconds: number): Promise<Message[]> {
  const result = await sqs().send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: visibilitySeconds, WaitTimeSeconds: waitSeconds }),
  );
  return result.Messages ?? [];
}

/** Messages in a queue, visible or not (SQS's approximate counts). */
export async function approximateMessageCount(queueUrl: string): Promise<number> {
  const attributes = await sqs().send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  const count = (name: string) => Number(attributes.Attributes?.[name as keyof typeof attributes.Attributes] ?? 0);
  return count('ApproximateNumberOfMessages') + count('ApproximateNumberOfMessagesNotVisible') + count('ApproximateNumberOfMessagesDelayed');
}

export async function deleteMessages(queueUrl: string, receiptHandles: readonly string[]): Promise<void> {
  for (let i = 0; i < receiptHandles.length; i += 10) {
    const chunk = receiptHandles.slice(i, i + 10);
    const result = await sqs().send(
      new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map((handle, index) => ({ Id: String(index), ReceiptHandle: handle })) }),
    );
    if (result.Failed?.length) throw new Error(`Could not delete ${result.Failed.length} message(s) from ${queueUrl}`);
  }
}
