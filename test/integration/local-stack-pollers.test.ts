/**
 * The local stack's event source mappings and schedules behave like Lambda's and EventBridge's:
 * the stream poller delivers table writes as DynamoDBStreamEvents and never skips a failed record
 * nor gives up on one; the queue pollers delete only what the consumer accepted and leave the rest
 * to visibility and the DLQ; each scheduled function of the route table runs on its timer.
 *
 * This suite starts its own in-memory stack, with test consumers that are not in the route table.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import type { DynamoDBRecord, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';

const run = randomUUID();
const WAIT = { timeout: 30_000, interval: 100 };

/** Stream records seen by the consumer that accepts everything under `TEST#<run>#`. */
const streamed: DynamoDBRecord[] = [];
/** Stream records seen by the consumer that fails each `FLAKY#` record the first time. */
const flakyAttempts: DynamoDBRecord[] = [];
const failedOnce = new Set<string>();
/** Stream records seen by the consumer that fails the `STUBBORN#` record many times before accepting it. */
const stubbornAttempts: DynamoDBRecord[] = [];
const STUBBORN_FAILURES = 15;
/** Queue deliveries by message body. */
const deliveries = new Map<string, SQSRecord[]>();

let stack: LocalStack;
let dynamodb: DynamoDBClient;
let sqs: SQSClient;

async function acceptStream(event: DynamoDBStreamEvent) {
  streamed.push(...event.Records);
}

async function failFlakyOnce(event: DynamoDBStreamEvent) {
  flakyAttempts.push(...event.Records);
  const first = event.Records.find((record) => !failedOnce.has(record.dynamodb?.SequenceNumber ?? ''));
  if (first) {
    failedOnce.add(first.dynamodb?.SequenceNumber ?? '');
    throw new Error('consumer failure (intended by the test)');
  }
}

/** Reports the `STUBBORN#` record of sort key `1` failed until it has seen it STUBBORN_FAILURES times. */
async function failStubbornly(event: DynamoDBStreamEvent): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> {
  stubbornAttempts.push(...event.Records);
  const first = event.Records.find((record) => record.dynamodb?.Keys?.SK?.S === '1');
  const seen = stubbornAttempts.filter((record) => record.dynamodb?.Keys?.SK?.S === '1').length;
  if (first && seen <= STUBBORN_FAILURES) return { batchItemFailures: [{ itemIdentifier: first.dynamodb?.SequenceNumber ?? '' }] };
  return { batchItemFailures: [] };
}

/**
 * Accepts everything except: bodies starting with `poison`, which it reports as failed; and a body
 * starting with `crash` on its first delivery, for which it throws. Either way it first makes the
 * message visible again at once, as a consumer with its own backoff chooses when a message returns.
 */
async function consumeQueue(event: SQSEvent): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  const retryNow = (record: SQSRecord) =>
    sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: stack.queues['local-stack-test']?.url, ReceiptHandle: record.receiptHandle, VisibilityTimeout: 0 }));
  for (const record of event.Records) {
    deliveries.set(record.body, [...(deliveries.get(record.body) ?? []), record]);
    if (record.body.startsWith('poison')) {
      await retryNow(record);
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
    if (record.body.startsWith('crash') && record.attributes.ApproximateReceiveCount === '1') {
      await retryNow(record);
      throw new Error('consumer crash (intended by the test)');
    }
  }
  return { batchItemFailures };
}

beforeAll(async () => {
  stack = await startLocalStack({
    inMemory: true,
    port: 0,
    quiet: true,
    extraQueues: [{ name: 'local-stack-test', consumerTimeoutSeconds: 5, maxReceiveCount: 2 }],
    extraConsumers: [
      { name: 'test-stream', handler: acceptStream, source: { kind: 'stream', filter: { attribute: 'PK', beginsWith: `TEST#${run}#` } }, batchSize: 10 },
      { name: 'test-flaky-stream', handler: failFlakyOnce, source: { kind: 'stream', filter: { attribute: 'PK', beginsWith: `FLAKY#${run}#` } }, batchSize: 10 },
      {
        name: 'test-stubborn-stream',
        handler: failStubbornly,
        source: { kind: 'stream', filter: { attribute: 'PK', beginsWith: `STUBBORN#${run}#` } },
        batchSize: 10,
        maxRetryDelayMs: 20,
      },
      { name: 'test-queue', handler: consumeQueue, source: { kind: 'queue', queue: 'local-stack-test' }, batchSize: 10 },
    ],
    scheduleIntervalMs: 300,
  });
  const config = { region: stack.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  dynamodb = new DynamoDBClient({ ...config, endpoint: stack.endpoints.dynamodb });
  sqs = new SQSClient({ ...config, endpoint: stack.endpoints.sqs });
});

afterAll(async () => {
  dynamodb?.destroy();
  sqs?.destroy();
  await stack?.stop();
});

async function put(pk: string, extra: Record<string, { S: string }> = {}) {
  await dynamodb.send(new PutItemCommand({ TableName: stack.tableName, Item: { PK: { S: pk }, SK: { S: 'ITEM' }, note: { S: 'hello' }, ...extra } }));
}

const keysOf = (records: DynamoDBRecord[]) => records.map((record) => record.dynamodb?.Keys?.PK?.S);

describe('stream poller', () => {
  it('delivers a table write as a Lambda-shaped DynamoDBStreamEvent record', async () => {
    const pk = `TEST#${run}#shape`;
    await put(pk);
    await vi.waitFor(() => expect(keysOf(streamed)).toContain(pk), WAIT);
    const record = streamed.find((candidate) => candidate.dynamodb?.Keys?.PK?.S === pk);
    expect(record).toMatchObject({
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      eventSourceARN: stack.streamArn,
      awsRegion: stack.region,
      dynamodb: {
        Keys: { PK: { S: pk }, SK: { S: 'ITEM' } },
        NewImage: { PK: { S: pk }, SK: { S: 'ITEM' }, note: { S: 'hello' } },
        SequenceNumber: expect.any(String),
        StreamViewType: 'NEW_IMAGE',
        ApproximateCreationDateTime: expect.any(Number),
      },
    });
  });

  it('passes only records the consumer row filter selects (inserts with the key prefix)', async () => {
    await put(`OTHER#${run}#ignored`);
    await put(`TEST#${run}#after-ignored`);
    await vi.waitFor(() => expect(keysOf(streamed)).toContain(`TEST#${run}#after-ignored`), WAIT);
    expect(keysOf(streamed)).not.toContain(`OTHER#${run}#ignored`);
    // An update of a selected item is not an insert.
    await put(`TEST#${run}#after-ignored`, { note: { S: 'changed' } });
    await put(`TEST#${run}#marker`);
    await vi.waitFor(() => expect(keysOf(streamed)).toContain(`TEST#${run}#marker`), WAIT);
    expect(keysOf(streamed).filter((key) => key === `TEST#${run}#after-ignored`)).toHaveLength(1);
  });

  it('retries a failed batch from the failed record, in order, without skipping it', async () => {
    const keys = [1, 2, 3].map((n) => `FLAKY#${run}#${n}`);
    for (const key of keys) await put(key);
    await vi.waitFor(() => expect(keysOf(flakyAttempts)).toContain(keys[2]), WAIT);
    await vi.waitFor(() => {
      // Each record's first delivery failed, so each was delivered again; the last attempts are in write order.
      for (const key of keys) expect(keysOf(flakyAttempts).filter((seen) => seen === key).length).toBeGreaterThanOrEqual(2);
    }, WAIT);
    const lastSeen = keys.map((key) => keysOf(flakyAttempts).lastIndexOf(key));
    expect([...lastSeen].sort((a, b) => a - b)).toEqual(lastSeen);
  });

  it('never gives up on a record the consumer keeps failing (past the 10 retries Lambda used to allow), nor delivers what follows it first', async () => {
    // One item collection, so one shard: the stream orders its records.
    const pk = `STUBBORN#${run}#item`;
    await put(pk, { SK: { S: '1' } });
    await put(pk, { SK: { S: '2' } });
    const sortKeys = () => stubbornAttempts.map((record) => record.dynamodb?.Keys?.SK?.S);
    await vi.waitFor(() => {
      expect(sortKeys().filter((key) => key === '1').length).toBe(STUBBORN_FAILURES + 1);
      expect(sortKeys()).toContain('2');
    }, WAIT);
    const seen = sortKeys();
    // The second record only ever came right behind the first: never on its own, never first.
    seen.forEach((key, i) => {
      if (key === '2') expect(seen[i - 1]).toBe('1');
    });
    expect(seen.slice(seen.lastIndexOf('1'))).toEqual(['1', '2']);
  });

  it('delivers what was written while it was stopped once it is started again', async () => {
    await stack.pollers.stream.stop();
    expect(stack.pollers.byName['test-stream']?.running).toBe(false);
    const pk = `TEST#${run}#while-stopped`;
    await put(pk);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(keysOf(streamed)).not.toContain(pk);
    stack.pollers.stream.start();
    await vi.waitFor(() => expect(keysOf(streamed)).toContain(pk), WAIT);
    expect(keysOf(streamed).filter((key) => key === pk)).toHaveLength(1);
  });
});

describe('schedules', () => {
  it("runs each scheduled function of the route table on its timer, with its row's grants: the sweeper queues an overdue event", async () => {
    const { eventKeys } = await import('../../shared/db/keys.ts');
    // Neither the stream (which would queue the new item itself) nor a delivery gets in the way.
    const dispatcher = stack.pollers.byName['webhooks/dispatch-outbox-events']!;
    const delivery = stack.pollers.byName['webhooks/deliver-transaction-event']!;
    expect(stack.pollers.byName['webhooks/sweep-undelivered-events']?.running).toBe(true);
    await Promise.all([dispatcher.stop(), delivery.stop()]);
    try {
      const eventId = randomUUID();
      const longAgo = '2020-01-01T00:00:00.000000Z';
      const index = eventKeys.undeliveredIndex(eventId, longAgo);
      await dynamodb.send(
        new PutItemCommand({
          TableName: stack.tableName,
          Item: {
            PK: { S: `EVENT#${eventId}` }, SK: { S: 'EVENT' }, entity: { S: 'event' }, eventId: { S: eventId }, businessId: { S: randomUUID() },
            type: { S: 'transaction.authorization' }, queue: { S: 'events' }, payload: { S: '{}' }, createdAt: { S: longAgo },
            deliveryStatus: { S: 'pending' }, attemptCount: { N: '0' }, generation: { N: '1' }, GSI3PK: { S: index.GSI3PK }, GSI3SK: { S: index.GSI3SK },
          },
        }),
      );
      let queued: any;
      await vi.waitFor(async () => {
        const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.queues.events!.url, WaitTimeSeconds: 0, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
        queued = received.Messages?.map((message) => JSON.parse(message.Body ?? '{}')).find((message) => message.eventId === eventId);
        expect(queued).toBeDefined();
      }, WAIT);
      expect(queued).toMatchObject({ eventId, queue: 'events', generation: 2 });
    } finally {
      dispatcher.start();
      delivery.start();
    }
  });
});

describe('queue poller', () => {
  it('deletes accepted messages, redelivers reported failures, and leaves a poison message in the DLQ after maxReceiveCount', async () => {
    const queue = stack.queues['local-stack-test'];
    if (!queue) throw new Error('test queue missing');
    const good = `good-${run}`;
    const poison = `poison-${run}`;
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: [{ Id: 'good', MessageBody: good }, { Id: 'poison', MessageBody: poison }] }));

    let deadLettered: Message | undefined;
    await vi.waitFor(async () => {
      const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.dlqUrl, WaitTimeSeconds: 0, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
      deadLettered ??= received.Messages?.find((message) => message.Body === poison);
      expect(deadLettered).toBeDefined();
    }, WAIT);

    // maxReceiveCount = 2: delivered twice (its visibility changes are not receives), then moved
    // as SQS moves it: same message id, source recorded. The good message once, and deleted.
    expect(deliveries.get(poison)?.map((record) => record.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    expect(deadLettered?.MessageId).toBe(deliveries.get(poison)?.[0]?.messageId);
    expect(deliveries.get(good)).toHaveLength(1);
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    expect(attributes.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
  });

  it('lets the operator move dead-lettered messages back to their source queue (redrive), where they are delivered again', async () => {
    const queue = stack.queues['local-stack-test'];
    if (!queue) throw new Error('test queue missing');
    const poison = `poison-${run}`;
    await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: queue.dlqArn }));
    // Still poison: two more deliveries, counted afresh, and back to the DLQ.
    await vi.waitFor(() => expect(deliveries.get(poison)?.map((record) => record.attributes.ApproximateReceiveCount)).toEqual(['1', '2', '1', '2']), WAIT);
  });

  it('deletes nothing of a batch whose consumer throws, so the message is delivered again', async () => {
    const queue = stack.queues['local-stack-test'];
    if (!queue) throw new Error('test queue missing');
    const crash = `crash-${run}`;
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: [{ Id: 'crash', MessageBody: crash }] }));
    await vi.waitFor(() => expect(deliveries.get(crash)).toHaveLength(2), WAIT);
    expect(deliveries.get(crash)?.map((record) => record.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    await vi.waitFor(async () => {
      const attributes = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      expect(attributes.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
    }, WAIT);
  });

  it('hands the consumer Lambda-shaped SQS records', () => {
    const record = deliveries.get(`good-${run}`)?.[0];
    expect(record).toMatchObject({
      messageId: expect.any(String),
      receiptHandle: expect.any(String),
      body: `good-${run}`,
      eventSource: 'aws:sqs',
      eventSourceARN: stack.queues['local-stack-test']?.arn,
      awsRegion: stack.region,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: expect.any(String) },
      md5OfBody: expect.any(String),
    });
  });
});
