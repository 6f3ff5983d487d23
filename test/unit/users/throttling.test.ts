/**
 * Throttling is retried by the SDK itself (DynamoDB client, `maxAttempts: 4`), below the point
 * where aws-sdk-client-mock stubs `send`; so this file fakes the HTTP layer instead and lets the
 * real client, its retry strategy and its error parsing run.
 */
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/users/create-user.ts';
import { db } from '../../../shared/db/client.ts';
import { lambdaContext } from '../../support/events.ts';
import { createEvent, parseBody, validCreateBody } from './support.ts';

function dynamoResponse(statusCode: number, body: unknown) {
  return {
    response: {
      statusCode,
      reason: statusCode === 200 ? 'OK' : 'Bad Request',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'unit' },
      body: Readable.from([Buffer.from(JSON.stringify(body))]),
    },
  };
}

const throttled = () =>
  dynamoResponse(400, {
    __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message: 'The level of configured provisioned throughput for the table was exceeded.',
  });

describe('POST /v1/users under DynamoDB throttling', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is retried by the SDK and succeeds once DynamoDB accepts the write', async () => {
    const requestHandler = db().config.requestHandler as { handle: (...args: unknown[]) => Promise<unknown> };
    const send = vi.spyOn(requestHandler, 'handle').mockResolvedValueOnce(throttled()).mockResolvedValueOnce(dynamoResponse(200, {}));
    const result = await handler(createEvent(validCreateBody()), lambdaContext);
    expect(result.statusCode).toBe(201);
    expect(send).toHaveBeenCalledTimes(2);
  });

  it('gives up after the SDK\'s attempts with an error that reveals nothing of DynamoDB', async () => {
    const requestHandler = db().config.requestHandler as { handle: (...args: unknown[]) => Promise<unknown> };
    const send = vi.spyOn(requestHandler, 'handle').mockImplementation(async () => throttled());
    const result = await handler(createEvent(validCreateBody()), lambdaContext);
    expect(send).toHaveBeenCalledTimes(4);
    expect([500, 503]).toContain(result.statusCode);
    expect(result.body).not.toMatch(/throughput|ProvisionedThroughput|table/i);
    expect(parseBody(result).error.request_id).toBe(result.headers!['x-request-id']);
  }, 20_000);
});
