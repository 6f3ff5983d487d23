/**
 * Card authorizations, reversals and settlements: the heart of the platform.
 *
 * The approve path is one read (the card; the PAN index and the business timezone are immutable
 * and cached per container) and one `TransactWriteItems`. Every rule that depends on a balance
 * or a spend window is a condition of that transaction, so correctness under concurrency does not
 * depend on what was read: a stale read can only cause a retry or a decline, never an overspend.
 */
import { v5 as uuidv5 } from 'uuid';
import { config } from '../config.ts';
import { preCheck, type DeclineReason } from '../domain/authorization.ts';
import { expiryFor } from '../domain/card-number.ts';
import { convert, isSupportedTransactionCurrency, SANDBOX_USD_VALUE } from '../domain/fx.ts';
import { newId } from '../domain/ids.ts';
import { holdLegs, posting, releaseLegs, settleLegs, type BalanceOwner } from '../domain/ledger.ts';
import { parseMoney, type CardCurrency } from '../domain/money.ts';
import { windowPeriods } from '../domain/spend-windows.ts';
import { nowIso } from '../domain/time.ts';
import {
  merchantFrom,
  normalizeDecimal,
  transactionView,
  transactionWebhookBody,
  type AdjustAuthorizationBody,
  type CardTransaction,
  type CardTransactionView,
  type Merchant,
  type NetworkAuthorizationBody,
  type SimulateAuthorizationBody,
} from '../domain/transactions.ts';
import { BusinessRuleError, ConflictError, notFound, ServiceUnavailableError, ValidationError } from '../errors.ts';
import { respond, type HttpResult } from '../http/responses.ts';
import { requireBusiness } from '../db/businesses-repository.ts';
import { cardNumberHash, findCardIdByNumber, getCard, type StoredCard } from '../db/cards-repository.ts';
import type { IdempotencyScope } from '../db/idempotency-repository.ts';
import type { OutboxEvent } from '../db/outbox.ts';
import { commitAdjustment, commitApproval, commitDecline, getTransaction } from '../db/transactions-repository.ts';

/** Namespace of transaction ids derived from the network's authorization ids. */
const NETWORK_ID_NAMESPACE = '6f1c2b8e-4d0a-4e57-9a53-0c9f5b7f3a11';
/** Attempts when the card changes under an authorization (a concurrent lock or limit change). */
const MAX_STALE_RETRIES = 5;

interface AuthorizationRequest {
  card: StoredCard;
  amount: string;
  currency: string;
  merchant: Merchant;
  transactionId: string;
  networkAuthorizationId: string | null;
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
    networkAuthorizationId: null,
    idempotency,
  });
}

/** `POST /network/authorizations`: the card network authorizes by card number. */
export async function networkAuthorization(body: NetworkAuthorizationBody): Promise<HttpResult<CardTransactionView>> {
  const cardId = await cardIdForNumber(body.card_number);
  const card = cardId ? await getCard(cardId) : undefined;
  if (!card) throw notFound('card');
  return authorize({
    card,
    amount: body.amount,
    currency: body.currency,
    merchant: merchantFrom(body),
    transactionId: uuidv5(body.network_authorization_id, NETWORK_ID_NAMESPACE),
    networkAuthorizationId: body.network_authorization_id,
  });
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
  let conversion: { localAmount: bigint; fee: bigint } | undefined;
  if (supported) {
    checkPrecision(request.amount, currency);
    conversion = convert(parseMoney(request.amount, currency), currency, cardCurrency, usdValues(), config().FX_FEE_BPS);
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
    networkAuthorizationId: request.networkAuthorizationId,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };

  const early = preCheck({
    cardStatus: card.status,
    expiry: expiryFor(new Date(card.createdAt)),
    at,
    currencySupported: supported,
    total,
    limits: card.limits,
  });
  if (early) return recordDecline(txn, early, request.idempotency);

  const owner = ownerOf(card);
  const outcome = await commitApproval({
    transaction: txn,
    owner,
    limits: card.limits,
    periods,
    cardVersion: card.version,
    posting: posting({ postingId: newId(), kind: 'authorization', reference: txn.transactionId, legs: holdLegs(owner, cardCurrency, total), createdAt: now }),
    event: transactionEvent('Authorization', txn),
    idempotencyCompletion: request.idempotency?.completionItem(201, transactionView(txn)),
  });
  if (outcome.kind !== 'approved') request.idempotency?.discardCompletion(); // that transaction never committed
  switch (outcome.kind) {
    case 'approved':
      return respond(201, transactionView(txn));
    case 'declined':
      return recordDecline(txn, outcome.reason, request.idempotency);
    case 'duplicate':
      return existingAuthorization(txn.transactionId);
    case 'stale':
      return 'stale';
  }
}

async function recordDecline(txn: CardTransaction, reason: DeclineReason, idempotency?: IdempotencyScope): Promise<HttpResult<CardTransactionView>> {
  const declined: CardTransaction = { ...txn, status: 'Declined', declineReason: reason, remainingHold: 0n, windows: null };
  const recorded = await commitDecline(declined, transactionEvent('Authorization', declined), idempotency?.completionItem(201, transactionView(declined)));
  if (recorded === 'duplicate') {
    idempotency?.discardCompletion();
    return existingAuthorization(txn.transactionId);
  }
  return respond(201, transactionView(declined));
}

/** The network repeated an authorization id: answer with what was decided the first time. */
async function existingAuthorization(transactionId: string): Promise<HttpResult<CardTransactionView>> {
  const existing = await getTransaction(transactionId, true);
  if (!existing) throw new ServiceUnavailableError();
  return respond(200, transactionView(existing));
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
    if (result === 'committed') return transactionView(decision.after);
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

let parsedUsdValues: Record<string, string> | undefined;
function usdValues(): Record<string, string> {
  if (!parsedUsdValues) {
    const configured = config().FX_USD_VALUES;
    parsedUsdValues = configured ? (JSON.parse(configured) as Record<string, string>) : SANDBOX_USD_VALUE;
  }
  return parsedUsdValues;
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

