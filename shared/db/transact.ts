/**
 * One `TransactWriteItems` with the retry policy of ARCHITECTURE.md: a `TransactionConflict`
 * (another transaction touched the same item) is retried with full-jitter exponential backoff; a
 * failed condition is not retried but handed to `onConditionFailed`, which turns the cancellation
 * reasons into the typed domain error of whoever called.
 *
 * Every attempt carries a `ClientRequestToken`: when a commit succeeds but its response is lost (a
 * timeout, a reset connection), the SDK sends the same request again, and DynamoDB answers the
 * repeat with the first outcome instead of running it again, whose conditions would now fail and
 * turn a success into a bogus refusal. A new attempt after a cancellation gets a new token.
 */
import { randomUUID } from 'node:crypto';
import { TransactionCanceledException, type CancellationReason } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { ServiceUnavailableError } from '../errors.ts';
import { db } from './client.ts';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface TransactOptions {
  /** Maps the cancellation reasons (one per item, in order) to a domain error. */
  onConditionFailed?: (reasons: CancellationReason[]) => Error;
  /** Conflict retries before giving up with a 503. */
  maxAttempts?: number;
}

const BASE_DELAY_MS = 10;
const MAX_DELAY_MS = 200;

export async function transactWrite(items: TransactItem[], options: TransactOptions = {}): Promise<void> {
  const maxAttempts = options.maxAttempts ?? 6;
  for (let attempt = 1; ; attempt++) {
    try {
      await db().send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: randomUUID() }));
      return;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      if (reasons.some((r) => r.Code === 'ConditionalCheckFailed')) {
        throw options.onConditionFailed ? options.onConditionFailed(reasons) : error;
      }
      const retryable = reasons.some((r) => r.Code === 'TransactionConflict' || r.Code === 'ThrottlingError');
      if (!retryable) throw error;
      if (attempt >= maxAttempts) throw new ServiceUnavailableError();
      await sleep(Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt));
    }
  }
}

/** Index of the first item whose condition failed, or -1. */
export function failedConditionIndex(reasons: CancellationReason[]): number {
  return reasons.findIndex((r) => r.Code === 'ConditionalCheckFailed');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
