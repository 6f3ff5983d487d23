/**
 * The outbox dispatcher: each new outbox item on the stream becomes one message on its event's
 * queue; what SQS does not accept is reported so the stream delivers it again.
 */
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/webhooks/dispatch-outbox-events.ts';
import { resetConfigForTests } from '../../../shared/config.ts';

const sqs = mockClient(SQSClient);
const OTP_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/otp';
const EVENTS_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/events';

beforeAll(() => {
  process.env.OTP_QUEUE_URL = OTP_URL;
  process.env.EVENTS_QUEUE_URL = EVENTS_URL;
  resetConfigForTests();
});
afterAll(() => {
  delete process.env.OTP_QUEUE_URL;
  delete process.env.EVENTS_QUEUE_URL;
  resetConfigForTests();
});
beforeEach(() => {
  sqs.reset();
  sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
});

function inserted(sequenceNumber: string, item: Record<string, unknown>, eventName: 'INSERT' | 'MODIFY' = 'INSERT'): DynamoDBRecord {
  return { eventName, dynamodb: { SequenceNumber: sequenceNumber, NewImage: marshall(item, { removeUndefinedValues: true }) as never } };
}

const event = (id: string, queue: 'otp' | 'events', extra: Record<string, unknown> = {}) => ({
  PK: `EVENT#${id}`,
  SK: 'EVENT',
  entity: 'event',
  eventId: id,
  businessId: 'b-1',
  type: queue === 'otp' ? 'three_ds.otp' : 'transaction.authorization',
  queue,
  payload: '{"action":"Authorization"}',
  createdAt: '2025-03-04T03:32:11.051702Z',
  deliveryStatus: 'pending',
  attemptCount: 0,
  generation: 1,
  ...extra,
});

const sent = () => sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);

describe('the outbox dispatcher', () => {
  it('queues each new event on its queue, the message carrying the event (sealed code included)', async () => {
    const result = await handler(
      {
        Records: [
          inserted('1', event('e-1', 'events')),
          inserted('2', event('e-2', 'otp', { deliverUntil: 1_900_000_000, otpSealed: 'sealed' })),
          inserted('3', event('e-3', 'events')),
        ],
      }
    );
    expect(result).toEqual({ batchItemFailures: [] });
    const byQueue = Object.fromEntries(sent().map((input) => [input.QueueUrl, input.Entries!.map((entry) => JSON.parse(entry.MessageBody!))]));
    expect(byQueue[EVENTS_URL]!.map((m: { eventId: string }) => m.eventId)).toEqual(['e-1', 'e-3']);
    expect(byQueue[OTP_URL]).toEqual([
      { eventId: 'e-2', businessId: 'b-1', type: 'three_ds.otp', queue: 'otp', payload: '{"action":"Authorization"}', createdAt: '2025-03-04T03:32:11.051702Z', deliverUntil: 1_900_000_000, otpSealed: 'sealed', generation: 1 },
    ]);
  });

  it('queues a redelivery request as the event it names (same id, so the same webhook-id), for the generation it starts', async () => {
    await handler({ Records: [inserted('9', { ...event('e-4', 'events'), SK: 'REDELIVERY#r-1', entity: 'event_redelivery', deliveryStatus: undefined, generation: 3 })] });
    expect(JSON.parse(sent()[0]!.Entries![0]!.MessageBody!)).toMatchObject({ eventId: 'e-4', queue: 'events', generation: 3 });
  });

  it('ignores updates and items that are not outbox items', async () => {
    await handler({ Records: [inserted('1', event('e-5', 'events'), 'MODIFY'), inserted('2', { PK: 'EVENT#x', SK: 'OTHER', entity: 'other' })] });
    expect(sent()).toEqual([]);
  });

  it('reports the records SQS did not take, so the stream delivers them again', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: '' }], Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false }] });
    const result = await handler({ Records: [inserted('10', event('e-6', 'events')), inserted('11', event('e-7', 'events'))] });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: '11' }] });
  });

  it('reports every record of a batch SQS refused outright', async () => {
    sqs.on(SendMessageBatchCommand).rejects(new Error('throttled'));
    const result = await handler({ Records: [inserted('20', event('e-8', 'otp')), inserted('21', event('e-9', 'otp'))] });
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['20', '21']);
  });
});
