/**
 * Wrappers of the event-source consumers and scheduled functions, the counterpart of
 * shared/http/handler.ts: a consumer declares the one service call that handles a batch (a
 * scheduled function, the one call of a run), and the wrapper logs the outcome (counts and ids,
 * never bodies: an OTP message carries a sealed code, an event carries card data), each line
 * carrying the Lambda context (function, cold start, `awsRequestId`).
 *
 * Both consumers report partial batch failures (`ReportBatchItemFailures`), so one bad record
 * never makes Lambda retry the records that succeeded.
 */
import middy from '@middy/core';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent, ScheduledEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContextLogging, logger } from '../logger.ts';
import { businessMetrics } from '../metrics.ts';

export type StreamConsumer = (event: DynamoDBStreamEvent, context?: Context) => Promise<DynamoDBBatchResponse>;
export type QueueConsumer = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;
export type ScheduledFunction<T> = (event: ScheduledEvent, context?: Context) => Promise<T>;

/**
 * The middy chain every consumer shares: the Lambda context on each log line, and one flush of the
 * business metrics the batch or run recorded.
 */
function wrapped<E, R>(core: (event: E) => Promise<R>): (event: E, context?: Context) => Promise<R> {
  return middy<E, R>().use(lambdaContextLogging()).use(businessMetrics()).handler(core) as unknown as (event: E, context?: Context) => Promise<R>;
}

export function streamHandler(name: string, fn: (records: DynamoDBRecord[]) => Promise<DynamoDBBatchResponse>): StreamConsumer {
  return wrapped(async (event: DynamoDBStreamEvent) => {
    const result = await fn(event.Records ?? []);
    const failed = result.batchItemFailures.length;
    if (failed > 0) logger.warn(`${name}: batch partly failed`, { records: event.Records.length, failed });
    return result;
  });
}

export function queueHandler(name: string, fn: (records: SQSRecord[]) => Promise<SQSBatchResponse>): QueueConsumer {
  return wrapped(async (event: SQSEvent) => {
    const result = await fn(event.Records ?? []);
    logger.debug(`${name}: batch done`, { records: event.Records.length, retrying: result.batchItemFailures.length });
    return result;
  });
}

/**
 * A scheduled run (EventBridge in AWS, a timer in the local stack). Its event carries only the
 * time; a run that throws is simply the next one's to redo, so the error is logged and rethrown
 * for the platform's own error metrics.
 */
export function scheduledHandler<T extends object>(name: string, fn: () => Promise<T>): ScheduledFunction<T> {
  return wrapped(async (_event: ScheduledEvent) => {
    try {
      const result = await fn();
      logger.debug(`${name}: run done`, { result: result as Record<string, unknown> });
      return result;
    } catch (error) {
      logger.error(`${name}: run failed; the next run does its work`, { errorName: (error as Error)?.name, errorMessage: (error as Error)?.message });
      throw error;
    }
  });
}
