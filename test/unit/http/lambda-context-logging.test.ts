/**
 * Both wrappers put the Lambda context on every log line of an invocation (Powertools
 * `injectLambdaContext`), and neither ever logs the event, even when an operator sets
 * `POWERTOOLS_LOGGER_LOG_EVENT=true`: a body, a queue message or a scheduled run's event may carry
 * card data or an OTP.
 */
import type { SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import * as z from '../../../shared/zod.ts';
import { operationHandler } from '../../../shared/http/handler.ts';
import { testOperation } from '../../support/test-operation.ts';
import { logger } from '../../../shared/logger.ts';
import { queueHandler, scheduledHandler } from '../../../shared/queues/handlers.ts';
import { captureLogs } from '../../support/capture-logs.ts';
import { apiEvent, lambdaContext } from '../../support/events.ts';

const captured = captureLogs();
const CARD_NUMBER = '4111111111111111';

function logLines(): Record<string, unknown>[] {
  return captured
    .join('')
    .split('\n')
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

afterEach(() => {
  delete process.env.POWERTOOLS_LOGGER_LOG_EVENT;
});

describe('the HTTP wrapper', () => {
  it("writes its request line with the function's name and the invocation's awsRequestId", async () => {
    const handler = operationHandler(testOperation('business', { body: z.object({ pan: z.string() }) }), async () => ({ ok: true }));
    await handler(apiEvent({ method: 'POST', body: { pan: CARD_NUMBER } }), lambdaContext);
    const request = logLines().find((line) => line.message === 'request');
    expect(request).toMatchObject({ function_name: 'unit-test', function_request_id: 'unit-test-request', statusCode: 200 });
    expect(typeof request?.cold_start).toBe('boolean');
  });

  it('never logs the event, even with POWERTOOLS_LOGGER_LOG_EVENT=true', async () => {
    process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
    const handler = operationHandler(testOperation('business', { body: z.object({ pan: z.string() }) }), async () => ({ ok: true }));
    await handler(apiEvent({ method: 'POST', body: { pan: CARD_NUMBER } }), lambdaContext);
    expect(logLines().map((line) => line.message)).toEqual(['request']);
    expect(captured.join('')).not.toContain(CARD_NUMBER);
  });

  it('leaves no temporary key to the next invocation', async () => {
    const handler = operationHandler(testOperation('business', {}), async () => {
      logger.appendKeys({ userId: 'u-1' });
      return {};
    });
    await handler(apiEvent(), lambdaContext);
    logger.info('between invocations');
    expect(logLines().find((line) => line.message === 'between invocations')).not.toHaveProperty('userId');
  });
});

describe('the consumer wrappers', () => {
  it('put the Lambda context on a queue batch line and never log the messages', async () => {
    process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
    const handler = queueHandler('unit-queue', async () => ({ batchItemFailures: [] }));
    const event = { Records: [{ messageId: 'm-1', body: JSON.stringify({ pan: CARD_NUMBER }) }] } as unknown as SQSEvent;
    await handler(event, lambdaContext);
    expect(logLines()).toEqual([expect.objectContaining({ message: 'unit-queue: batch done', function_name: 'unit-test', function_request_id: 'unit-test-request' })]);
    expect(captured.join('')).not.toContain(CARD_NUMBER);
  });

  it('put the Lambda context on a failed scheduled run, which still throws', async () => {
    const handler = scheduledHandler('unit-schedule', async () => {
      throw new Error('table unreachable');
    });
    await expect(handler({} as never, lambdaContext)).rejects.toThrow('table unreachable');
    expect(logLines()).toEqual([expect.objectContaining({ level: 'ERROR', function_request_id: 'unit-test-request' })]);
  });
});
