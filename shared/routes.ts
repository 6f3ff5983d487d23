/**
 * THE route table: the whole API on one screen, and the single source of truth for both the CDK
 * stack (one function + one API Gateway method per row) and the local stack (which dispatches
 * requests by the same rows). Adding an endpoint is one row here plus one handler file.
 *
 * `handler` is the module under `functions/` (without `.ts`) that exports `handler`.
 * `access` is everything the function may touch; the stack grants exactly that and no more.
 */

import type { Operation } from './contracts/operation.ts';
import * as apiDescription from './contracts/api-description.ts';
import * as authorizationEndpoint from './contracts/authorization-endpoint.ts';
import * as cardReveal from './contracts/card-reveal.ts';
import * as cards from './contracts/cards.ts';
import * as controls from './contracts/controls.ts';
import * as deposits from './contracts/deposits.ts';
import * as transactions from './contracts/transactions.ts';
import * as transfers from './contracts/transfers.ts';
import * as users from './contracts/users.ts';
import * as webhookEndpoint from './contracts/webhook-endpoint.ts';
import type { CredentialKind } from './domain/credentials.ts';
import { attemptsCovering, OTP_RETRY, TRANSACTION_EVENT_RETRY } from './domain/webhook-delivery.ts';
import type { Access, ConsumerRow, QueueRow, RouteRow, RouteRowSpec, ScheduleRow } from './route-rows.ts';

export type * from './route-rows.ts';

/** Touches no table, key or queue (the API description). */
const none: Access = { table: 'none' };
const read: Access = { table: 'read' };
const list: Access = { table: 'read', macs: ['cursor'] };
/** A POST: its Idempotency-Key is fingerprinted and its answer sealed with the idempotency key. */
const post: Access = { table: 'readWrite', macs: ['idempotency'] };
const update: Access = { table: 'readWrite' };

const routeRows: RouteRowSpec[] = [
  // Users (B2C cardholders)
  // Creating a user seals its eKYC and answers from the request: it never opens one.
  { operation: users.createUser, handler: 'users/create-user', access: { ...post, macs: ['idempotency', 'ekyc'], encrypt: ['ekyc'] } },
  { operation: users.listUsers, handler: 'users/list-users', access: { ...list, decrypt: ['ekyc'] } },
  { operation: users.getUser, handler: 'users/get-user', access: { ...read, decrypt: ['ekyc'] } },
  { operation: users.updateUserStatus, handler: 'users/update-user-status', access: { ...update, decrypt: ['ekyc'] } },
  { operation: users.listUserBalances, handler: 'users/list-user-balances', access: read },

  // Wallets: deposit addresses and deposits of a user
  { operation: users.createWalletAddress, handler: 'wallets/create-wallet-address', access: { ...post, walletKeys: true } },
  { operation: users.listWalletAddresses, handler: 'wallets/list-wallet-addresses', access: read },
  { operation: users.listUserDeposits, handler: 'wallets/list-user-deposits', access: list },

  // Platform transfers between users of a business
  { operation: transfers.createTransfer, handler: 'transfers/create-transfer', access: { ...post, macs: ['idempotency', 'ekyc'] } },
  { operation: transfers.listTransfers, handler: 'transfers/list-transfers', access: list },
  { operation: transfers.getTransfer, handler: 'transfers/get-transfer', access: read },

  // Cards. Issuing seals the new card's secrets (encrypt, no decrypt); only the full-details route
  // and the reveal page may decrypt them, and each writes an audit event first (readWrite).
  { operation: cards.createCard, handler: 'cards/create-card', access: { ...post, macs: ['idempotency', 'pan'], encrypt: ['card', 'card-shipping'] } },
  { operation: cards.listCards, handler: 'cards/list-cards', access: list },
  { operation: cards.getCard, handler: 'cards/get-card', access: read },
  { operation: cards.getCardFullDetails, handler: 'cards/get-card-full-details', access: { table: 'readWrite', decrypt: ['card'] } },
  { operation: cards.listCardAuditEvents, handler: 'cards/list-card-audit-events', access: list },
  { operation: cards.lockCard, handler: 'cards/lock-card', access: post },
  { operation: cards.unlockCard, handler: 'cards/unlock-card', access: post },
  { operation: cards.terminateCard, handler: 'cards/terminate-card', access: post },
  { operation: cards.updateCardLimits, handler: 'cards/update-card-limits', access: update },
  { operation: cards.updateCardControls, handler: 'cards/update-card-controls', access: update },
  { operation: cards.getCardSpend, handler: 'cards/get-card-spend', access: read },
  // Reveal links: a session stores only its token's keyed hash (the `reveal` MAC key), and its
  // answer is never stored (not idempotent). The page, public (the token is the credential),
  // consumes the session, audits, and decrypts the card: nothing else.
  { operation: cardReveal.createRevealSession, handler: 'cards/create-reveal-session', access: { table: 'readWrite', macs: ['reveal'] } },
  { operation: cardReveal.getRevealPage, handler: 'card-reveal/get-reveal-page', access: { table: 'readWrite', macs: ['reveal'], decrypt: ['card'] } },

  // Spending controls the business sets for all its cards
  { operation: controls.getControls, handler: 'controls/get-controls', access: read },
  { operation: controls.updateControls, handler: 'controls/update-controls', access: update },

  // The real-time authorization endpoint: its secret is sealed on set and rotation (encrypt) and
  // opened by no route here but the authorization routes (decrypt `decision-secret`).
  { operation: authorizationEndpoint.setAuthorizationEndpoint, handler: 'authorization-endpoint/set-authorization-endpoint', access: { ...update, encrypt: ['decision-secret'] } },
  { operation: authorizationEndpoint.getAuthorizationEndpoint, handler: 'authorization-endpoint/get-authorization-endpoint', access: read },
  { operation: authorizationEndpoint.deleteAuthorizationEndpoint, handler: 'authorization-endpoint/delete-authorization-endpoint', access: update },
  { operation: authorizationEndpoint.rotateAuthorizationEndpointSecret, handler: 'authorization-endpoint/rotate-authorization-endpoint-secret', access: { ...post, encrypt: ['decision-secret'] } },

  // Business (B2B) balances
  { operation: cards.listBusinessBalances, handler: 'balances/list-business-balances', access: read },

  // Card transactions
  { operation: transactions.listCardTransactions, handler: 'transactions/list-card-transactions', access: list },
  { operation: transactions.listTransactions, handler: 'transactions/list-transactions', access: list },
  { operation: transactions.getTransaction, handler: 'transactions/get-transaction', access: read },

  // Events and webhooks. Redelivery commits a request the outbox dispatcher queues (no SQS access here).
  { operation: transactions.listEvents, handler: 'events/list-events', access: list },
  { operation: transactions.getEvent, handler: 'events/get-event', access: read },
  { operation: transactions.listEventTypes, handler: 'events/list-event-types', access: none },
  { operation: transactions.redeliverEvent, handler: 'events/redeliver-event', access: post },
  // The business's own webhook endpoint. A rotation seals the new secret (encrypt) and never opens
  // one; the test event goes through the outbox like any other (no SQS access here either).
  { operation: webhookEndpoint.getWebhookEndpoint, handler: 'webhook-endpoint/get-webhook-endpoint', access: read },
  { operation: webhookEndpoint.setWebhookEndpoint, handler: 'webhook-endpoint/set-webhook-endpoint', access: update },
  { operation: webhookEndpoint.rotateWebhookSecret, handler: 'webhook-endpoint/rotate-webhook-secret', access: { ...post, encrypt: ['webhook-secret'] } },
  { operation: webhookEndpoint.sendTestWebhook, handler: 'webhook-endpoint/send-test-webhook', access: post },

  // Sandbox simulator: the network's flows, addressed by card id, with the business key
  { operation: transactions.simulateAuthorization, handler: 'simulate/create-authorization', access: { ...post, settings: ['fx'], decrypt: ['decision-secret'] } },
  { operation: transactions.simulateReversal, handler: 'simulate/reverse-authorization', access: post },
  { operation: transactions.simulateSettlement, handler: 'simulate/settle-authorization', access: post },
  { operation: transactions.simulateTopup, handler: 'simulate/create-topup', access: post },
  // A challenge seals its one-time code into the outbox event (encrypt); verifying needs only the HMAC key.
  { operation: transactions.simulateThreeDsChallenge, handler: 'simulate/create-3ds-challenge', access: { ...post, macs: ['idempotency', 'otp'], encrypt: ['otp'] } },
  { operation: transactions.simulateThreeDsVerification, handler: 'simulate/verify-3ds-challenge', access: { ...post, macs: ['idempotency', 'otp'] } },
  { operation: deposits.simulateDeposit, handler: 'simulate/create-deposit', access: { ...post, settings: ['deposit-fee'] } },
  // The authorization lifecycle: increments ask the business's endpoint like an authorization (decrypt `decision-secret`).
  { operation: transactions.simulateIncrement, handler: 'simulate/increment-authorization', access: { ...post, settings: ['fx'], decrypt: ['decision-secret'] } },
  { operation: transactions.simulateExpiry, handler: 'simulate/expire-authorization', access: post },
  { operation: transactions.simulateForcePost, handler: 'simulate/create-force-post', access: { ...post, settings: ['fx'] } },
  { operation: transactions.simulateRefund, handler: 'simulate/create-refund', access: { ...post, settings: ['fx'] } },

  // The API's own description, public (no key): generated from the contracts above, never by hand,
  // and the reference page that renders it; they touch nothing else.
  { operation: apiDescription.getOpenApiDocument, handler: 'docs/get-openapi-document', access: none },
  { operation: apiDescription.getReferencePage, handler: 'docs/get-docs-page', access: none },

  // Card network (processor gateway), addressed by card number, with the card network's credential
  { operation: transactions.networkAuthorization, handler: 'network/create-authorization', access: { ...post, macs: ['idempotency', 'pan'], settings: ['fx'], decrypt: ['decision-secret'] } },
  { operation: transactions.networkReversal, handler: 'network/reverse-authorization', access: post },
  { operation: transactions.networkSettlement, handler: 'network/settle-authorization', access: post },
  { operation: transactions.networkThreeDsChallenge, handler: 'network/create-3ds-challenge', access: { ...post, macs: ['idempotency', 'pan', 'otp'], encrypt: ['otp'] } },
  { operation: transactions.networkThreeDsVerification, handler: 'network/verify-3ds-challenge', access: { ...post, macs: ['idempotency', 'otp'] } },
  // The chain watcher reports deposits to the platform's addresses, with its own credential: a
  // deposit credits money, which the card network must never be able to do.
  { operation: deposits.chainDeposit, handler: 'network/create-deposit', access: { ...post, settings: ['deposit-fee'] } },
  // The card network's authorization lifecycle: increments, force posts and refunds (by card number: `pan`).
  { operation: transactions.networkIncrement, handler: 'network/increment-authorization', access: { ...post, settings: ['fx'], decrypt: ['decision-secret'] } },
  { operation: transactions.networkForcePost, handler: 'network/create-force-post', access: { ...post, macs: ['idempotency', 'pan'], settings: ['fx'] } },
  { operation: transactions.networkRefund, handler: 'network/create-refund', access: { ...post, macs: ['idempotency', 'pan'], settings: ['fx'] } },
];

/**
 * Every POST (but one whose contract says `idempotent: false`) may claim an `Idempotency-Key` and, when its effect fails, release the claim
 * (shared/http/handler.ts): a DeleteItem on its idempotency marker, the only delete a request
 * makes. Derived here from the method, in one place, rather than written on each POST row.
 */
function withIdempotencyRelease(row: RouteRow): RouteRow {
  if (row.method !== 'POST' || row.operation.idempotent === false) return row;
  return { ...row, access: { ...row.access, deletes: ['idempotency'] } };
}

function fromContract(row: RouteRowSpec): RouteRow {
  const { method, path, credential, sandboxOnly = false } = row.operation;
  return { ...row, method, path, credential, sandboxOnly };
}

/** The route table as deployed: the rows above, each POST row with its idempotency release. */
export const routes: RouteRow[] = routeRows.map(fromContract).map(withIdempotencyRelease);

/**
 * The authorizers, one per credential kind (API Gateway caches each one's verdict per key, so one
 * authorizer per kind keeps a key's Allow on its own routes from answering for another kind's).
 * They read the table and use the credential MAC key only.
 */
export const authorizers: Record<CredentialKind, { handler: string; access: Access }> = {
  business: { handler: 'auth/authorize-business', access: { table: 'read', macs: ['credential'] } },
  network: { handler: 'auth/authorize-network', access: { table: 'read', macs: ['credential'] } },
  chain: { handler: 'auth/authorize-chain', access: { table: 'read', macs: ['credential'] } },
};

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
 * The outbox dispatcher reads newly inserted events and redelivery requests from the stream (their
 * `entity` begins with `event`; an event's delivery record, `webhook_delivery`, does not) and sends
 * them to the webhook queues (the sweeper, a scheduled function, is the only other sender); each
 * queue has one delivery function. Deliveries record attempts on the event's delivery record
 * (readWrite) and open the webhook secret and sealed OTPs (decrypt).
 */
export const consumers: ConsumerRow[] = [
  {
    handler: 'webhooks/dispatch-outbox-events',
    source: { kind: 'stream', filter: { attribute: 'entity', beginsWith: 'event' } },
    batchSize: 100,
    access: { table: 'read', sendTo: ['otp', 'events'] },
  },
  { handler: 'webhooks/deliver-otp', source: { kind: 'queue', queue: 'otp' }, batchSize: 5, access: { table: 'readWrite', decrypt: ['webhook-secret', 'otp'] } },
  { handler: 'webhooks/deliver-transaction-event', source: { kind: 'queue', queue: 'events' }, batchSize: 10, access: { table: 'readWrite', decrypt: ['webhook-secret'] } },
];

/**
 * The webhook sweeper re-queues events whose delivery stalled (shared/services/webhook-sweeper.ts):
 * it reads the undelivered-events index and records new generations on events (readWrite), and
 * sends straight to both webhook queues, so a stalled stream cannot stall it too.
 * The hold-expiry sweeper releases holds past their expiry (shared/services/hold-expiry.ts): it
 * reads the hold-expiry index and commits each expiry with its posting and outbox event (readWrite).
 */
export const schedules: ScheduleRow[] = [
  { handler: 'webhooks/sweep-undelivered-events', everyMinutes: 1, timeoutSeconds: 60, access: { table: 'readWrite', sendTo: ['otp', 'events'] } },
  { handler: 'transactions/expire-holds', everyMinutes: 5, timeoutSeconds: 300, access: { table: 'readWrite' } },
];

/** The rows deployed on a stage. */
export function routesForStage(stage: 'sandbox' | 'production'): RouteRow[] {
  return routes.filter((route) => stage === 'sandbox' || !route.sandboxOnly);
}

/** The contracts of a stage's routes: what its OpenAPI description (shared/contracts/openapi.ts) describes. */
export function operationsForStage(stage: 'sandbox' | 'production'): Operation[] {
  return routesForStage(stage).map((route) => route.operation);
}
