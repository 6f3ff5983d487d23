/**
 * Fault injection for the DynamoDB client the handlers use (shared/db/client.ts), for tests that
 * run a local stack in their own process. A seeded middleware inside the SDK's retry loop:
 *
 * - `conflict`: a `TransactWriteItems` is cancelled with `TransactionConflict` before it reaches
 *   DynamoDB (another transaction touched an item), as DynamoDB does under contention and DynamoDB
 *   Local never does;
 * - `throttle`: any call is answered `ThrottlingException` before it reaches DynamoDB;
 * - `lostResponse`: a `TransactWriteItems` commits, then its response is lost (a timeout), so the
 *   SDK sends it again: the commit happened, the caller does not know it.
 *
 * Each fault's rate is a probability per call; the random stream is seeded, so a failing run
 * replays with the same seed (given the same order of calls).
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { seededRandom } from './seeded-random.ts';

export interface FaultRates {
  conflict: number;
  throttle: number;
  lostResponse: number;
}

export interface FaultCounts {
  conflict: number;
  throttle: number;
  lostResponse: number;
  /** `TransactWriteItems` calls seen while any rate was on (the chances the faults had). */
  transactWrites: number;
}

export interface FaultInjector {
  readonly counts: FaultCounts;
  setRates(rates: FaultRates): void;
  remove(): void;
}

const NAME = 'testFaultInjection';


export function injectDynamoDbFaults(client: DynamoDBDocumentClient, seed: number, initial: FaultRates): FaultInjector {
  const random = seededRandom(seed);
  let rates = initial;
  const counts: FaultCounts = { conflict: 0, throttle: 0, lostResponse: 0, transactWrites: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const transactWrite = context.commandName === 'TransactWriteItemsCommand' || context.commandName === 'TransactWriteCommand';
      if (transactWrite && rates.conflict + rates.lostResponse > 0) counts.transactWrites++;
      if (random() < rates.throttle) {
        counts.throttle++;
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput (injected).'), {
          name: 'ThrottlingException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        });
      }
      if (transactWrite && random() < rates.conflict) {
        counts.conflict++;
        const items = ((args.input as { TransactItems?: unknown[] }).TransactItems ?? []).length;
        throw new TransactionCanceledException({
          message: 'Transaction cancelled (injected conflict)',
          $metadata: { httpStatusCode: 400 },
          CancellationReasons: Array.from({ length: items }, (_, i) => ({ Code: i === 0 ? 'TransactionConflict' : 'None' })),
        });
      }
      const result = await next(args);
      if (transactWrite && random() < rates.lostResponse) {
        counts.lostResponse++;
        // What the SDK sees when a socket times out after the server committed: a retryable error.
        throw Object.assign(new Error('socket hang up (injected after commit)'), { name: 'TimeoutError', code: 'ECONNRESET', $metadata: {} });
      }
      return result;
    },
    // Inside the retry loop, as a network or server fault would be: the SDK's own retries see it.
    { step: 'deserialize', name: NAME, priority: 'low' },
  );
  return {
    counts,
    setRates: (next) => {
      rates = next;
    },
    remove: () => {
      client.middlewareStack.remove(NAME);
    },
  };
}
