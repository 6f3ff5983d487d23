/**
 * THE route table: the whole API on one screen, and the single source of truth for both the CDK
 * stack (one function + one API Gateway method per row) and the local stack (which dispatches
 * requests by the same rows). Adding an endpoint is one row here plus one handler file.
 *
 * `handler` is the module under `functions/` (without `.ts`) that exports `handler`.
 * `access` is everything the function may touch; the stack grants exactly that and no more.
 */

import type { SealPurpose } from '../shared/crypto/envelope.ts';
import type { MacPurpose } from '../shared/crypto/keyed-hash.ts';
import type { DeletablePartition } from '../shared/db/keys.ts';
import type { CredentialKind } from '../shared/domain/credentials.ts';
import type { OperatorSetting } from '../shared/services/operator-settings.ts';
import { attemptsCovering, OTP_RETRY, TRANSACTION_EVENT_RETRY } from '../shared/domain/webhook-delivery.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Which authorizer guards the route, by the kind of key it takes (shared/domain/credentials.ts):
 * `'business' | 'network' | 'chain'`. Any other kind of valid key gets `403` naming this one.
 */
export type Credential = CredentialKind;

export type QueueName = 'otp' | 'events';

export interface Access {
  /**
   * DynamoDB table access. `readWrite` inserts and updates, except in the append-only partitions
   * (ledger postings, card audit events), which no role may update or delete in.
   */
  table: 'read' | 'readWrite';
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

export interface RouteRow {
  method: HttpMethod;
  /** API Gateway path with `{param}` placeholders. */
  path: string;
  handler: string;
  credential: Credential;
  /** Only deployed on the `sandbox` stage (the local stack is sandbox). */
  sandboxOnly?: boolean;
  access: Access;
}

const read: Access = { table: 'read' };
const list: Access = { table: 'read', macs: ['cursor'] };
/** A POST: its Idempotency-Key is fingerprinted and its answer sealed with the idempotency key. */
const post: Access = { table: 'readWrite', macs: ['idempotency'] };
const update: Access = { table: 'readWrite' };

const routeRows: RouteRow[] = [
  // Users (B2C cardholders)
  { method: 'POST', path: '/v1/users', handler: 'users/create-user', credential: 'business', access: { ...post, macs: ['idempotency', 'ekyc'], encrypt: ['ekyc'], decrypt: ['ekyc'] } },
  { method: 'GET', path: '/v1/users', handler: 'users/list-users', credential: 'business', access: { ...list, decrypt: ['ekyc'] } },
  { method: 'GET', path: '/v1/users/{p_user_id}', handler: 'users/get-user', credential: 'business', access: { ...read, decrypt: ['ekyc'] } },
  { method: 'PATCH', path: '/v1/users/{p_user_id}', handler: 'users/update-user-status', credential: 'business', access: { ...update, decrypt: ['ekyc'] } },
  { method: 'GET', path: '/v1/users/{p_user_id}/balances', handler: 'users/list-user-balances', credential: 'business', access: read },

  // Wallets: deposit addresses and deposits of a user
  { method: 'POST', path: '/v1/users/{p_user_id}/wallet-addresses', handler: 'wallets/create-wallet-address', credential: 'business', access: { ...post, walletKeys: true } },
  { method: 'GET', path: '/v1/users/{p_user_id}/wallet-addresses', handler: 'wallets/list-wallet-addresses', credential: 'business', access: read },
  { method: 'GET', path: '/v1/users/{p_user_id}/deposits', handler: 'wallets/list-user-deposits', credential: 'business', access: list },

  // Platform transfers between users of a business
  { method: 'POST', path: '/v1/transfers', handler: 'transfers/create-transfer', credential: 'business', access: { ...post, macs: ['idempotency', 'ekyc'] } },
  { method: 'GET', path: '/v1/transfers', handler: 'transfers/list-transfers', credential: 'business', access: list },
  { method: 'GET', path: '/v1/transfers/{id}', handler: 'transfers/get-transfer', credential: 'business', access: read },

  // Cards. Issuing seals the new card's secrets (encrypt, no decrypt); only the full-details route
  // may decrypt them, and it writes an audit event first (readWrite).
  { method: 'POST', path: '/v1/cards', handler: 'cards/create-card', credential: 'business', access: { ...post, macs: ['idempotency', 'pan'], encrypt: ['card', 'card-shipping'] } },
  { method: 'GET', path: '/v1/cards', handler: 'cards/list-cards', credential: 'business', access: list },
  { method: 'GET', path: '/v1/cards/{id}', handler: 'cards/get-card', credential: 'business', access: read },
  { method: 'GET', path: '/v1/cards/{id}/full', handler: 'cards/get-card-full-details', credential: 'business', access: { table: 'readWrite', decrypt: ['card'] } },
  { method: 'GET', path: '/v1/cards/{id}/audit-events', handler: 'cards/list-card-audit-events', credential: 'business', access: list },
  { method: 'POST', path: '/v1/cards/{id}/lock', handler: 'cards/lock-card', credential: 'business', access: post },
  { method: 'POST', path: '/v1/cards/{id}/unlock', handler: 'cards/unlock-card', credential: 'business', access: post },
  { method: 'POST', path: '/v1/cards/{id}/terminate', handler: 'cards/terminate-card', credential: 'business', access: post },
  { method: 'PUT', path: '/v1/cards/{id}/limits', handler: 'cards/update-card-limits', credential: 'business', access: update },

  // Business (B2B) balances
  { method: 'GET', path: '/v1/balances', handler: 'balances/list-business-balances', credential: 'business', access: read },

  // Card transactions
  { method: 'GET', path: '/v1/cards/{id}/transactions', handler: 'transactions/list-card-transactions', credential: 'business', access: list },
  { method: 'GET', path: '/v1/transactions/{id}', handler: 'transactions/get-transaction', credential: 'business', access: read },

  // Events and webhooks. Redelivery commits a request the outbox dispatcher queues (no SQS access here).
  { method: 'GET', path: '/v1/events', handler: 'events/list-events', credential: 'business', access: list },
  { method: 'POST', path: '/v1/events/{id}/redeliver', handler: 'events/redeliver-event', credential: 'business', access: post },

  // Sandbox simulator: the network's flows, addressed by card id, with the business key
  { method: 'POST', path: '/v1/simulate/authorizations', handler: 'simulate/create-authorization', credential: 'business', sandboxOnly: true, access: { ...post, settings: ['fx'] } },
  { method: 'POST', path: '/v1/simulate/authorizations/{id}/reverse', handler: 'simulate/reverse-authorization', credential: 'business', sandboxOnly: true, access: post },
  { method: 'POST', path: '/v1/simulate/authorizations/{id}/settle', handler: 'simulate/settle-authorization', credential: 'business', sandboxOnly: true, access: post },
  { method: 'POST', path: '/v1/simulate/topups', handler: 'simulate/create-topup', credential: 'business', sandboxOnly: true, access: post },
  // A challenge seals its one-time code into the outbox event (encrypt); verifying needs only the HMAC key.
  { method: 'POST', path: '/v1/simulate/3ds', handler: 'simulate/create-3ds-challenge', credential: 'business', sandboxOnly: true, access: { ...post, macs: ['idempotency', 'otp'], encrypt: ['otp'] } },
  { method: 'POST', path: '/v1/simulate/3ds/{verification_id}/verify', handler: 'simulate/verify-3ds-challenge', credential: 'business', sandboxOnly: true, access: { ...post, macs: ['idempotency', 'otp'] } },
  { method: 'POST', path: '/v1/simulate/deposits', handler: 'simulate/create-deposit', credential: 'business', sandboxOnly: true, access: { ...post, settings: ['deposit-fee'] } },

  // Card network (processor gateway), addressed by card number, with the card network's credential
  { method: 'POST', path: '/network/authorizations', handler: 'network/create-authorization', credential: 'network', access: { ...post, macs: ['idempotency', 'pan'], settings: ['fx'] } },
  { method: 'POST', path: '/network/authorizations/{id}/reverse', handler: 'network/reverse-authorization', credential: 'network', access: post },
  { method: 'POST', path: '/network/authorizations/{id}/settle', handler: 'network/settle-authorization', credential: 'network', access: post },
  { method: 'POST', path: '/network/3ds/challenges', handler: 'network/create-3ds-challenge', credential: 'network', access: { ...post, macs: ['idempotency', 'pan', 'otp'], encrypt: ['otp'] } },
  { method: 'POST', path: '/network/3ds/challenges/{verification_id}/verify', handler: 'network/verify-3ds-challenge', credential: 'network', access: { ...post, macs: ['idempotency', 'otp'] } },
  // The chain watcher reports deposits to the platform's addresses, with its own credential: a
  // deposit credits money, which the card network must never be able to do.
  { method: 'POST', path: '/network/deposits', handler: 'network/create-deposit', credential: 'chain', access: { ...post, settings: ['deposit-fee'] } },
];

/**
 * Every POST may claim an `Idempotency-Key` and, when its effect fails, release the claim
 * (shared/http/handler.ts): a DeleteItem on its idempotency marker, the only delete a request
 * makes. Derived here from the method, in one place, rather than written on each POST row.
 */
function withIdempotencyRelease(row: RouteRow): RouteRow {
  if (row.method !== 'POST') return row;
  return { ...row, access: { ...row.access, deletes: ['idempotency'] } };
}

/** The route table as deployed: the rows above, each POST row with its idempotency release. */
export const routes: RouteRow[] = routeRows.map(withIdempotencyRelease);

/**
 * The authorizers, one per credential kind (API Gateway caches each one's verdict per key, so one
 * authorizer per kind keeps a key's Allow on its own routes from answering for another kind's).
 * They read the table and use the credential MAC key only.
 */
export const authorizers: Record<Credential, { handler: string; access: Access }> = {
  business: { handler: 'auth/authorize-business', access: { table: 'read', macs: ['credential'] } },
  network: { handler: 'auth/authorize-network', access: { table: 'read', macs: ['credential'] } },
  chain: { handler: 'auth/authorize-chain', access: { table: 'read', macs: ['credential'] } },
};

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
 * Each queue's `maxReceiveCount` is the number of attempts its retry schedule needs to span its
 * retry window (shared/domain/webhook-delivery.ts): 24 h for transaction events, the code's 5 min
 * for OTPs. A consumer may POST for up to 10 s per message, its batch in parallel.
 */
export const queues: QueueRow[] = [
  { name: 'otp', consumerTimeoutSeconds: 20, maxReceiveCount: attemptsCovering(OTP_RETRY) },
  { name: 'events', consumerTimeoutSeconds: 30, maxReceiveCount: attemptsCovering(TRANSACTION_EVENT_RETRY) },
];

/**
 * The outbox dispatcher reads new `EVENT#` items from the stream (events and redelivery requests)
 * and sends them to the webhook queues (the sweeper, a scheduled function, is the only other
 * sender); each queue has one delivery function.
 * Deliveries record attempts on the event (readWrite) and open the webhook secret and sealed OTPs
 * (decrypt).
 */
export const consumers: ConsumerRow[] = [
  {
    handler: 'webhooks/dispatch-outbox-events',
    source: { kind: 'stream', filter: { attribute: 'PK', beginsWith: 'EVENT#' } },
    batchSize: 100,
    access: { table: 'read', sendTo: ['otp', 'events'] },
  },
  { handler: 'webhooks/deliver-otp', source: { kind: 'queue', queue: 'otp' }, batchSize: 5, access: { table: 'readWrite', decrypt: ['webhook-secret', 'otp'] } },
  { handler: 'webhooks/deliver-transaction-event', source: { kind: 'queue', queue: 'events' }, batchSize: 10, access: { table: 'readWrite', decrypt: ['webhook-secret'] } },
];

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

/**
 * The webhook sweeper re-queues events whose delivery stalled (shared/services/webhook-sweeper.ts):
 * it reads the undelivered-events index and records new generations on events (readWrite), and
 * sends straight to both webhook queues, so a stalled stream cannot stall it too.
 */
export const schedules: ScheduleRow[] = [
  { handler: 'webhooks/sweep-undelivered-events', everyMinutes: 1, timeoutSeconds: 60, access: { table: 'readWrite', sendTo: ['otp', 'events'] } },
];

/** The rows deployed on a stage. */
export function routesForStage(stage: 'sandbox' | 'production'): RouteRow[] {
  return routes.filter((route) => stage === 'sandbox' || !route.sandboxOnly);
}
