/**
 * The shapes of the rows of the route table (shared/routes.ts): what a row names (its contract
 * and handler) and everything its function may touch, which the CDK stack grants and the local
 * stack enforces, exactly.
 */
import type { Credential, HttpMethod, Operation } from './contracts/operation.ts';
import type { SealPurpose } from './crypto/envelope.ts';
import type { MacPurpose } from './crypto/keyed-hash.ts';
import type { DeletablePartition } from './db/keys.ts';
import type { OperatorSetting } from './services/operator-settings.ts';

export type { Credential, HttpMethod };

export type QueueName = 'otp' | 'events';

export interface Access {
  /**
   * DynamoDB table access. `readWrite` inserts and updates, except in the append-only partitions
   * (ledger postings, card audit events), which no role may update or delete in.
   */
  table: 'none' | 'read' | 'readWrite';
  /**
   * Partitions whose items the function may delete (shared/db/keys.ts `DELETABLE_PARTITIONS`);
   * nothing else is deletable. Not written on rows: `withIdempotencyRelease` derives it.
   */
  deletes?: DeletablePartition[];
  /**
   * Envelope encryption with the platform KMS key, per purpose of what is sealed (card bundle,
   * eKYC, webhook secret, ...). In AWS the grant is conditional on the ciphertext's
   * `kms:EncryptionContext:purpose`, so a function can only seal or open the purposes listed here
   * (the local stack enforces the same: shared/crypto/local-key-policy.ts).
   */
  encrypt?: SealPurpose[];
  decrypt?: SealPurpose[];
  /**
   * Keyed-hash purposes (shared/crypto/keyed-hash.ts), each its own KMS HMAC key that never leaves
   * KMS: the function may call `kms:GenerateMac` with these keys and no other (the local stack
   * enforces the same). `idempotency` on every POST (the wrapper fingerprints the request and seals
   * the stored answer), `cursor` on every paginated list, `pan` only where a card is found by its
   * number or created.
   */
  macs?: MacPurpose[];
  /** Queues the function sends to. */
  sendTo?: QueueName[];
  /** The account-level extended public keys deposit addresses derive from (`WALLET_XPUB_*`). */
  walletKeys?: boolean;
  /**
   * Money settings the operator sets (shared/services/operator-settings.ts): `fx` for rows that
   * convert currencies, `deposit-fee` for rows that credit deposits. On a stage that keeps them in
   * SSM, the function is told their parameter names and may `ssm:GetParameter` exactly those.
   */
  settings?: OperatorSetting[];
}

/** A row as written: the operation's contract (shared/contracts/), its handler module and what it may touch. */
export interface RouteRowSpec {
  operation: Operation;
  handler: string;
  access: Access;
}

/** A row as deployed: method, path, credential and stage come from the contract, once. */
export interface RouteRow extends RouteRowSpec {
  method: HttpMethod;
  /** API Gateway path with `{param}` placeholders. */
  path: string;
  credential: Credential;
  /** Only deployed on the `sandbox` stage (the local stack is sandbox). */
  sandboxOnly: boolean;
}

/** Queues and their consumers. Each queue gets a DLQ after `maxReceiveCount` receives. */
export interface QueueRow {
  name: QueueName;
  /** The consumer's Lambda timeout; the queue's visibility timeout is six times this. */
  consumerTimeoutSeconds: number;
  maxReceiveCount: number;
}

export interface ConsumerRow {
  handler: string;
  /**
   * `stream`: the table's stream; `filter` lets only newly inserted items whose `attribute` begins
   * with `beginsWith` (e.g. outbox events) invoke the consumer. `queue`: one of `queues`.
   */
  source: { kind: 'stream'; filter?: { attribute: string; beginsWith: string } } | { kind: 'queue'; queue: QueueName };
  batchSize: number;
  access: Access;
}

/**
 * Functions run on a schedule: an EventBridge rule per row in AWS, a timer per row in the local
 * stack. A run must be safe to repeat or overlap (a missed run is simply the next run's work).
 */
export interface ScheduleRow {
  handler: string;
  /** How often it runs: an EventBridge `rate(n minutes)` (1 is the finest rate). */
  everyMinutes: number;
  /** Its Lambda timeout; at most one period, so a run ends before the next one is due. */
  timeoutSeconds: number;
  access: Access;
}
