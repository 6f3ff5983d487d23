/**
 * Card authorizations, reversals and settlements: the heart of the platform.
 *
 * The approve path is one read (the card; the PAN index and the business timezone are immutable
 * and cached per container) and one `TransactWriteItems`. Every rule that depends on a balance
 * or a spend window is a condition of that transaction, so correctness under concurrency does not
 * depend on what was read: a stale read can only cause a retry or a decline, never an overspend.
 */
import { DECLINE_REASONS, preCheck, type DeclineReason } from '../domain/authorization.ts';
import { findUser } from '../db/users-repository.ts';
import { expiryFor } from '../domain/card-number.ts';
import { convert, isRateTableFresh, isSupportedTransactionCurrency, type Conversion } from '../domain/fx.ts';
import { newId } from '../domain/ids.ts';
import { holdLegs, posting, releaseLegs, settleLegs, type BalanceOwner } from '../domain/ledger.ts';
import { parseMoney, type CardCurrency } from '../domain/money.ts';
import { windowPeriods } from '../domain/spend-windows.ts';
import { nowIso } from '../domain/time.ts';
import {
  merchantFrom,
  networkAuthorizationFingerprint,
  normalizeDecimal,
  repeatOrConflict,
  transactionView,
  transactionWebhookBody,
  type AdjustAuthorizationBody,
  type CardTransaction,
  type CardTransactionView,
  type Merchant,
  type NetworkAuthorizationBody,
  type NetworkAuthorizationClaim,
  type SimulateAuthorizationBody,
} from '../domain/transactions.ts';
import { BusinessRuleError, ConflictError, notFound, ServiceUnavailableError, ValidationError } from '../errors.ts';
import { respond, type HttpResult } from '../http/responses.ts';
import { logger } from '../logger.ts';
import { requireBusiness } from '../db/businesses-repository.ts';
import { cardNumberHash, findCardIdByNumber, getCard, type StoredCard } from '../db/cards-repository.ts';
import type { IdempotencyScope } from '../db/idempotency-repository.ts';
import type { OutboxEvent } from '../db/outbox.ts';
import { commitAdjustment, commitApproval, commitDecline, getNetworkAuthorizationClaim, getTransaction } from '../db/transactions-repository.ts';
import { recordAuthorization, recordCapture } from '../metrics.ts';
import { fxSettings, OperatorSettingsError, type FxSettings } from './operator-settings.ts';

/** Attempts when the card changes under an authorization (a concurrent lock or limit change). */
const MAX_STALE_RETRIES = 5;

interface AuthorizationRequest {
  card: StoredCard;
  amount: string;
  currency: string;
  merchant: Merchant;
  transactionId: string;
  /** On the network route: the claim this request makes on the network's authorization id. */
  claim?: NetworkAuthorizationClaim;
  idempotency?: IdempotencyScope;
}

/** `POST /v1/simulate/authorizations`: a business authorizes against its own card by id. */
export async function simulateAuthorization(
  businessId: string,
  body: SimulateAuthorizationBody,
  idempotency?: IdempotencyScope,
): Promise<HttpResult<CardTransactionView>> {
  const card = await getCard(body.card_id);
  if (!card || card.businessId !== businessId) throw notFound('card');
  return authorize({
    card,
    amount: body.amount,
    currency: body.currency,
    merchant: merchantFrom(body),
    transactionId: newId(),
    idempotency,
  });
}

/**
 * `POST /network/authorizations`: the card network authorizes by card number. Its
 * `network_authorization_id` is claimed for this card and these terms by the authorization's own
 * transaction: a repeat with the same card, amount, currency and merchant answers `200` with the
 * first decision; the same id with anything else is `409 network_authorization_conflict`.
 */
export async function networkAuthorization(body: NetworkAuthorizationBody): Promise<HttpResult<CardTransactionView>> {
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
async function userSuspendedFirst(card: StoredCard, reason: DeclineReason): Promise<DeclineReason> {
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
  throw new ServiceUnavailableError();
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
  const timezone = await timezoneOf(card.businessId);
  const periods = windowPeriods(at, timezone);

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
  });
  if (early) return recordDecline(txn, await userSuspendedFirst(card, early), request);

  const owner = ownerOf(card);
  const outcome = await commitApproval({
    transaction: txn,
    owner,
    limits: card.limits,
    periods,
    cardVersion: card.version,
    posting: posting({ postingId: newId(), kind: 'authorization', reference: txn.transactionId, legs: holdLegs(owner, cardCurrency, total), createdAt: now }),
    event: transactionEvent('Authorization', txn),
    ...(request.claim ? { claim: request.claim } : {}),
    idempotencyCompletion: request.idempotency?.completionItem(201, transactionView(txn)),
  });
  if (outcome.kind !== 'approved') request.idempotency?.discardCompletion(); // that transaction never committed
  switch (outcome.kind) {
    case 'approved':
      recordAuthorization('approved');
      return respond(201, transactionView(txn));
    case 'declined':
      return recordDecline(txn, outcome.reason, request);
    case 'claimed':
      return claimedAuthorization(request.claim!);
    case 'stale':
      return 'stale';
  }
}

async function recordDecline(txn: CardTransaction, reason: DeclineReason, request: AuthorizationRequest): Promise<HttpResult<CardTransactionView>> {
  const declined: CardTransaction = { ...txn, status: 'Declined', declineReason: reason, remainingHold: 0n, windows: null };
  const { idempotency } = request;
  const recorded = await commitDecline(declined, transactionEvent('Authorization', declined), {
    ...(request.claim ? { claim: request.claim } : {}),
    idempotencyCompletion: idempotency?.completionItem(201, transactionView(declined)),
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
  if (!claim) throw new ServiceUnavailableError();
  if (repeatOrConflict(claim, request.cardId, request.fingerprint) === 'conflict') {
    throw new ConflictError(
      'network_authorization_conflict',
      'This network_authorization_id was already used for another authorization (another card, amount, currency or merchant).',
    );
  }
  const first = await getTransaction(claim.transactionId, true);
  if (!first) throw new ServiceUnavailableError();
  return respond(200, transactionView(first));
}

// ---------------------------------------------------------------------------------------------
// Reversal and settlement

type Caller = { businessId: string } | { network: true };

/** Reverses `amount` (default: all still held) of an authorization, giving it back to the balance and windows. */
export function reverseAuthorization(caller: Caller, transactionId: string, body: AdjustAuthorizationBody, idempotency?: IdempotencyScope) {
  return adjust(caller, transactionId, idempotency, (txn, now) => {
    const amount = body.amount === undefined ? txn.remainingHold : amountInCardCurrency(body.amount, txn.localCurrency);
    if (amount > txn.remainingHold) {
      throw new BusinessRuleError('amount_exceeds_authorization', 'The reversal amount is more than is still held.');
    }
    const remaining = txn.remainingHold - amount;
    const after: CardTransaction = {
      ...txn,
      status: remaining === 0n ? 'Reversed' : 'Authorized',
      remainingHold: remaining,
      reversedAmount: txn.reversedAmount + amount,
      updatedAt: now,
      version: txn.version + 1,
    };
    return { after, released: amount, legs: releaseLegs(ownerOfTxn(txn), txn.localCurrency, amount), action: 'Reversed' as const };
  });
}

/** Settles `amount` (default: all still held) of an authorization; the rest of the hold is released. */
export function settleAuthorization(caller: Caller, transactionId: string, body: AdjustAuthorizationBody, idempotency?: IdempotencyScope) {
  return adjust(caller, transactionId, idempotency, (txn, now) => {
    const amount = body.amount === undefined ? txn.remainingHold : amountInCardCurrency(body.amount, txn.localCurrency);
    if (amount > txn.remainingHold) {
      throw new BusinessRuleError('amount_exceeds_authorization', 'The settlement amount is more than is still held.');
    }
    const fee = amount < txn.fee ? amount : txn.fee;
    const after: CardTransaction = { ...txn, status: 'Settled', remainingHold: 0n, settledAmount: amount, updatedAt: now, version: txn.version + 1 };
    return {
      after,
      released: txn.remainingHold - amount,
      settled: amount,
      legs: settleLegs(ownerOfTxn(txn), txn.localCurrency, txn.remainingHold, amount, fee),
      action: 'Settled' as const,
    };
  });
}

type AdjustmentDecision = {
  after: CardTransaction;
  released: bigint;
  settled?: bigint;
  legs: ReturnType<typeof releaseLegs>;
  action: 'Reversed' | 'Settled';
};

async function adjust(
  caller: Caller,
  transactionId: string,
  idempotency: IdempotencyScope | undefined,
  decideAdjustment: (txn: CardTransaction, now: string) => AdjustmentDecision,
): Promise<CardTransactionView> {
  for (let attempt = 0; attempt < MAX_STALE_RETRIES; attempt++) {
    const txn = await getTransaction(transactionId, true);
    if (!txn || ('businessId' in caller && txn.businessId !== caller.businessId)) {
      throw notFound('transaction');
    }
    assertAdjustable(txn);
    const now = nowIso();
    const decision = decideAdjustment(txn, now);
    const result = await commitAdjustment({
      before: txn,
      after: decision.after,
      owner: ownerOfTxn(txn),
      released: decision.released,
      ...(decision.settled !== undefined ? { settled: decision.settled } : {}),
      posting: posting({ postingId: newId(), kind: decision.action === 'Settled' ? 'settlement' : 'reversal', reference: txn.transactionId, legs: decision.legs, createdAt: now }),
      event: transactionEvent(decision.action, decision.after),
      idempotencyCompletion: idempotency?.completionItem(200, transactionView(decision.after)),
    });
    if (result === 'committed') {
      if (decision.action === 'Settled') recordCapture();
      return transactionView(decision.after);
    }
    idempotency?.discardCompletion();
  }
  throw new ServiceUnavailableError();
}

function assertAdjustable(txn: CardTransaction): void {
  switch (txn.status) {
    case 'Authorized':
      return;
    case 'Declined':
      throw new ConflictError('transaction_declined', 'A declined authorization cannot be reversed or settled.');
    case 'Reversed':
      throw new ConflictError('transaction_reversed', 'The authorization is already fully reversed.');
    case 'Settled':
      throw new ConflictError('transaction_settled', 'The authorization is already settled.');
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function ownerOf(card: StoredCard): BalanceOwner {
  return card.mode === 'B2C' && card.userId ? { kind: 'user', id: card.userId } : { kind: 'business', id: card.businessId };
}

function ownerOfTxn(txn: CardTransaction): BalanceOwner {
  return txn.mode === 'B2C' && txn.userId ? { kind: 'user', id: txn.userId } : { kind: 'business', id: txn.businessId };
}

function transactionEvent(action: 'Authorization' | 'Reversed' | 'Settled', txn: CardTransaction): OutboxEvent {
  const type = action === 'Authorization' ? 'transaction.authorization' : action === 'Reversed' ? 'transaction.reversal' : 'transaction.settlement';
  return { eventId: newId(), businessId: txn.businessId, type, queue: 'events', payload: transactionWebhookBody(action, txn), createdAt: txn.updatedAt };
}

function checkPrecision(amount: string, currency: CardCurrency): void {
  try {
    parseMoney(amount, currency);
  } catch (error) {
    throw new ValidationError([{ path: 'amount', message: (error as Error).message }]);
  }
}

function amountInCardCurrency(amount: string, currency: CardCurrency): bigint {
  checkPrecision(amount, currency);
  return parseMoney(amount, currency);
}

/**
 * The FX settings when their rate table may be used at `at`, or undefined: the table is older
 * than the stage allows, or the settings could not be read (not configured, missing, malformed).
 * Either way the authorization declines `fx_rate_unavailable` rather than convert at a rate
 * nobody vouches for, and the operator finds out from the log.
 */
async function usableFx(at: Date): Promise<FxSettings | undefined> {
  let fx: FxSettings;
  try {
    fx = await fxSettings();
  } catch (error) {
    if (!(error instanceof OperatorSettingsError)) throw error;
    logger.error('FX settings unavailable: conversions decline fx_rate_unavailable', { problem: error.message });
    return undefined;
  }
  if (!isRateTableFresh(fx.rates, at, fx.maxAgeMs)) {
    logger.warn('FX rate table too old: conversions decline fx_rate_unavailable', { asOf: fx.rates.asOf.toISOString(), maxAgeSeconds: fx.maxAgeMs / 1000 });
    return undefined;
  }
  return fx;
}

/** A business's timezone never changes once created, so it is cached for the container's life. */
const timezones = new Map<string, string>();
async function timezoneOf(businessId: string): Promise<string> {
  let timezone = timezones.get(businessId);
  if (!timezone) {
    timezone = (await requireBusiness(businessId)).timezone;
    timezones.set(businessId, timezone);
  }
  return timezone;
}

/** A card number always maps to the same card, so the index lookup is cached (by keyed hash only). */
const cardIdsByNumber = new Map<string, string>();
async function cardIdForNumber(number: string): Promise<string | undefined> {
  const hash = await cardNumberHash(number);
  let cardId = cardIdsByNumber.get(hash);
  if (!cardId) {
    cardId = (await findCardIdByNumber(number))?.cardId;
    if (cardId) cardIdsByNumber.set(hash, cardId);
  }
  return cardId;
}

