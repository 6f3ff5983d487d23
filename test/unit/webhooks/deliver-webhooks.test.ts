/**
 * The delivery functions' decisions, through the exported handlers with DynamoDB and SQS mocked
 * and a real HTTP receiver: which messages may attempt their event at all (the claim), what is
 * recorded, when a message comes back, when it is left for the DLQ, and that an OTP is neither
 * sent past its expiry nor ever logged.
 */
import { createServer, type Server } from 'node:http';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as deliverOtp } from '../../../functions/webhooks/deliver-otp.ts';
import { handler as deliverEvent } from '../../../functions/webhooks/deliver-transaction-event.ts';
import { generateWebhookSecret } from '../../../shared/crypto/credentials.ts';
import { sealSecret } from '../../../shared/crypto/envelope.ts';
import { resetConfigForTests } from '../../../shared/config.ts';
import { otpSealContext, type OutboxEvent } from '../../../shared/db/outbox.ts';
import { ATTEMPT_CLAIM_SECONDS } from '../../../shared/domain/webhook-delivery.ts';
import { maxReceiveCountOf } from '../../../shared/services/webhook-delivery.ts';
import { captureLogs } from '../../support/capture-logs.ts';
import { TEST_BUSINESS_ID } from '../../support/events.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:events';

let server: Server;
let port: number;
let replyStatus = 200;
const received: { headers: Record<string, unknown>; body: string }[] = [];
const secret = generateWebhookSecret();
let sealedSecret: string;

beforeAll(async () => {
  sealedSecret = await sealSecret(secret, { business_id: TEST_BUSINESS_ID, purpose: 'webhook-secret' });
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(replyStatus).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => {
  server.close(() => resolve());
  server.closeAllConnections();
}));

const captured = captureLogs();
beforeEach(() => {
  received.length = 0;
  replyStatus = 200;
  ddb.reset();
  sqs.reset();
  business({ webhookUrl: `http://127.0.0.1:${port}/hooks` });
  ddb.on(UpdateCommand).resolves({});
  sqs.on(GetQueueUrlCommand).resolves({ QueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/events' });
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
});

function business(overrides: Record<string, unknown>) {
  ddb.on(GetCommand).resolves({
    Item: { PK: `BUSINESS#${TEST_BUSINESS_ID}`, SK: 'PROFILE', businessId: TEST_BUSINESS_ID, name: 'speed pay', webhookSecretSealed: sealedSecret, ...overrides },
  });
}

function transactionEvent(): OutboxEvent {
  return {
    eventId: '0190a3c4-0000-7000-8000-0000000e0001',
    businessId: TEST_BUSINESS_ID,
    type: 'transaction.authorization',
    queue: 'events',
    payload: '{"action":"Authorization","card_transaction":{"id":"t"}}',
    createdAt: '2025-03-04T03:32:11.051702Z',
  };
}

async function otpEvent(code: string, expiresInSeconds: number): Promise<OutboxEvent> {
  const eventId = '0190a3c4-0000-7000-8000-0000000e0002';
  return {
    eventId,
    businessId: TEST_BUSINESS_ID,
    type: 'three_ds.otp',
    queue: 'otp',
    payload: JSON.stringify({ p_business_id: TEST_BUSINESS_ID, verification_id: 'v-1', p_created_at: 't' }),
    createdAt: '2025-03-04T03:32:11.051702Z',
    deliverUntil: Math.floor(Date.now() / 1000) + expiresInSeconds,
    otpSealed: await sealSecret(code, otpSealContext({ businessId: TEST_BUSINESS_ID, eventId })),
  };
}

function sqsEvent(event: OutboxEvent, receiveCount = 1, generation = 1): SQSEvent {
  const record = {
    messageId: 'm-1',
    receiptHandle: `r-${receiveCount}`,
    body: JSON.stringify({ ...event, generation }),
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '0', SenderId: 's', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: QUEUE_ARN,
    awsRegion: 'us-east-1',
  } as SQSRecord;
  return { Records: [record] };
}

const CLAIM = 'SET claimedBy = :message, claimToken = :token, claimUntil = :until';
const allUpdates = () => ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
/** The claims taken before attempts. */
const claims = () => allUpdates().filter((input) => input.UpdateExpression === CLAIM);
/** What was recorded on the event: attempts and statuses. */
const updates = () => allUpdates().filter((input) => input.UpdateExpression !== CLAIM);

/** The event's delivery record as a refused claim reads it back. */
function refuseClaim(item: Record<string, unknown>) {
  ddb.on(UpdateCommand, { UpdateExpression: CLAIM }).rejects(
    new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, Item: marshall({ PK: 'EVENT#e', SK: 'DELIVERY', ...item }) }),
  );
}
const visibility = () => sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input.VisibilityTimeout);

describe('delivering a transaction event', () => {
  it('claims the event for its generation before it POSTs, then records a 2xx as delivered, out of the undelivered index', async () => {
    const result = await deliverEvent(sqsEvent(transactionEvent(), 1, 3));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(received).toHaveLength(1);
    const [claim] = claims();
    expect(claim?.ExpressionAttributeValues).toMatchObject({ ':generation': 3, ':message': 'm-1', ':until': expect.any(Number) });
    expect(claim?.ConditionExpression).toContain('generation = :generation');
    const [update] = updates();
    expect(update?.ExpressionAttributeValues).toMatchObject({ ':status': 'delivered', ':generation': 3, ':attempt': [{ statusCode: 200, durationMs: expect.any(Number) }] });
    expect(update?.UpdateExpression).toMatch(/REMOVE .*GSI3PK, GSI3SK/);
    expect(update?.UpdateExpression).toMatch(/REMOVE .*claimToken, claimUntil/);
    // Both on the small delivery record, never on the event (its payload and list-index entry).
    expect([claim?.Key, update?.Key]).toEqual([0, 1].map(() => ({ PK: `EVENT#${transactionEvent().eventId}`, SK: 'DELIVERY' })));
    expect(visibility()).toEqual([]);
  });

  it('delivers an event committed before delivery records: the claim moves its state to a record of its own first', async () => {
    const event = transactionEvent();
    const legacy = { PK: `EVENT#${event.eventId}`, SK: 'EVENT', entity: 'event', ...event, deliveryStatus: 'pending', attemptCount: 0, generation: 1, GSI3PK: 'UNDELIVERED#1', GSI3SK: `${event.createdAt}#${event.eventId}` };
    ddb.on(GetCommand, { Key: { PK: legacy.PK, SK: 'EVENT' } }).resolves({ Item: legacy });
    ddb.on(UpdateCommand, { UpdateExpression: CLAIM })
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }))
      .resolves({});
    ddb.on(TransactWriteCommand).resolves({});
    expect(await deliverEvent(sqsEvent(event))).toEqual({ batchItemFailures: [] });
    expect(received).toHaveLength(1);
    const [move] = ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems!);
    expect(move![0]!.Put!.Item).toMatchObject({ SK: 'DELIVERY', deliveryStatus: 'pending', generation: 1, GSI3PK: 'UNDELIVERED#1' });
    expect(move![1]!.Update).toMatchObject({ Key: { PK: legacy.PK, SK: 'EVENT' }, ConditionExpression: expect.stringContaining('#status = :status') });
    expect(claims()).toHaveLength(2);
    expect(updates()[0]).toMatchObject({ Key: { PK: legacy.PK, SK: 'DELIVERY' }, ExpressionAttributeValues: expect.objectContaining({ ':status': 'delivered' }) });
  });

  it('sends nothing for a message whose event does not exist, and leaves it for the DLQ', async () => {
    ddb.on(UpdateCommand, { UpdateExpression: CLAIM }).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    expect(await deliverEvent(sqsEvent(transactionEvent()))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(received).toEqual([]);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('hides a failed message for the next backoff delay, reports it for retry, and says retrying, due again at the next attempt', async () => {
    replyStatus = 500;
    const result = await deliverEvent(sqsEvent(transactionEvent(), 3));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    const [delay] = visibility();
    // The third failure: 40 s nominal, jitter up to +20 %.
    expect(delay).toBeGreaterThanOrEqual(40);
    expect(delay).toBeLessThanOrEqual(48);
    const values = updates()[0]?.ExpressionAttributeValues;
    expect(values).toMatchObject({ ':status': 'retrying', ':next': expect.any(String), ':attempt': [{ statusCode: 500 }] });
    expect(values?.[':undeliveredKey']).toBe(`${values?.[':next']}#${transactionEvent().eventId}`);
  });

  it('marks the event failed after the attempt that used the last receive, out of the undelivered index, and returns the message at once for SQS to move', async () => {
    replyStatus = 503;
    const last = maxReceiveCountOf('events');
    const result = await deliverEvent(sqsEvent(transactionEvent(), last));
    expect(result.batchItemFailures).toHaveLength(1);
    expect(updates()[0]?.ExpressionAttributeValues).toMatchObject({ ':status': 'failed' });
    expect(updates()[0]?.UpdateExpression).toMatch(/REMOVE .*nextAttemptAt, GSI3PK, GSI3SK/);
    expect(visibility()).toEqual([0]);
  });

  it('sends nothing for a business without a webhook URL, and says so on the event', async () => {
    business({ webhookUrl: null });
    const result = await deliverEvent(sqsEvent(transactionEvent()));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(received).toEqual([]);
    expect(updates()[0]?.ExpressionAttributeValues).toEqual({ ':status': 'no_webhook_url', ':generation': 1 });
  });

  it('reports a malformed message for retry (so it ends in the DLQ) without failing the rest of the batch', async () => {
    const good = sqsEvent(transactionEvent()).Records[0]!;
    const broken = { ...good, messageId: 'broken', body: '{"not":"an event"}' };
    const result = await deliverEvent({ Records: [good, broken] });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'broken' }] });
    expect(received).toHaveLength(1);
  });

  it('takes a message queued before generations existed as one of the first', async () => {
    const record = sqsEvent(transactionEvent()).Records[0]!;
    await deliverEvent({ Records: [{ ...record, body: JSON.stringify(transactionEvent()) }] });
    expect(claims()[0]?.ExpressionAttributeValues).toMatchObject({ ':generation': 1 });
    expect(received).toHaveLength(1);
  });
});

describe('messages that may not attempt their event', () => {
  it('acks a message of an older generation (a redelivery or sweep superseded it) without a POST', async () => {
    refuseClaim({ generation: 2, deliveryStatus: 'retrying', nextAttemptAt: '2025-03-04T03:32:11.051702Z' });
    const result = await deliverEvent(sqsEvent(transactionEvent(), 4, 1));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(received).toEqual([]);
    expect(updates()).toEqual([]);
  });

  it("acks a duplicate of the message that owns the generation (the dispatcher sent twice) without a POST", async () => {
    refuseClaim({ generation: 1, deliveryStatus: 'retrying', claimedBy: 'the-first-message' });
    const result = await deliverEvent(sqsEvent(transactionEvent()));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(received).toEqual([]);
  });

  it('acks a message whose event is already delivered without a POST', async () => {
    refuseClaim({ generation: 1, deliveryStatus: 'delivered', claimedBy: 'm-1' });
    expect(await deliverEvent(sqsEvent(transactionEvent(), 2))).toEqual({ batchItemFailures: [] });
    expect(received).toEqual([]);
  });

  it('brings a message back when the attempt in flight will have ended, without a second POST meanwhile', async () => {
    refuseClaim({ generation: 1, deliveryStatus: 'pending', claimedBy: 'm-1', claimToken: 'another-attempt', claimUntil: Date.now() + 20_000 });
    const result = await deliverEvent(sqsEvent(transactionEvent()));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(received).toEqual([]);
    const [delay] = visibility();
    expect(delay).toBeGreaterThanOrEqual(19);
    expect(delay).toBeLessThanOrEqual(ATTEMPT_CLAIM_SECONDS);
  });

  it('lets a message whose retries are over go on to the DLQ without a POST', async () => {
    refuseClaim({ generation: 1, deliveryStatus: 'failed', claimedBy: 'm-1' });
    const result = await deliverEvent(sqsEvent(transactionEvent(), 9));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(received).toEqual([]);
    expect(visibility()).toEqual([0]);
  });

  it('retries after the backoff delay, not the visibility timeout, when the claim itself fails (a throttled table)', async () => {
    ddb.on(UpdateCommand, { UpdateExpression: CLAIM }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const result = await deliverEvent(sqsEvent(transactionEvent(), 1));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(received).toEqual([]);
    const [delay] = visibility();
    expect(delay).toBeGreaterThanOrEqual(10);
    expect(delay).toBeLessThanOrEqual(12);
  });
});

describe('where a delivery may connect', () => {
  const saved = process.env.WEBHOOK_PRIVATE_ADDRESSES;
  afterEach(() => {
    process.env.WEBHOOK_PRIVATE_ADDRESSES = saved;
    resetConfigForTests();
  });

  it('never reaches a loopback receiver when private addresses are denied, in sandbox too, and records why', async () => {
    process.env.WEBHOOK_PRIVATE_ADDRESSES = 'deny';
    resetConfigForTests();
    for (const host of ['127.0.0.1', 'localhost', '[::ffff:7f00:1]']) {
      ddb.resetHistory();
      business({ webhookUrl: `http://${host}:${port}/hooks` });
      const result = await deliverEvent(sqsEvent(transactionEvent()));
      expect(result, host).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
      expect(updates()[0]?.ExpressionAttributeValues, host).toMatchObject({ ':status': 'retrying', ':attempt': [{ error: 'address_not_allowed' }] });
    }
    expect(received).toEqual([]);
  });

  it('reaches it when they are allowed (the local stack)', async () => {
    process.env.WEBHOOK_PRIVATE_ADDRESSES = 'allow';
    resetConfigForTests();
    business({ webhookUrl: `http://[::ffff:7f00:1]:${port}/hooks` });
    expect(await deliverEvent(sqsEvent(transactionEvent()))).toEqual({ batchItemFailures: [] });
    expect(received).toHaveLength(1);
  });
});

describe('delivering a 3DS code', () => {
  it('adds the code to the body it POSTs, and never logs it', async () => {
    const event = await otpEvent('073519', 300);
    replyStatus = 500;
    await deliverOtp(sqsEvent(event));
    replyStatus = 200;
    await deliverOtp(sqsEvent(event, 2));
    expect(received.map((r) => JSON.parse(r.body).otp_code)).toEqual(['073519', '073519']);
    const logs = captured.join('');
    expect(logs).toMatch(/webhook delivered/); // the capture works
    expect(logs).not.toContain('073519');
  });

  it('is not sent once the code has expired: the event is failed and the message left for the DLQ', async () => {
    const event = await otpEvent('111222', -1);
    const result = await deliverOtp(sqsEvent(event));
    expect(received).toEqual([]);
    expect(result.batchItemFailures).toHaveLength(1);
    expect(updates()[0]?.ExpressionAttributeValues).toEqual({ ':status': 'failed', ':generation': 1 });
    expect(visibility()).toEqual([0]);
  });

  it('is not retried past its expiry: a failure whose next retry would come too late is the last', async () => {
    replyStatus = 502;
    // 1 s left; the delay after a seventh failure is a minute.
    const event = await otpEvent('333444', 1);
    await deliverOtp(sqsEvent(event, 7));
    expect(received).toHaveLength(1);
    expect(updates()[0]?.ExpressionAttributeValues).toMatchObject({ ':status': 'failed' });
    // It comes back only once expired, and then passes to the DLQ without a POST.
    expect(visibility()[0]).toBeLessThanOrEqual(1);
  });
});

describe("writing release 2's format (the deploy that upgrades from release 2)", () => {
  beforeAll(() => {
    process.env.WRITE_FORMAT = 'release2';
    resetConfigForTests();
  });
  afterAll(() => {
    delete process.env.WRITE_FORMAT;
    resetConfigForTests();
  });

  const eventKey = () => ({ PK: `EVENT#${transactionEvent().eventId}`, SK: 'EVENT' });
  const recordKey = () => ({ PK: `EVENT#${transactionEvent().eventId}`, SK: 'DELIVERY' });

  it('claims and records on the event item, as release 2 did, only while it hands nothing to a record', async () => {
    expect(await deliverEvent(sqsEvent(transactionEvent()))).toEqual({ batchItemFailures: [] });
    expect(received).toHaveLength(1);
    expect(claims().map((claim) => claim.Key)).toEqual([eventKey()]);
    expect(claims()[0]!.ConditionExpression).toMatch(/ AND attribute_not_exists\(deliveryRecord\)$/);
    expect(updates()[0]).toMatchObject({ Key: eventKey(), ExpressionAttributeValues: expect.objectContaining({ ':status': 'delivered' }) });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('follows an event whose state a function with records on moved to its record, and delivers it once', async () => {
    const marked = new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, Item: marshall({ ...eventKey(), deliveryRecord: true }) });
    ddb.on(UpdateCommand, { Key: eventKey() }).rejects(marked);
    ddb.on(UpdateCommand, { Key: recordKey() }).resolves({});
    expect(await deliverEvent(sqsEvent(transactionEvent()))).toEqual({ batchItemFailures: [] });
    expect(received).toHaveLength(1);
    expect(claims().map((claim) => claim.Key)).toEqual([eventKey(), recordKey()]);
    expect(updates().map((update) => update.Key)).toEqual([eventKey(), recordKey()]);
    expect(updates()[1]!.ConditionExpression).not.toContain('deliveryRecord');
    // Nothing is moved with records off.
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('acts on the refusal of the event item itself (an attempt in flight) without looking for a record', async () => {
    refuseClaim({ SK: 'EVENT', generation: 1, deliveryStatus: 'pending', claimedBy: 'm-0', claimToken: 'other', claimUntil: Date.now() + 20_000 });
    const result = await deliverEvent(sqsEvent(transactionEvent()));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(received).toEqual([]);
    expect(claims().map((claim) => claim.Key)).toEqual([eventKey()]);
  });
});
