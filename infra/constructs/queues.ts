/**
 * The SQS queues of the `queues` table (shared/routes.ts), each with its dead-letter queue.
 * A message that fails `maxReceiveCount` times parks in the DLQ (visible, and redriven with an
 * admin command) instead of being lost.
 */
import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueName, QueueRow } from '../../shared/routes.ts';
import { removalPolicyOf, type StageConfig } from '../stage-config.ts';
import { pascal } from './naming.ts';

/** Lambda's guidance: a queue's visibility timeout at least six times its consumer's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/** The longest SQS keeps a message: a parked message stays a fortnight for inspection and redrive. */
const DLQ_RETENTION = Duration.days(14);

export interface QueuePair {
  queue: sqs.Queue;
  deadLetterQueue: sqs.Queue;
}

/**
 * Queues carry event payloads and OTP deliveries (not PANs: those never leave the table), so
 * SQS-managed encryption at rest suffices and keeps KMS out of every producer's and consumer's
 * permissions. `enforceSSL` denies any request not made over TLS.
 */
export function deadLetterQueue(scope: Construct, id: string, config: StageConfig): sqs.Queue {
  return new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: DLQ_RETENTION,
    removalPolicy: removalPolicyOf(config),
  });
}

export interface PlatformQueuesProps {
  config: StageConfig;
  rows: readonly QueueRow[];
}

export class PlatformQueues extends Construct {
  readonly byName = new Map<QueueName, QueuePair>();

  constructor(scope: Construct, id: string, props: PlatformQueuesProps) {
    super(scope, id);
    for (const row of props.rows) {
      const deadLetter = deadLetterQueue(this, `${pascal(row.name)}DeadLetterQueue`, props.config);
      const queue = new sqs.Queue(this, `${pascal(row.name)}Queue`, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(row.consumerTimeoutSeconds * VISIBILITY_TIMEOUT_FACTOR),
        deadLetterQueue: { queue: deadLetter, maxReceiveCount: row.maxReceiveCount },
        retentionPeriod: DLQ_RETENTION,
        removalPolicy: removalPolicyOf(props.config),
      });
      this.byName.set(row.name, { queue, deadLetterQueue: deadLetter });
    }
  }

  /** The queues by name, for grants. */
  queues(): ReadonlyMap<QueueName, sqs.IQueue> {
    return new Map([...this.byName].map(([name, pair]) => [name, pair.queue]));
  }
}

