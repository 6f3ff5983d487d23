/**
 * Webhook self-service (`/v1/webhook-endpoint`) through the real wrappers, over aws-sdk-client-mock:
 * what each route reads and writes, the operator's URL rules, the rotation's condition, the test
 * event's outbox item, and that no secret reaches the logs.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '../../../shared/config.ts';
import { handler as getWebhookEndpoint } from '../../../functions/webhook-endpoint/get-webhook-endpoint.ts';
import { handler as rotateWebhookSecret } from '../../../functions/webhook-endpoint/rotate-webhook-secret.ts';
import { handler as sendTestWebhook } from '../../../functions/webhook-endpoint/send-test-webhook.ts';
import { handler as setWebhookEndpoint } from '../../../functions/webhook-endpoint/set-webhook-endpoint.ts';
import { captureLogs } from '../../support/capture-logs.ts';
import { apiEvent, lambdaContext, parseBody, TEST_BUSINESS_ID } from '../../support/events.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const captured = captureLogs();
const PATH = '/v1/webhook-endpoint';

function business(overrides: Record<string, unknown> = {}) {
  return {
    PK: `BUSINESS#${TEST_BUSINESS_ID}`,
    SK: 'PROFILE',
    entity: 'business',
    businessId: TEST_BUSINESS_ID,
    name: 'speed pay',
    timezone: 'UTC',
    webhookUrl: 'http://127.0.0.1:9999/hooks',
    createdAt: '2025-03-04T03:32:11.051702Z',
    apiKeyHash: 'hash',
    apiKeyId: 'key-1',
    webhookSecretSealed: 'sealed-current',
    ...overrides,
  };
}

const request = (method: string, path: string, body?: unknown) => apiEvent({ method, path, resource: path, ...(body === undefined ? {} : { body }) });

beforeEach(() => {
  ddb.reset();
  ddb.on(GetCommand).resolves({ Item: business() });
});

describe('GET /v1/webhook-endpoint', () => {
  it('shows the URL and whether a rotated-out secret still signs, never a secret', async () => {
    const until = new Date(Date.now() + 3600_000).toISOString();
    ddb.on(GetCommand).resolves({ Item: business({ previousWebhookSecretSealed: 'sealed-old', previousWebhookSecretExpiresAt: until }) });
    const result = await getWebhookEndpoint(request('GET', PATH), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(parseBody(result)).toEqual({ url: 'http://127.0.0.1:9999/hooks', previous_secret_valid_until: until });
    expect(result.body).not.toContain('sealed');
  });

  it('says null for a URL never set and for an old secret past its 24 h', async () => {
    ddb.on(GetCommand).resolves({ Item: business({ webhookUrl: null, previousWebhookSecretSealed: 'sealed-old', previousWebhookSecretExpiresAt: '2020-01-01T00:00:00.000Z' }) });
    expect(parseBody(await getWebhookEndpoint(request('GET', PATH), lambdaContext))).toEqual({ url: null, previous_secret_valid_until: null });
  });
});

describe('PUT /v1/webhook-endpoint', () => {
  it('sets the URL on the business, conditional on the business existing', async () => {
    ddb.on(UpdateCommand).resolves({});
    const result = await setWebhookEndpoint(request('PUT', PATH, { url: 'http://127.0.0.1:8080/new' }), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { PK: `BUSINESS#${TEST_BUSINESS_ID}`, SK: 'PROFILE' },
      UpdateExpression: 'SET webhookUrl = :url',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeValues: { ':url': 'http://127.0.0.1:8080/new' },
    });
  });

  it('refuses what the operator path refuses: not http(s), credentials in the URL, no URL at all', async () => {
    for (const url of ['ftp://example.com/hooks', 'https://user:pass@example.com/hooks', 'not a url']) {
      const result = await setWebhookEndpoint(request('PUT', PATH, { url }), lambdaContext);
      expect(result.statusCode, url).toBe(400);
      expect(parseBody(result).error.code, url).toBe('invalid_webhook_url');
    }
    const missing = await setWebhookEndpoint(request('PUT', PATH, {}), lambdaContext);
    expect(parseBody(missing).error.code).toBe('validation_error');
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});

describe('POST /v1/webhook-endpoint/rotate-secret', () => {
  it('answers the new secret once, keeps the old one signing for 24 h, conditional on the secret it read', async () => {
    ddb.on(UpdateCommand).resolves({});
    const before = Date.now();
    const result = await rotateWebhookSecret(request('POST', `${PATH}/rotate-secret`), lambdaContext);
    expect(result.statusCode).toBe(200);
    const body = parseBody(result);
    expect(body).toEqual({ webhook_secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/), previous_secret_valid_until: expect.any(String) });
    expect(Date.parse(body.previous_secret_valid_until) - before).toBeGreaterThanOrEqual(24 * 3600_000 - 1000);
    const update = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(update.ConditionExpression).toBe('webhookSecretSealed = :current');
    expect(update.ExpressionAttributeValues).toMatchObject({ ':current': 'sealed-current', ':expires': body.previous_secret_valid_until });
    // Stored sealed, never in clear.
    expect(JSON.stringify(update)).not.toContain(body.webhook_secret);
    expect(JSON.stringify(update)).not.toContain(body.webhook_secret.slice(6));
    expect(captured.join('')).not.toContain(body.webhook_secret.slice(6));
  });

  it('refuses any body but an empty one before it touches the secret', async () => {
    for (const body of [[], 'text', { url: 'http://127.0.0.1/x' }]) {
      const result = await rotateWebhookSecret(request('POST', `${PATH}/rotate-secret`, body), lambdaContext);
      expect(result.statusCode, JSON.stringify(body)).toBe(400);
      expect(parseBody(result).error.code).toBe('validation_error');
    }
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('refuses a rotation that lost the race to another (409 webhook_secret_changed)', async () => {
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    const result = await rotateWebhookSecret(request('POST', `${PATH}/rotate-secret`), lambdaContext);
    expect(result.statusCode).toBe(409);
    expect(parseBody(result).error.code).toBe('webhook_secret_changed');
  });
});

describe('POST /v1/webhook-endpoint/test', () => {
  it('commits a webhook.test event to the outbox for the events queue, and answers it as pending (202)', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const result = await sendTestWebhook(request('POST', `${PATH}/test`), lambdaContext);
    expect(result.statusCode).toBe(202);
    const view = parseBody(result);
    expect(view).toMatchObject({ type: 'webhook.test', p_business_id: TEST_BUSINESS_ID, delivery_status: 'pending', attempt_count: 0 });
    expect(view.payload).toEqual({ type: 'webhook.test', p_business_id: TEST_BUSINESS_ID, p_created_at: view.p_created_at });
    const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(items).toHaveLength(2);
    expect(items[0]!.Put).toMatchObject({
      Item: { PK: `EVENT#${view.id}`, SK: 'EVENT', entity: 'event', type: 'webhook.test', queue: 'events', businessId: TEST_BUSINESS_ID, deliveryRecord: true },
      ConditionExpression: 'attribute_not_exists(PK)',
    });
    expect(items[1]!.Put).toMatchObject({
      Item: { PK: `EVENT#${view.id}`, SK: 'DELIVERY', entity: 'webhook_delivery', deliveryStatus: 'pending', generation: 1 },
      ConditionExpression: 'attribute_not_exists(PK)',
    });
  });

  it("commits it as one item carrying its delivery state, as release 2 did, while writing release 2's format", async () => {
    process.env.WRITE_FORMAT = 'release2';
    resetConfigForTests();
    try {
      ddb.on(TransactWriteCommand).resolves({});
      const view = parseBody(await sendTestWebhook(request('POST', `${PATH}/test`), lambdaContext));
      const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
      expect(items).toHaveLength(1);
      expect(items[0]!.Put!.Item).toMatchObject({ PK: `EVENT#${view.id}`, SK: 'EVENT', entity: 'event', deliveryStatus: 'pending', generation: 1, GSI3PK: expect.stringMatching(/^UNDELIVERED#/) });
      expect(items[0]!.Put!.Item).not.toHaveProperty('deliveryRecord');
    } finally {
      delete process.env.WRITE_FORMAT;
      resetConfigForTests();
    }
  });

  it('refuses when no URL is set (409 webhook_url_not_set), committing nothing', async () => {
    ddb.on(GetCommand).resolves({ Item: business({ webhookUrl: null }) });
    const result = await sendTestWebhook(request('POST', `${PATH}/test`), lambdaContext);
    expect(result.statusCode).toBe(409);
    expect(parseBody(result).error.code).toBe('webhook_url_not_set');
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });
});
