/**
 * Wrappers of the event-source consumers, the counterpart of shared/http/handler.ts: a consumer
 * declares the one service call that handles a batch, and the wrapper logs the outcome (counts and
 * ids, never bodies: an OTP message carries a sealed code, an event carries card data).
 *
 * Both consumers report partial batch failures (`ReportBatchItemFailures`), so one bad record
 * never makes Lambda retry the records that succeeded.
 */
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger } from '../logger.ts';

export type StreamConsumer = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;
export type QueueConsumer = (event: SQSEvent) => Promise<SQSBatchResponse>;

export function streamHandler(name: string, fn: (records: DynamoDBRecord[]) => Promise<DynamoDBBatchResponse>): StreamConsumer {
  return async (event) => {
    const result = await fn(event.Records ?? []);
    const failed = result.batchItemFailures.length;
    if (failed > 0) logger.warn(`${name}: batch partly failed`, { records: event.Records.length, failed });
    return result;
  };
}

export function queueHandler(name: string, fn: (records: SQSRecord[]) => Promise<SQSBatchResponse>): QueueConsumer {
  return async (event) => {
    const result = await fn(event.Records ?? []);
    logger.debug(`${name}: batch done`, { records: event.Records.length, retrying: result.batchItemFailures.length });
    return result;
  };
}
