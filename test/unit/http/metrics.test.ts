/**
 * The business metrics as CloudWatch reads them: the EMF lines a wrapped handler writes to stdout
 * in one invocation, through the real handlers with DynamoDB and SQS mocked. Namespace, dimensions
 * and names are what the dashboard searches for (infra/constructs/platform-dashboard.ts), and no
 * dimension value is ever anything but a word of its fixed vocabulary (never an id or a secret).
 */
import { createServer, type Server } from 'node:http';
import { ChangeMessageVisibilityCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// Unit tests run with metrics off (test/support/unit-env.ts); this file is the one that reads them.
// Set before the Metrics instance is built, at the imports below.
vi.hoisted(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
});

import { handler as simulateAuthorize } from '../../../functions/simulate/create-authorization.ts';
import { handler as deliverEvent } from '../../../functions/webhooks/deliver-transaction-event.ts';
import { BUSINESS_METRICS, BUSINESS_NAMESPACE } from '../../../infra/constructs/platform-dashboard.ts';
import { sealSecret } from '../../../shared/crypto/envelope.ts';
import { generateWebhookSecret } from '../../../shared/crypto/credentials.ts';
import { DECLINE_REASONS } from '../../../shared/domain/authorization.ts';
import { OTP_OUTCOMES, WEBHOOK_OUTCOMES } from '../../../shared/metrics.ts';
import { lambdaContext, TEST_BUSINESS_ID } from '../../support/events.ts';
import { businessItem, cancelled, cardItem, serveItems, simulateAuthorizationEvent, TRANSACTION_ID } from '../authorizations/support.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);

/** Every dimension the metrics may carry, and the values each may take. */
const VOCABULARY: Record<string, readonly string[]> = {
  service: ['card-platform'],
  stage: ['sandbox', 'production'],
  reason: DECLINE_REASONS,
  outcome: [...WEBHOOK_OUTCOMES, ...OTP_OUTCOMES],
};

type Emf = Record<string, unknown> & {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
};

let stdout: string[] = [];
beforeEach(() => {
  stdout = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    stdout.push(String(chunk));
    return true;
  });
  ddb.reset();
  sqs.reset();
});
afterEach(() => vi.restoreAllMocks());

/** The EMF lines written during the test (Powertools writes each as one JSON line). */
function emf(): Emf[] {
  return stdout
    .join('')
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Emf);
}

/** One EMF line as Powertools writes it: `service`, `stage` and at most one dimension of the vocabulary. */
function blob(metrics: Record<string, number | number[]>, unit: string, dimension?: [string, string]): Emf {
  const dimensions = ['service', 'stage', ...(dimension ? [dimension[0]] : [])];
  return {
    _aws: {
      Timestamp: expect.any(Number) as unknown as number,
      CloudWatchMetrics: [{ Namespace: 'CardPlatform', Dimensions: [dimensions], Metrics: Object.keys(metrics).map((Name) => ({ Name, Unit: unit })) }],
    },
    service: 'card-platform',
    stage: 'sandbox',
    ...(dimension ? { [dimension[0]]: dimension[1] } : {}),
    ...metrics,
  };
}

/** No line carries a dimension outside its vocabulary, nor a metric the dashboard does not graph. */
function expectOnlyVocabulary(lines: Emf[]): void {
  for (const line of lines) {
    for (const directive of line._aws.CloudWatchMetrics) {
      expect(directive.Namespace).toBe(BUSINESS_NAMESPACE);
      for (const metric of directive.Metrics) expect(Object.keys(BUSINESS_METRICS)).toContain(metric.Name);
      for (const name of directive.Dimensions.flat()) {
        expect(Object.keys(VOCABULARY)).toContain(name);
        expect(VOCABULARY[name]).toContain(line[name]);
      }
    }
  }
  const text = JSON.stringify(lines);
  expect(text).not.toContain(TEST_BUSINESS_ID);
  expect(text).not.toContain(TRANSACTION_ID);
}

describe('an authorization', () => {
  beforeEach(() => serveItems(ddb, [cardItem(), businessItem()]));

  it('approved writes one AuthorizationApproved count, once the hold committed', async () => {
    const result = await simulateAuthorize(simulateAuthorizationEvent({ amount: '10' }), lambdaContext);
    expect(result.statusCode).toBe(201);
    const lines = emf();
    expect(lines).toEqual([blob({ AuthorizationApproved: 1 }, 'Count')]);
    expectOnlyVocabulary(lines);
  });

  it('declined writes one AuthorizationDeclined count with its reason, and no approval', async () => {
    // The B2B approval's balance condition fails: insufficient balance.
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled(['None', 'ConditionalCheckFailed', 'None', 'None', 'None'])).resolves({});
    const result = await simulateAuthorize(simulateAuthorizationEvent({ amount: '10' }), lambdaContext);
    expect(JSON.parse(result.body)).toMatchObject({ status: 'Declined' });
    const reason = JSON.parse(result.body).decline_reason as string;
    const lines = emf();
    expect(lines).toEqual([blob({ AuthorizationDeclined: 1 }, 'Count', ['reason', reason])]);
    expectOnlyVocabulary(lines);
  });

  it('refused before any decision (a validation error) writes nothing', async () => {
    const result = await simulateAuthorize(simulateAuthorizationEvent({ amount: 'ten' }), lambdaContext);
    expect(result.statusCode).toBe(400);
    expect(emf()).toEqual([]);
  });
});

describe('a webhook attempt', () => {
  let server: Server;
  let port: number;
  let replyStatus = 200;
  let sealedSecret: string;

  beforeAll(async () => {
    sealedSecret = await sealSecret(generateWebhookSecret(), { business_id: TEST_BUSINESS_ID, purpose: 'webhook-secret' });
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(replyStatus).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    port = (server.address() as { port: number }).port;
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );

  beforeEach(() => {
    replyStatus = 200;
    ddb.on(GetCommand).resolves({
      Item: { PK: `BUSINESS#${TEST_BUSINESS_ID}`, SK: 'PROFILE', businessId: TEST_BUSINESS_ID, name: 'speed pay', webhookSecretSealed: sealedSecret, webhookUrl: `http://127.0.0.1:${port}/hooks` },
    });
    ddb.on(UpdateCommand).resolves({});
    sqs.on(GetQueueUrlCommand).resolves({ QueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/events' });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
  });

  function sqsEvent(receiveCount = 1): SQSEvent {
    const event = {
      eventId: '0190a3c4-0000-7000-8000-0000000e0001',
      businessId: TEST_BUSINESS_ID,
      type: 'transaction.authorization',
      queue: 'events',
      payload: '{"action":"Authorization","card_transaction":{"id":"t"}}',
      createdAt: '2025-03-04T03:32:11.051702Z',
      generation: 1,
    };
    const record = {
      messageId: 'm-1',
      receiptHandle: 'r-1',
      body: JSON.stringify(event),
      attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '0', SenderId: 's', ApproximateFirstReceiveTimestamp: '0' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:events',
      awsRegion: 'us-east-1',
    } as SQSRecord;
    return { Records: [record] };
  }

  it('delivered writes a WebhookAttempt count with outcome delivered, and its latency in the invocation flush', async () => {
    await deliverEvent(sqsEvent(), lambdaContext);
    const lines = emf();
    expect(lines).toEqual([blob({ WebhookAttempt: 1 }, 'Count', ['outcome', 'delivered']), blob({ WebhookLatency: expect.any(Number) as unknown as number }, 'Milliseconds')]);
    expectOnlyVocabulary(lines);
  });

  it('answered 500 writes outcome retrying', async () => {
    replyStatus = 500;
    await deliverEvent(sqsEvent(2), lambdaContext);
    const lines = emf();
    expect(lines).toEqual([blob({ WebhookAttempt: 1 }, 'Count', ['outcome', 'retrying']), blob({ WebhookLatency: expect.any(Number) as unknown as number }, 'Milliseconds')]);
    expectOnlyVocabulary(lines);
  });
});
