/**
 * The outbox dispatcher: the table stream's consumer, and the only producer of webhook messages.
 * Each newly committed outbox item (an event, or a partner's redelivery request) becomes one SQS
 * message on its event's queue: `otp` for 3DS codes, `events` for transaction events.
 *
 * The message is the event itself (id, business, payload, expiry, sealed OTP), so a delivery needs
 * no read of the event. A record that could not be queued is reported as a batch item failure and
 * the stream delivers it (and those after it) again: at least once, never lost; a duplicate
 * message is harmless, since it carries the same `webhook-id`.
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import type { QueueName } from '../../functions/routes.ts';
import { config } from '../config.ts';
import { logger } from '../logger.ts';
import { outboxEventOf } from '../db/outbox.ts';
import { sendMessages, type OutgoingMessage } from '../queues/sqs.ts';

export async function dispatchOutboxRecords(records: readonly DynamoDBRecord[]): Promise<DynamoDBBatchResponse> {
  const byQueue = new Map<QueueName, OutgoingMessage[]>();
  for (const record of records) {
    const image = record.dynamodb?.NewImage;
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    if (record.eventName !== 'INSERT' || !image || !sequenceNumber) continue;
    const event = outboxEventOf(unmarshall(image as Record<string, AttributeValue>, { wrapNumbers: true }));
    if (!event) continue;
    const messages = byQueue.get(event.queue) ?? [];
    messages.push({ id: sequenceNumber, body: JSON.stringify(event) });
    byQueue.set(event.queue, messages);
  }

  const failed: string[] = [];
  for (const [queue, messages] of byQueue) {
    failed.push(...(await sendMessages(queueUrlOf(queue), messages)));
  }
  if (failed.length > 0) logger.warn('outbox events not queued; the stream will deliver them again', { failed: failed.length });
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}

function queueUrlOf(queue: QueueName): string {
  const cfg = config();
  const url = queue === 'otp' ? cfg.OTP_QUEUE_URL : cfg.EVENTS_QUEUE_URL;
  if (!url) throw new Error(`No URL configured for the ${queue} queue`);
  return url;
}
