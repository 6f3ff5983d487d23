/**
 * Card authorizations: the heart of the platform (their reversal, capture and expiry:
 * authorization-adjustments.ts).
 *
 * The approve path is one read (the card, with its own spending controls; the PAN index and the
 * business timezone are immutable and cached per container: transaction-lookups.ts; the
 * business's default controls are cached for a short while: services/controls.ts) and one
 * `TransactWriteItems`. Every rule that depends on a balance, a spend window or the day's count is
 * a condition of that transaction, so correctness under concurrency does not depend on what was
 * read: a stale read can only cause a retry or a decline, never an overspend.
 */
import { DECLINE_REASONS, preCheck, type DeclineReason } from '../domain/authorization.ts';
import { effectiveMaxDailyCount } from '../domain/controls.ts';
import { findUser } from '../db/users-repository.ts';
import { expiryFor } from '../domain/card-number.ts';
import { convert, isSupportedTransactionCurrency, type Conversion } from '../domain/fx.ts';
import { newId } from '../domain/ids.ts';
import { holdLegs, posting, type BalanceOwner } from '../domain/ledger.ts';
import { holdExpiresAt } from '../domain/hold-expiry.ts';
import { config } from '../config.ts';
import { formatMoney, parseMoney } from '../domain/money.ts';
import { windowPeriods } from '../domain/spend-windows.ts';
import { nowIso } from '../domain/time.ts';
import {
  merchantFrom,
  networkAuthorizationFingerprint,
  normalizeDecimal,
  repeatOrConflict,
  transactionView,
  type CardTransaction,
  type CardTransactionView,
  type Merchant,
  type NetworkAuthorizationBody,
  type NetworkAuthorizationClaim,
  type SimulateAuthorizationBody,
} from '../domain/transactions.ts';
import { ApiError, notFound } from '../errors.ts';
import { respond, type HttpResult } from '../http/responses.ts';
import { logger } from '../logger.ts';
import type { StoredBusiness } from '../db/businesses-repository.ts';
import { getCard, type StoredCard } from '../db/cards-repository.ts';
import type { IdempotencyScope } from '../db/idempotency-repository.ts';
import { commitApproval, commitDecline, getNetworkAuthorizationClaim, getTransaction, heldShard } from '../db/transactions-repository.ts';
import { holdWithEscrow, readBusinessBalance, routeFor } from './escrow.ts';
import { recordAuthorization, recordPartnerDecision } from '../metrics.ts';
import { businessControlsFor } from './controls.ts';
import { queryUserBalances } from '../db/balances-repository.ts';
import { escrowTotal } from '../domain/escrow.ts';
import { interpretReply, remainingBudgetMs, type Decision, type PartnerOutcome } from '../domain/authorization-decisions.ts';
import { askEndpoint, decisionEndpointOf, rememberEndpointOf, type DecisionEndpoint } from './authorization-endpoint.ts';
import { cardIdForNumber, timezoneOf, usableFx } from './transaction-lookups.ts';
import { checkPrecision, MAX_STALE_RETRIES, ownerOf, transactionEvent } from './transaction-writes.ts';

interface AuthorizationRequest {
  card: StoredCard;
  amount: string;
  currency: string;
  merchant: Merchant;
  transactionId: string;
  /** On the network route: the claim this request makes on the network's authorization id. */
  claim?: NetworkAuthorizationClaim;
  idempotency?: IdempotencyScope;
  /** When the request reached the platform (`performance.now()`): the endpoint's time budget counts from it. */
  startedAt: number;
  /** The business's endpoint's answer, once asked: a retry after a stale card does not ask again. */
  partner?: PartnerStep;
}

/** What the business's authorization endpoint decided, and how long it took. */
export interface PartnerStep {
  outcome: PartnerOutcome;
  latencyMs: number;
}

/** `POST /v1/simulate/authorizations`: a business authorizes against its own card by id. */
export async function simulateAuthorization(
  businessId: string,
  body: SimulateAuthorizationBody,
  idempotency?: IdempotencyScope,
): Promise<HttpResult<CardTransactionView>> {
  const startedAt = performance.now();
  const card = await getCard(body.card_id);
  if (!card || card.businessId !== businessId) throw notFound('card');
  return authorize({
    card,
    amount: body.amount,
    currency: body.currency,
    merchant: merchantFrom(body),
    transactionId: newId(),
    idempotency,
    startedAt,
  });
}

/**
 * `POST /network/authorizations`: the card network authorizes by card number. Its
 * `network_authorization_id` is claimed for this card and these terms by the authorization's own
 * transaction: a repeat with the same card, amount, currency and merchant answers `200` with the
 * first decision; the same id with anything else is `409 network_authorization_conflict`.
 */
export async function networkAuthorization(body: NetworkAuthorizationBody): Promise<HttpResult<CardTransactionView>> {
  const startedAt = performance.now();
  const cardId = await cardIdForNumber(body.card_number);
  const card = cardId ? await getCard(cardId) : undefined;
  if (!card) throw notFound('card');
  const merchant = merchantFrom(body);
  const transactionId = newId();
  return authorize({
    card,
    amount: body.amount,
    currency: body.currency,
    merchant,
    transactionId,
    startedAt,
    claim: {
      networkAuthorizationId: body.network_authorization_id,
      cardId: card.cardId,
      transactionId,
      fingerprint: networkAuthorizationFingerprint({ cardId: card.cardId, amount: body.amount, currency: body.currency, merchant }),
    },
  });
}

/**
 * The documented order puts `user_suspended` before the currency, rate and limit reasons, which
 * the pre-check decides from the card alone (the user's status is otherwise a condition of the
 * approval's transaction). So a B2C decline for one of those reads the user first: one read on a
 * decline path only, never on the approve path.
 */
export async function userSuspendedFirst(card: StoredCard, reason: DeclineReason): Promise<DeclineReason> {
  if (!card.userId || DECLINE_REASONS.indexOf(reason) < DECLINE_REASONS.indexOf('user_suspended')) return reason;
  const user = await findUser(card.businessId, card.userId);
  return user?.status === 'Active' ? reason : 'user_suspended';
}

async function authorize(request: AuthorizationRequest): Promise<HttpResult<CardTransactionView>> {
  let card = request.card;
  for (let attempt = 0; attempt < MAX_STALE_RETRIES; attempt++) {
    const outcome = await decide(card, request);
    if (outcome !== 'stale') return outcome;
    const fresh = await getCard(card.cardId);
    if (!fresh) throw notFound('card');
    card = fresh;
  }
  throw new ApiError('service_unavailable');
}

async function decide(card: StoredCard, request: AuthorizationRequest): Promise<HttpResult<CardTransactionView> | 'stale'> {
  const at = new Date();
  const now = nowIso();
  const cardCurrency = card.currency;
  const currency = request.currency;
  const supported = isSupportedTransactionCurrency(currency);
  let conversion: Conversion | undefined;
  let rateAvailable = true;
  if (supported) {
    checkPrecision(request.amount, currency);
    const amount = parseMoney(request.amount, currency);
    if (currency === cardCurrency) {
      // The same currency never needs a rate, so it never depends on the rate table.
      conversion = { localAmount: amount, fee: 0n };
    } else {
      const fx = await usableFx(at);
      if (fx) conversion = convert(amount, currency, cardCurrency, fx.rates.usdValues, fx.feeBps);
      else rateAvailable = false;
    }
  }
  const total = conversion ? conversion.localAmount + conversion.fee : 0n;
  const [timezone, businessControls] = await Promise.all([timezoneOf(card.businessId, rememberEndpoint(card.businessId)), businessControlsFor(card.businessId)]);
  const periods = windowPeriods(at, timezone);
  const controls = [card.controls, businessControls];

  const txn: CardTransaction = {
    transactionId: request.transactionId,
    businessId: card.businessId,
    cardId: card.cardId,
    mode: card.mode,
    userId: card.userId,
    status: 'Authorized',
    type: 'Sales',
    transactionCurrency: request.currency,
    transactionAmount: normalizeDecimal(request.amount),
    localCurrency: cardCurrency,
    localAmount: conversion?.localAmount ?? null,
    fee: conversion?.fee ?? 0n,
    heldAmount: total,
    remainingHold: total,
    reversedAmount: 0n,
    settledAmount: null,
    feeCollected: 0n,
    expiresAt: holdExpiresAt(config().HOLD_EXPIRY_DAYS, request.merchant.mcc, at),
    windows: periods,
    merchant: request.merchant,
    declineReason: null,
    networkAuthorizationId: request.claim?.networkAuthorizationId ?? null,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };

  const early = preCheck({
    cardStatus: card.status,
    expiry: expiryFor(new Date(card.createdAt)),
    at,
    currencySupported: supported,
    rateAvailable,
    total,
    limits: card.limits,
    controls,
    merchant: { mcc: request.merchant.mcc, country: request.merchant.merchantCountry },
  });
  if (early) return recordDecline({ ...txn, decision: PLATFORM_DECISION }, await userSuspendedFirst(card, early), request);

  const owner = ownerOf(card);
  // The platform's own checks passed: the business's endpoint, if it has one, decides next.
  const endpoint = await decisionEndpointOf(card.businessId);
  if (endpoint) {
    request.partner ??= await askPartner(endpoint, txn, owner, request);
    const { outcome, latencyMs } = request.partner;
    const decision: Decision =
      outcome.kind === 'stand_in' ? { source: 'stand_in', latencyMs, reason: outcome.reason } : { source: 'partner', latencyMs };
    Object.assign(txn, { decision }, 'metadata' in outcome && outcome.metadata ? { partnerMetadata: outcome.metadata } : {});
    if (outcome.kind === 'decline') return recordDecline({ ...txn, ...(outcome.partnerReason ? { partnerReason: outcome.partnerReason } : {}) }, 'partner_declined', request);
    if (outcome.kind === 'stand_in' && outcome.action === 'decline') return recordDecline(txn, 'stand_in_declined', request);
    if (outcome.kind === 'approve' && outcome.approvedMinor !== undefined) {
      // A partial approval holds what the partner approved, and only that counts against limits.
      Object.assign(txn, { approvedAmount: outcome.approvedMinor, heldAmount: outcome.approvedMinor, remainingHold: outcome.approvedMinor });
    }
  } else {
    txn.decision = PLATFORM_DECISION;
  }
  const amount = txn.heldAmount;
  // A retry of the same network authorization lands on the same escrow shard.
  const route = routeFor(owner, request.claim?.networkAuthorizationId ?? txn.transactionId);
  const held = await holdWithEscrow(owner, cardCurrency, amount, route, (hold, onContention) => {
    const shard = heldShard(hold);
    if (shard === undefined) delete txn.escrowShard;
    else txn.escrowShard = shard;
    return commitApproval({
      transaction: txn,
      owner,
      hold,
      onContention,
      limits: card.limits,
      periods,
      maxDailyCount: effectiveMaxDailyCount(controls),
      cardVersion: card.version,
      posting: posting({ postingId: newId(), kind: 'authorization', reference: txn.transactionId, legs: holdLegs(owner, cardCurrency, amount), createdAt: now }),
      event: transactionEvent('Authorization', txn),
      ...(request.claim ? { claim: request.claim } : {}),
      idempotencyCompletion: request.idempotency?.completionItem(transactionView(txn)),
    });
  });
  const outcome = held === 'insufficient_balance' ? ({ kind: 'declined', reason: held } as const) : held;
  if (outcome.kind !== 'approved') request.idempotency?.discardCompletion(); // that transaction never committed
  switch (outcome.kind) {
    case 'approved':
      recordAuthorization('approved');
      return respond(201, transactionView(txn));
    case 'declined':
      // The platform's own conditions (balance, windows, user) refused it at commit, whatever the endpoint said.
      return recordDecline({ ...txn, decision: { source: 'platform', latencyMs: txn.decision?.latencyMs ?? 0 } }, outcome.reason, request);
    case 'claimed':
      return claimedAuthorization(request.claim!);
    case 'stale':
      return 'stale';
  }
}

async function recordDecline(txn: CardTransaction, reason: DeclineReason, request: AuthorizationRequest): Promise<HttpResult<CardTransactionView>> {
  const { escrowShard: _heldNowhere, ...unheld } = txn;
  const declined: CardTransaction = { ...unheld, status: 'Declined', declineReason: reason, remainingHold: 0n, windows: null, expiresAt: null };
  const { idempotency } = request;
  const recorded = await commitDecline(declined, transactionEvent('Authorization', declined), {
    ...(request.claim ? { claim: request.claim } : {}),
    idempotencyCompletion: idempotency?.completionItem(transactionView(declined)),
  });
  if (recorded === 'claimed') {
    idempotency?.discardCompletion();
    return claimedAuthorization(request.claim!);
  }
  recordAuthorization('declined', reason);
  return respond(201, transactionView(declined));
}

/**
 * The network's authorization id was claimed already. A repeat (same card, amount, currency and
 * merchant) gets the authorization the claim points at, as it is now (`200`); anything else is a
 * conflict, told nothing about the authorization that holds the id.
 */
async function claimedAuthorization(request: NetworkAuthorizationClaim): Promise<HttpResult<CardTransactionView>> {
  const claim = await getNetworkAuthorizationClaim(request.networkAuthorizationId);
  // The claim commits with its transaction, so a failed claim condition means it is there to read.
  if (!claim) throw new ApiError('service_unavailable');
  if (repeatOrConflict(claim, request.cardId, request.fingerprint) === 'conflict') {
    throw new ApiError('network_authorization_conflict');
  }
  const first = await getTransaction(claim.transactionId, true);
  if (!first) throw new ApiError('service_unavailable');
  return respond(200, transactionView(first));
}

// ---------------------------------------------------------------------------------------------
// Helpers

/**
 * Seeds the decision endpoint's cache from the business record read for the timezone (once per
 * container per business), so that read serves both.
 */
export const rememberEndpoint = (businessId: string) => (business: StoredBusiness) => rememberEndpointOf(businessId, business);

/** The decision of an authorization no endpoint took part in. */
export const PLATFORM_DECISION: Decision = { source: 'platform', latencyMs: 0 };

/**
 * Asks the business's endpoint about an authorization the platform would approve: the signed
 * `authorization.request` with the transaction (`Pending`) and the balance it spends, within what
 * is left of `timeout_ms` since the request arrived. On an increment, the transaction as it would
 * be enlarged and `increment: { amount }`, the extra amount in the card currency (a partial
 * approval approves part of that). A late answer is never applied: the call is
 * abandoned at the deadline and the stand-in decides.
 */
export async function askPartner(
  endpoint: DecisionEndpoint,
  txn: CardTransaction,
  owner: BalanceOwner,
  request: Pick<AuthorizationRequest, 'startedAt'>,
  /** On an increment: the extra amount asked for (card-currency minor units); the partner may approve part of it. */
  increment?: bigint,
): Promise<PartnerStep> {
  const asked = performance.now();
  const available = await availableBalance(owner, txn.localCurrency);
  const payload = {
    type: 'authorization.request',
    card_transaction: { ...transactionView(txn), status: 'Pending' },
    balance: { currency: txn.localCurrency, available: formatMoney(available, txn.localCurrency) },
    ...(increment === undefined ? {} : { increment: { amount: formatMoney(increment, txn.localCurrency) } }),
  };
  const requested = increment ?? txn.heldAmount;
  const reply = await askEndpoint(endpoint, payload, remainingBudgetMs(endpoint.timeoutMs, request.startedAt, performance.now()));
  const outcome = interpretReply(reply, endpoint.standIn, requested, (amount) => parseMoney(amount, txn.localCurrency));
  recordPartnerDecision(outcome.kind === 'stand_in' ? 'stand_in' : 'partner');
  return { outcome, latencyMs: Math.round(performance.now() - asked) };
}

/**
 * The balance shown to the endpoint: a user's item, or a business balance's items read
 * consistently (not at one instant: shown, never decided on; the transaction's conditions decide).
 */
async function availableBalance(owner: BalanceOwner, currency: string): Promise<bigint> {
  if (owner.kind === 'business') return escrowTotal(await readBusinessBalance(owner.id, currency, 'consistent'));
  const rows = await queryUserBalances(owner.id);
  return rows.find((row) => row.currency === currency)?.availableMinor ?? 0n;
}

