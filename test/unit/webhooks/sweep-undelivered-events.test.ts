/**
 * The webhook sweeper, through its exported scheduled handler with DynamoDB and SQS mocked: what
 * it reads (the undelivered index, overdue by the grace period, oldest first, bounded), what it
 * re-queues (a new generation, to the event's own queue, only if nothing happened to the event
 * since the read), and what it leaves alone.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ScheduledEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/webhooks/sweep-undelivered-events.ts';
import { resetConfigForTests } from '../../../shared/config.ts';
import { UNDELIVERED_SHARDS } from '../../../shared/db/keys.ts';
import { SWEEP_GRACE_SECONDS } from '../../../shared/domain/webhook-delivery.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const OTP_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/otp';
const EVENTS_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/events';
const run = () => handler({ 'detail-type': 'Scheduled Event' } as ScheduledEvent);

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
  ddb.reset();
  sqs.reset();
  ddb.on(QueryCommand).resolves({ Items: [] });
  ddb.on(UpdateCommand).resolves({});
  sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
});

const DUE = '2025-03-04T03:32:11.051702Z';
function overdue(id: string, extra: Record<string, unknown> = {}) {
  return {
    PK: `EVENT#${id}`,
    SK: 'EVENT',
    entity: 'event',
    eventId: id,
    businessId: 'b-1',
    type: 'transaction.authorization',
    queue: 'events',
    payload: '{"action":"Authorization"}',
    createdAt: DUE,
    deliveryStatus: 'pending',
    attemptCount: 0,
    generation: 1,
    GSI3PK: 'UNDELIVERED#1',
    GSI3SK: `${DUE}#${id}`,
    ...extra,
  };
}

const CONTENT = ['eventId', 'businessId', 'type', 'queue', 'payload', 'createdAt', 'deliverUntil'];
const STATE = ['deliveryStatus', 'attemptCount', 'generation', 'nextAttemptAt', 'sweepCount', 'GSI3PK', 'GSI3SK'];
const pick = (item: Record<string, unknown>, names: string[]) => Object.fromEntries(names.flatMap((name) => (item[name] === undefined ? [] : [[name, item[name]]])));

/** Overdue events as the undelivered index holds them: their delivery records; their events are read in a batch. */
function serveOverdue(events: ReturnType<typeof overdue>[]) {
  ddb.on(QueryCommand, { ExpressionAttributeValues: { ':partition': 'UNDELIVERED#1' } }).resolves({
    Items: events.map((event) => ({ PK: event.PK, SK: 'DELIVERY', entity: 'webhook_delivery', eventId: event.eventId, businessId: event.businessId, createdAt: event.createdAt, ...pick(event, STATE) })),
  });
  ddb.on(BatchGetCommand).resolves({ Responses: { [process.env.TABLE_NAME!]: events.map((event) => ({ PK: event.PK, SK: 'EVENT', entity: 'event', ...pick(event, CONTENT) })) } });
}

const queries = () => ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);
const updates = () => ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
const sent = () => sqs.commandCalls(SendMessageBatchCommand).flatMap((call) => call.args[0].input.Entries!.map((entry) => ({ url: call.args[0].input.QueueUrl, ...JSON.parse(entry.MessageBody!) })));

describe('the webhook sweeper', () => {
  it('reads every shard of the undelivered index for events overdue by the grace period, oldest first, a bounded number', async () => {
    const before = Date.now();
    await run();
    expect(queries()).toHaveLength(UNDELIVERED_SHARDS);
    for (const query of queries()) {
      expect(query).toMatchObject({ IndexName: 'GSI3', KeyConditionExpression: 'GSI3PK = :partition AND GSI3SK < :before', ScanIndexForward: true, Limit: Math.ceil(200 / UNDELIVERED_SHARDS) });
      const cutoff = Date.parse(String(query.ExpressionAttributeValues?.[':before']));
      expect(cutoff).toBeLessThanOrEqual(Date.now() - SWEEP_GRACE_SECONDS * 1000);
      expect(cutoff).toBeGreaterThanOrEqual(before - SWEEP_GRACE_SECONDS * 1000 - 1);
    }
    expect(new Set(queries().map((query) => query.ExpressionAttributeValues?.[':partition']))).toEqual(
      new Set(Array.from({ length: UNDELIVERED_SHARDS }, (_, shard) => `UNDELIVERED#${shard}`)),
    );
    expect(sent()).toEqual([]);
  });

  it("queues an overdue event again on its own queue, as its next generation, only if nothing happened to it since the read", async () => {
    serveOverdue([overdue('e-1'), overdue('e-2', { queue: 'otp', type: 'three_ds.otp', deliverUntil: Math.floor(Date.now() / 1000) + 60, generation: 4 })]);
    const report = await run();
    expect(report).toMatchObject({ overdue: 2, requeued: 2, moved: 0 });
    expect(sent()).toEqual([
      expect.objectContaining({ url: EVENTS_URL, eventId: 'e-1', generation: 2 }),
      expect.objectContaining({ url: OTP_URL, eventId: 'e-2', generation: 5 }),
    ]);
    const [first] = updates();
    expect(first?.Key).toEqual({ PK: 'EVENT#e-1', SK: 'DELIVERY' });
    expect(first?.ConditionExpression).toContain('GSI3SK = :seen');
    expect(first?.ExpressionAttributeValues).toMatchObject({ ':generation': 1, ':next': 2, ':seen': `${DUE}#e-1`, ':sweeps': 1, ':status': 'pending' });
    // Due again a grace period from now, not at once.
    const due = Date.parse(String(first?.ExpressionAttributeValues?.[':undeliveredKey']).split('#')[0]!);
    expect(due).toBeGreaterThanOrEqual(Date.now() + (SWEEP_GRACE_SECONDS - 5) * 1000);
  });

  it('sends nothing for an event that moved on since the read (an attempt, a redelivery, another run)', async () => {
    serveOverdue([overdue('e-3')]);
    // The record, read back with the refusal, shows an attempt since the read.
    const record = { PK: 'EVENT#e-3', SK: 'DELIVERY', deliveryStatus: 'retrying', generation: 1, GSI3SK: `${DUE}#later` };
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, Item: marshall(record) }));
    expect(await run()).toMatchObject({ overdue: 1, requeued: 0, moved: 1 });
    expect(sent()).toEqual([]);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('moves the state of an event committed before delivery records to a record of its own, then queues it', async () => {
    const legacy = overdue('e-6');
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':partition': 'UNDELIVERED#1' } }).resolves({ Items: [legacy] });
    ddb.on(UpdateCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }))
      .resolves({});
    ddb.on(GetCommand).resolves({ Item: legacy });
    ddb.on(TransactWriteCommand).resolves({});
    expect(await run()).toMatchObject({ overdue: 1, requeued: 1 });
    expect(sent()).toEqual([expect.objectContaining({ eventId: 'e-6', generation: 2 })]);
    const [move] = ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems!);
    expect(move![0]!.Put).toMatchObject({
      Item: { PK: 'EVENT#e-6', SK: 'DELIVERY', entity: 'webhook_delivery', deliveryStatus: 'pending', generation: 1, GSI3PK: 'UNDELIVERED#1', GSI3SK: `${DUE}#e-6` },
      ConditionExpression: 'attribute_not_exists(PK)',
    });
    expect(move![0]!.Put!.Item).not.toHaveProperty('payload');
    expect(move![1]!.Update).toMatchObject({ Key: { PK: 'EVENT#e-6', SK: 'EVENT' }, UpdateExpression: expect.stringMatching(/^SET deliveryRecord = :marked, generation = :handed REMOVE .*deliveryStatus.*GSI3PK, GSI3SK$/) });
    expect(updates().map((update) => update.Key)).toEqual([
      { PK: 'EVENT#e-6', SK: 'DELIVERY' },
      { PK: 'EVENT#e-6', SK: 'DELIVERY' },
    ]);
  });

  it("drops the index keys a release-2 function put back on an event whose state is on its record, and queues nothing for them", async () => {
    const stray = overdue('e-7', { deliveryRecord: true, generation: 0 });
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':partition': 'UNDELIVERED#1' } }).resolves({ Items: [stray] });
    expect(await run()).toMatchObject({ overdue: 0, requeued: 0 });
    expect(sent()).toEqual([]);
    expect(updates()).toEqual([
      expect.objectContaining({
        Key: { PK: 'EVENT#e-7', SK: 'EVENT' },
        UpdateExpression: 'REMOVE GSI3PK, GSI3SK',
        ConditionExpression: 'deliveryRecord = :marked AND GSI3SK = :seen',
        ExpressionAttributeValues: { ':marked': true, ':seen': `${DUE}#e-7` },
      }),
    ]);
  });

  it('marks an OTP past its expiry failed instead of queueing it', async () => {
    serveOverdue([overdue('e-4', { queue: 'otp', type: 'three_ds.otp', deliverUntil: Math.floor(Date.now() / 1000) - 1 })]);
    expect(await run()).toMatchObject({ expired: 1, requeued: 0 });
    expect(sent()).toEqual([]);
    expect(updates()[0]?.ExpressionAttributeValues).toMatchObject({ ':status': 'failed' });
    expect(updates()[0]?.UpdateExpression).toMatch(/REMOVE .*GSI3PK, GSI3SK/);
  });

  it('keeps a retrying event retrying, its next attempt now, and spaces repeated sweeps further apart', async () => {
    serveOverdue([overdue('e-5', { deliveryStatus: 'retrying', nextAttemptAt: DUE, attemptCount: 3, sweepCount: 2 })]);
    await run();
    const values = updates()[0]?.ExpressionAttributeValues;
    expect(values).toMatchObject({ ':status': 'retrying', ':sweeps': 3, ':nextAttempt': expect.any(String) });
    const due = Date.parse(String(values?.[':undeliveredKey']).split('#')[0]!);
    expect(due).toBeGreaterThanOrEqual(Date.now() + (4 * SWEEP_GRACE_SECONDS - 5) * 1000);
  });
});
