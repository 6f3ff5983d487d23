/**
 * The outbox dispatcher: the table stream's consumer, and the only producer of webhook messages.
 * Each newly committed outbox item (an event, or a partner's redelivery request) becomes one SQS
 * message on its event's queue: `otp` for 3DS codes, `events` for transaction events.
 *
 * The message is the event itself (id, business, payload, expiry, sealed OTP) and the delivery
 * generation it is queued for (1 for a new event, the request's for a redelivery). A record that
 * could not be queued is reported as a batch item failure and the stream delivers it (and those
 * after it) again, without end (infra/constructs/consumers.ts): at least once, never lost. A
 * duplicate message (the dispatcher sent, then failed before the stream recorded it) is acked by
 * the delivery function without a POST: it is not the message that owns its generation.
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import type { QueueName } from '../routes.ts';
import { logger } from '../logger.ts';
import { queuedEventOf } from '../db/outbox.ts';
import { sendMessages, webhookQueueUrl, type OutgoingMessage } from '../queues/sqs.ts';

export async function dispatchOutboxRecords(records: readonly DynamoDBRecord[]): Promise<DynamoDBBatchResponse> {
  const byQueue = new Map<QueueName, OutgoingMessage[]>();
  for (const record of records) {
    const image = record.dynamodb?.NewImage;
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    if (record.eventName !== 'INSERT' || !image || !sequenceNumber) continue;
    const event = queuedEventOf(unmarshall(image as Record<string, AttributeValue>, { wrapNumbers: true }));
    if (!event) continue;
    const messages = byQueue.get(event.queue) ?? [];
    messages.push({ id: sequenceNumber, body: JSON.stringify(event) });
    byQueue.set(event.queue, messages);
  }

  const failed: string[] = [];
  for (const [queue, messages] of byQueue) {
    failed.push(...(await sendMessages(webhookQueueUrl(queue), messages)));
  }
  if (failed.length > 0) logger.warn('outbox events not queued; the stream will deliver them again', { failed: failed.length });
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
