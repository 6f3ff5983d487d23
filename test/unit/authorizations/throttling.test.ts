/**
 * DynamoDB throttling the authorization request itself (not one item of its transaction): the SDK
 * retries below the point where aws-sdk-client-mock stubs `send`, so this file fakes the HTTP layer
 * instead and lets the real client, its retry strategy and its error parsing run.
 */
import { Readable } from 'node:stream';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { handler as simulateAuthorize } from '../../../functions/simulate/create-authorization.ts';
import { db } from '../../../shared/db/client.ts';
import { lambdaContext, parseBody } from '../../support/events.ts';
import { businessItem, cardItem, simulateAuthorizationEvent } from './support.ts';

interface FakeRequest {
  headers: Record<string, string>;
  body: string | Uint8Array;
}

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
    __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
    message: 'Throughput exceeds the current capacity of your table or index.',
  });

/** Wire-format items (`{ S: ... }`); the fixtures hold `NumberValue`s, which marshall as numbers. */
const stored = [cardItem(), businessItem()].map((item) => marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: false }));

/** Serves GetItem from the fixtures; every TransactWriteItems is throttled. */
function throttleTransactions(request: FakeRequest) {
  const operation = request.headers['x-amz-target']?.split('.')[1];
  if (operation === 'GetItem') {
    const key = (JSON.parse(Buffer.from(request.body).toString('utf8')) as { Key: { PK: { S: string }; SK: { S: string } } }).Key;
    const item = stored.find((candidate) => candidate.PK?.S === key.PK.S && candidate.SK?.S === key.SK.S);
    return dynamoResponse(200, item ? { Item: item } : {});
  }
  return throttled();
}

describe('POST /v1/simulate/authorizations under request-level throttling', () => {
  afterEach(() => vi.restoreAllMocks());

  it('answers 503 service_unavailable after the SDK\'s retries, revealing nothing of DynamoDB', async () => {
    const requestHandler = db().config.requestHandler as { handle: (request: FakeRequest) => Promise<unknown> };
    const send = vi.spyOn(requestHandler, 'handle').mockImplementation(async (request) => throttleTransactions(request));

    const result = await simulateAuthorize(simulateAuthorizationEvent({}), lambdaContext);

    expect(result.statusCode).toBe(503);
    expect(parseBody(result).error).toEqual({ code: 'service_unavailable', message: expect.any(String), request_id: result.headers!['x-request-id'] });
    expect(result.body).not.toMatch(/throttl|throughput|capacity|dynamo|table/i);
    const transactionAttempts = send.mock.calls.filter(([request]) => request.headers['x-amz-target']?.endsWith('TransactWriteItems'));
    expect(transactionAttempts).toHaveLength(4);
  }, 20_000);
});
