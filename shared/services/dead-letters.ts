/**
 * `npm run admin -- redrive`: moves dead-lettered webhook messages back to their queue, where the
 * delivery function tries them again with a fresh retry schedule (and the same `webhook-id`).
 *
 * A move is receive (from the DLQ), mark the event pending, send (to the queue), then delete
 * (from the DLQ). A crash in between leaves the message in the DLQ, or in both queues: never in
 * neither. It is done with plain SQS calls rather than a message move task, so a moved message is
 * a new message whose receive count starts again at one, which the retry schedule counts on.
 */
import type { QueueName } from '../../functions/routes.ts';
import { config } from '../config.ts';
import { setDeliveryStatus } from '../db/events-repository.ts';
import { deadLetterQueueUrlOf, deleteMessages, receiveMessages, sendMessages } from '../queues/sqs.ts';

/** Long enough to send and delete a batch before another reader could see it. */
const HIDE_WHILE_MOVING_SECONDS = 60;

export interface RedriveReport {
  queue: QueueName;
  moved: number;
}

export async function redriveDeadLetters(queue: QueueName): Promise<RedriveReport> {
  const cfg = config();
  const queueUrl = queue === 'otp' ? cfg.OTP_QUEUE_URL : cfg.EVENTS_QUEUE_URL;
  if (!queueUrl) throw new Error(`No URL known for the ${queue} queue`);
  const deadLetterUrl = await deadLetterQueueUrlOf(queueUrl);
  let moved = 0;
  for (;;) {
    const messages = await receiveMessages(deadLetterUrl, HIDE_WHILE_MOVING_SECONDS, 1);
    if (messages.length === 0) return { queue, moved };
    // Pending first: once sent, the delivery may record its outcome at any moment.
    for (const message of messages) {
      const eventId = eventIdOf(message.Body);
      if (eventId) await setDeliveryStatus(eventId, 'pending').catch(() => undefined);
    }
    const failed = await sendMessages(queueUrl, messages.map((message) => ({ id: message.MessageId ?? '', body: message.Body ?? '' })));
    const sent = messages.filter((message) => !failed.has(message.MessageId ?? ''));
    await deleteMessages(deadLetterUrl, sent.map((message) => message.ReceiptHandle ?? ''));
    moved += sent.length;
    if (failed.size > 0) throw new Error(`${failed.size} message(s) could not be sent back to the ${queue} queue; they stay in its DLQ (moved ${moved})`);
  }
}

function eventIdOf(body: string | undefined): string | undefined {
  try {
    const eventId = (JSON.parse(body ?? '') as { eventId?: unknown }).eventId;
    return typeof eventId === 'string' ? eventId : undefined;
  } catch {
    return undefined;
  }
}
