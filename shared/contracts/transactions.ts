/** Card transactions, webhook events, and the card network's routes (the chain watcher's: deposits.ts). */
import { ListEventsQuery } from '../domain/events.ts';
import { NetworkThreeDsBody, SimulateThreeDsBody, VerifyOtpBody } from '../domain/three-ds.ts';
import {
  AdjustAuthorizationBody,
  CaptureBody,
  IncrementBody,
  ListCardTransactionsQuery,
  ListTransactionsQuery,
  NetworkAuthorizationBody,
  NetworkForcePostBody,
  NetworkRefundBody,
  SimulateAuthorizationBody,
  SimulateForcePostBody,
  SimulateRefundBody,
  TopupBody,
} from '../domain/transactions.ts';
import { pathIds } from '../http/path-ids.ts';
import { NEW_OR_REPEAT, operation } from './operation.ts';
import { CardTransaction, Challenge, Event, EventTypeList, listPage, Topup, Verification } from './resources.ts';

const transaction = pathIds({ id: 'transaction' });
const verification = pathIds({ verification_id: 'verification' });
const STATUS_ERRORS = ['transaction_declined', 'transaction_reversed', 'transaction_settled', 'transaction_expired'] as const;
const ADJUSTMENT_ERRORS = [...STATUS_ERRORS, 'amount_exceeds_authorization'] as const;
const INCREMENT_ERRORS = [...STATUS_ERRORS, 'increment_declined'] as const;
const FORCE_POST_ERRORS = ['card_not_found', 'network_settlement_conflict'] as const;
const REFUND_ERRORS = ['card_not_found', 'transaction_not_found', 'network_refund_conflict'] as const;
const CAPTURE_DESCRIPTION =
  'Posts `amount` (default: everything still held; of an `Expired` authorization, what its expiry released). `final: false` keeps the rest held for later captures; ' +
  'the transaction is `Settled` on the final capture or when nothing is left held, and `final_local_amount` is the sum of the captures. ' +
  'A capture may exceed what is held by up to 20% of the authorized amount for MCCs 5812, 5813, 5814, 4121 and 7230 (tips), otherwise `422 amount_exceeds_authorization`. ' +
  'A capture of an `Expired` authorization always posts, even below a zero available balance.';
const INCREMENT_DESCRIPTION =
  'The extra `amount` (in the transaction currency) is checked like a new authorization for that amount only (card, controls, limits, balance) and the business\'s authorization endpoint is asked. ' +
  'Approved: the enlarged transaction (webhook action `Authorization`). Declined: `422 increment_declined` with `decline_reason`, and the hold stays as it was.';
const FORCE_POST_DESCRIPTION =
  'A capture with no authorization: always posts (status `Settled`, webhook action `Settled`), even below a zero available balance. ' +
  'A repeat of `network_settlement_id` with the same card and terms answers the first transaction with `200`; with other terms, `409 network_settlement_conflict`.';
const REFUND_DESCRIPTION =
  'A `Refund` transaction, status `Settled`, with positive amounts, credited to the balance the card spends (webhook action `Refund`); limit windows get nothing back. ' +
  'A repeat of `network_refund_id` with the same card and terms answers the first refund with `200`; with other terms, `409 network_refund_conflict`.';
const CHALLENGE_ERRORS = ['card_not_found', 'card_terminated', 'card_locked', 'card_expired', 'user_suspended', 'otp_attempts_exhausted'] as const;

export const listCardTransactions = operation({
  id: 'listCardTransactions',
  method: 'GET',
  path: '/v1/cards/{id}/transactions',
  credential: 'business',
  tag: 'Transactions',
  summary: "List a card's transactions",
  params: pathIds({ id: 'card' }),
  query: ListCardTransactionsQuery,
  status: 200,
  response: listPage(CardTransaction, 'CardTransactionList'),
  errors: [],
});

export const listTransactions = operation({
  id: 'listTransactions',
  method: 'GET',
  path: '/v1/transactions',
  credential: 'business',
  tag: 'Transactions',
  summary: 'List every transaction of the business',
  description: 'Newest first; `card_id` and `p_user_id` must name a card or user of the business (otherwise `404`).',
  query: ListTransactionsQuery,
  status: 200,
  response: listPage(CardTransaction, 'TransactionList'),
  errors: ['card_not_found', 'user_not_found'],
});

export const getTransaction = operation({
  id: 'getTransaction',
  method: 'GET',
  path: '/v1/transactions/{id}',
  credential: 'business',
  tag: 'Transactions',
  summary: 'Get a transaction',
  params: transaction,
  status: 200,
  response: CardTransaction,
  errors: [],
});

export const listEvents = operation({
  id: 'listEvents',
  method: 'GET',
  path: '/v1/events',
  credential: 'business',
  tag: 'Events',
  summary: 'List webhook events with their delivery status',
  query: ListEventsQuery,
  status: 200,
  response: listPage(Event, 'EventList'),
  errors: [],
});

export const getEvent = operation({
  id: 'getEvent',
  method: 'GET',
  path: '/v1/events/{id}',
  credential: 'business',
  tag: 'Events',
  summary: 'Get a webhook event with its delivery status',
  params: pathIds({ id: 'event' }),
  status: 200,
  response: Event,
  errors: [],
});

export const listEventTypes = operation({
  id: 'listEventTypes',
  method: 'GET',
  path: '/v1/event-types',
  credential: 'business',
  tag: 'Events',
  summary: 'List the webhook event types with the JSON Schema of each payload',
  status: 200,
  response: EventTypeList,
  errors: [],
});

export const redeliverEvent = operation({
  id: 'redeliverEvent',
  method: 'POST',
  path: '/v1/events/{id}/redeliver',
  credential: 'business',
  tag: 'Events',
  summary: 'Send an event to the webhook again',
  params: pathIds({ id: 'event' }),
  status: 202,
  response: Event,
  errors: ['event_expired'],
});

// Sandbox simulator: the network's flows, addressed by card id, with the business key

export const simulateAuthorization = operation({
  id: 'simulateAuthorization',
  method: 'POST',
  path: '/v1/simulate/authorizations',
  credential: 'business',
  sandboxOnly: true,
  tag: 'Sandbox simulator',
  summary: 'Simulate a card authorization',
  description: 'Answers `201` with the transaction, approved (`Authorized`) or `Declined` with its `decline_reason`.',
  body: SimulateAuthorizationBody,
  status: 201,
  response: CardTransaction,
  errors: ['card_not_found'],
});

export const simulateReversal = operation({
  id: 'simulateReversal',
  method: 'POST',
  path: '/v1/simulate/authorizations/{id}/reverse',
  credential: 'business',
  sandboxOnly: true,
  tag: 'Sandbox simulator',
  summary: 'Simulate a (partial) reversal',
  params: transaction,
  body: AdjustAuthorizationBody,
  status: 200,
  response: CardTransaction,
  errors: ADJUSTMENT_ERRORS,
});

export const simulateSettlement = operation({
  id: 'simulateSettlement',
  method: 'POST',
  path: '/v1/simulate/authorizations/{id}/settle',
  credential: 'business',
  sandboxOnly: true,
  tag: 'Sandbox simulator',
  summary: 'Simulate a settlement (capture), partial or final',
  description: CAPTURE_DESCRIPTION,
  params: transaction,
  body: CaptureBody,
  status: 200,
  response: CardTransaction,
  errors: ADJUSTMENT_ERRORS,
});

export const simulateTopup = operation({
  id: 'simulateTopup',
  method: 'POST',
  path: '/v1/simulate/topups',
  credential: 'business',
  sandboxOnly: true,
  tag: 'Sandbox simulator',
  summary: "Credit the business's own balance",
  body: TopupBody,
  status: 201,
  response: Topup,
  errors: [],
});

export const simulateThreeDsChallenge = operation({
  id: 'simulateThreeDsChallenge',
  method: 'POST',
  path: '/v1/simulate/3ds',
  credential: 'business',
  sandboxOnly: true,
  tag: 'Sandbox simulator',
  summary: 'Simulate a 3DS challenge (the code is sent by webhook)',
  body: SimulateThreeDsBody,
  status: 201,
  response: Challenge,
  errors: CHALLENGE_ERRORS,
});

export const simulateThreeDsVerification = operation({
  id: 'simulateThreeDsVerification',
  method: 'POST',
  path: '/v1/simulate/3ds/{verification_id}/verify',
  credential: 'business',
  sandboxOnly: true,
  tag: 'Sandbox simulator',
  summary: 'Verify a 3DS code',
  params: verification,
  body: VerifyOtpBody,
  status: 200,
  response: Verification,
  errors: ['verification_already_used'],
});

// The card network (processor gateway), addressed by card number, with its own credential

export const networkAuthorization = operation({
  id: 'networkAuthorization',
  method: 'POST',
  path: '/network/authorizations',
  credential: 'network',
  tag: 'Card network',
  summary: 'Authorize a purchase',
  description: 'A repeat of `network_authorization_id` for the same card, amount, currency and merchant answers the first decision with `200`.',
  body: NetworkAuthorizationBody,
  status: 201,
  otherStatuses: NEW_OR_REPEAT,
  response: CardTransaction,
  errors: ['card_not_found', 'network_authorization_conflict'],
});

export const networkReversal = operation({
  id: 'networkReversal',
  method: 'POST',
  path: '/network/authorizations/{id}/reverse',
  credential: 'network',
  tag: 'Card network',
  summary: 'Reverse an authorization (in part or whole)',
  params: transaction,
  body: AdjustAuthorizationBody,
  status: 200,
  idempotent: 'required',
  response: CardTransaction,
  errors: ADJUSTMENT_ERRORS,
});

export const networkSettlement = operation({
  id: 'networkSettlement',
  method: 'POST',
  path: '/network/authorizations/{id}/settle',
  credential: 'network',
  tag: 'Card network',
  summary: 'Settle (capture) an authorization, in part or finally',
  description: CAPTURE_DESCRIPTION,
  params: transaction,
  body: CaptureBody,
  status: 200,
  idempotent: 'required',
  response: CardTransaction,
  errors: ADJUSTMENT_ERRORS,
});

export const networkThreeDsChallenge = operation({
  id: 'networkThreeDsChallenge',
  method: 'POST',
  path: '/network/3ds/challenges',
  credential: 'network',
  tag: 'Card network',
  summary: 'Start a 3DS challenge for a card',
  body: NetworkThreeDsBody,
  status: 201,
  response: Challenge,
  errors: CHALLENGE_ERRORS,
});

export const networkThreeDsVerification = operation({
  id: 'networkThreeDsVerification',
  method: 'POST',
  path: '/network/3ds/challenges/{verification_id}/verify',
  credential: 'network',
  tag: 'Card network',
  summary: 'Verify a 3DS code',
  params: verification,
  body: VerifyOtpBody,
  status: 200,
  response: Verification,
  errors: ['verification_already_used'],
});

export const simulateIncrement = operation({
  id: 'simulateIncrement',
  method: 'POST',
  path: '/v1/simulate/authorizations/{id}/increment',
  credential: 'business',
  sandboxOnly: true,
  tag: 'Sandbox simulator',
  summary: 'Simulate an incremental authorization',
  description: INCREMENT_DESCRIPTION,
  params: transaction,
  body: IncrementBody,
  status: 200,
  response: CardTransaction,
  errors: INCREMENT_ERRORS,
});

export const simulateExpiry = operation({
  id: 'simulateExpiry',
  method: 'POST',
  path: '/v1/simulate/authorizations/{id}/expire',
  credential: 'business',
  sandboxOnly: true,
  tag: 'Sandbox simulator',
  summary: 'Expire an authorization now',
  description: 'Does at once what the platform does when a hold reaches its expiry: releases what is held, gives it back to the limit windows, status `Expired` (webhook action `Expired`).',
  params: transaction,
  status: 200,
  response: CardTransaction,
  errors: STATUS_ERRORS,
});

export const simulateForcePost = operation({
  id: 'simulateForcePost',
  method: 'POST',
  path: '/v1/simulate/settlements',
  credential: 'business',
  sandboxOnly: true,
  tag: 'Sandbox simulator',
  summary: 'Simulate a force post (a capture with no authorization)',
  description: FORCE_POST_DESCRIPTION,
  body: SimulateForcePostBody,
  status: 201,
  otherStatuses: NEW_OR_REPEAT,
  response: CardTransaction,
  errors: FORCE_POST_ERRORS,
});

export const simulateRefund = operation({
  id: 'simulateRefund',
  method: 'POST',
  path: '/v1/simulate/refunds',
  credential: 'business',
  sandboxOnly: true,
  tag: 'Sandbox simulator',
  summary: 'Simulate a refund',
  description: REFUND_DESCRIPTION,
  body: SimulateRefundBody,
  status: 201,
  otherStatuses: NEW_OR_REPEAT,
  response: CardTransaction,
  errors: REFUND_ERRORS,
});

export const networkIncrement = operation({
  id: 'networkIncrement',
  method: 'POST',
  path: '/network/authorizations/{id}/increment',
  credential: 'network',
  tag: 'Card network',
  summary: 'Increment an authorization',
  description: INCREMENT_DESCRIPTION,
  params: transaction,
  body: IncrementBody,
  status: 200,
  idempotent: 'required',
  response: CardTransaction,
  errors: INCREMENT_ERRORS,
});

export const networkForcePost = operation({
  id: 'networkForcePost',
  method: 'POST',
  path: '/network/settlements',
  credential: 'network',
  tag: 'Card network',
  summary: 'Force post a capture with no authorization',
  description: FORCE_POST_DESCRIPTION,
  body: NetworkForcePostBody,
  status: 201,
  otherStatuses: NEW_OR_REPEAT,
  response: CardTransaction,
  errors: FORCE_POST_ERRORS,
});

export const networkRefund = operation({
  id: 'networkRefund',
  method: 'POST',
  path: '/network/refunds',
  credential: 'network',
  tag: 'Card network',
  summary: 'Refund a purchase to a card',
  description: REFUND_DESCRIPTION,
  body: NetworkRefundBody,
  status: 201,
  otherStatuses: NEW_OR_REPEAT,
  response: CardTransaction,
  errors: REFUND_ERRORS,
});
