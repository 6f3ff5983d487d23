/**
 * What the card network posts with no authorization to decide (API.md "Authorization lifecycle"):
 * force posts (a capture the platform never authorized) and refunds. Neither can decline: the
 * network already moved the money. A force post debits available even below zero (a
 * `forced_capture` posting, counted in the card's current limit windows without a limit
 * condition); a refund credits it (no spend is given back to the windows).
 *
 * Each is ONE transaction that claims the network's id (`network_settlement_id`,
 * `network_refund_id`) like an authorization claims its own: a repeat with the same card and
 * terms answers the first transaction (`200`), the same id with anything else is a `409`
 * conflict and moves nothing.
 */
import { convert, convertCredit, isSupportedTransactionCurrency } from '../domain/fx.ts';
import { newId } from '../domain/ids.ts';
import { creditLegs, posting, settleLegs } from '../domain/ledger.ts';
import { parseMoney } from '../domain/money.ts';
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
  type NetworkForcePostBody,
  type NetworkRefundBody,
  type SimulateForcePostBody,
  type SimulateRefundBody,
} from '../domain/transactions.ts';
import { ApiError, notFound, ValidationError } from '../errors.ts';
import { respond, type HttpResult } from '../http/responses.ts';
import { getCard, type StoredCard } from '../db/cards-repository.ts';
import type { IdempotencyScope } from '../db/idempotency-repository.ts';
import { networkMessageKeys } from '../db/keys.ts';
import { commitNetworkPosting, getClaim, getTransaction } from '../db/transactions-repository.ts';
import { forcedDebitOf } from './escrow.ts';
import { recordCapture } from '../metrics.ts';
import { cardIdForNumber, timezoneOf, usableFx } from './transaction-lookups.ts';
import { ownerOf, transactionEvent } from './transaction-writes.ts';

type ForcePostFields = Omit<NetworkForcePostBody, 'card_number'>;
type RefundFields = Omit<NetworkRefundBody, 'card_number'>;

/** `POST /v1/simulate/settlements`: a force post on the business's own card, by id. */
export async function simulateForcePost(businessId: string, body: SimulateForcePostBody, idempotency?: IdempotencyScope) {
  return forcePost(await cardOf({ businessId, cardId: body.card_id }), body, idempotency);
}

/** `POST /network/settlements`: a force post by card number. */
export async function networkForcePost(body: NetworkForcePostBody, idempotency?: IdempotencyScope) {
  return forcePost(await cardOf({ cardNumber: body.card_number }), body, idempotency);
}

/** `POST /v1/simulate/refunds`: a refund to the business's own card, by id. */
export async function simulateRefund(businessId: string, body: SimulateRefundBody, idempotency?: IdempotencyScope) {
  return refund(await cardOf({ businessId, cardId: body.card_id }), body, idempotency);
}

/** `POST /network/refunds`: a refund by card number. */
export async function networkRefund(body: NetworkRefundBody, idempotency?: IdempotencyScope) {
  return refund(await cardOf({ cardNumber: body.card_number }), body, idempotency);
}

/**
 * The card a force post or refund is for, whatever its status: a locked, terminated or expired
 * card still receives what the network posts. The sandbox names its own card by id; the network
 * by number.
 */
async function cardOf(named: { businessId: string; cardId: string } | { cardNumber: string }): Promise<StoredCard> {
  const cardId = 'cardId' in named ? named.cardId : await cardIdForNumber(named.cardNumber);
  const card = cardId ? await getCard(cardId) : undefined;
  if (!card || ('businessId' in named && card.businessId !== named.businessId)) throw notFound('card');
  return card;
}

async function forcePost(card: StoredCard, body: ForcePostFields, idempotency?: IdempotencyScope): Promise<HttpResult<CardTransactionView>> {
  const at = new Date();
  const { currency, amount } = await inCardCurrency(card, body.amount, body.currency, at, 'debit');
  const total = amount.localAmount + amount.fee;
  const owner = ownerOf(card);
  const txn = newTransaction(card, body, 'Sales', amount.localAmount, amount.fee, total, windowPeriods(at, await timezoneOf(card.businessId)));
  txn.networkSettlementId = body.network_settlement_id;
  const claim = claimOf(card, txn, body.network_settlement_id, body, undefined);
  // On a business balance the debit is planned across its escrow (available items first); a source
  // that moved before the commit means planning again.
  for (let attempt = 0; attempt < FORCED_DEBIT_ATTEMPTS; attempt++) {
    const outcome = await commitNetworkPosting({
      transaction: txn,
      owner,
      claim,
      claimKey: networkMessageKeys.settlementClaim(body.network_settlement_id),
      move: { kind: 'debit', amount: total },
      forced: await forcedDebitOf(owner, currency, total),
      windowAmount: total,
      posting: posting({ postingId: newId(), kind: 'forced_capture', reference: txn.transactionId, legs: settleLegs(owner, currency, 0n, total, amount.fee), createdAt: txn.createdAt }),
      event: transactionEvent('Settled', txn),
      idempotencyCompletion: idempotency?.completionItem(transactionView(txn)),
    });
    if (outcome === 'committed') {
      recordCapture();
      return respond(201, transactionView(txn));
    }
    idempotency?.discardCompletion();
    if (outcome === 'claimed') return firstOfClaim(networkMessageKeys.settlementClaim(body.network_settlement_id), claim, 'network_settlement_conflict');
  }
  throw new ApiError('service_unavailable');
}

/** Plans of a force post's debit before a retryable 503 (each after a source moved under the last). */
const FORCED_DEBIT_ATTEMPTS = 5;

async function refund(card: StoredCard, body: RefundFields, idempotency?: IdempotencyScope): Promise<HttpResult<CardTransactionView>> {
  if (body.transaction_id !== undefined) {
    const refunded = await getTransaction(body.transaction_id);
    if (!refunded || refunded.cardId !== card.cardId || refunded.type !== 'Sales') throw notFound('transaction');
  }
  const at = new Date();
  const { currency, amount } = await inCardCurrency(card, body.amount, body.currency, at, 'credit');
  const credit = amount.localAmount;
  const owner = ownerOf(card);
  const txn = newTransaction(card, body, 'Refund', credit, 0n, credit, null);
  txn.networkRefundId = body.network_refund_id;
  if (body.transaction_id !== undefined) txn.refundOf = body.transaction_id;
  const claim = claimOf(card, txn, body.network_refund_id, body, body.transaction_id ?? '');
  const claimKey = networkMessageKeys.refundClaim(body.network_refund_id);
  const outcome = await commitNetworkPosting({
    transaction: txn,
    owner,
    claim,
    claimKey,
    move: { kind: 'credit', amount: credit },
    windowAmount: 0n,
    posting: posting({ postingId: newId(), kind: 'refund', reference: txn.transactionId, legs: creditLegs(owner, currency, credit, 'network'), createdAt: txn.createdAt }),
    event: transactionEvent('Refund', txn),
    idempotencyCompletion: idempotency?.completionItem(transactionView(txn)),
  });
  if (outcome === 'committed') return respond(201, transactionView(txn));
  idempotency?.discardCompletion();
  return firstOfClaim(claimKey, claim, 'network_refund_conflict');
}

/**
 * The amount in the card's currency: the network's own currency as is, another one at the rate
 * table's rate (a debit rounded up with the FX fee, a credit rounded down with none). A currency
 * the platform cannot convert is refused (`400`); a rate table too old to use is a `503` the
 * network retries, never a posting at a rate nobody vouches for.
 */
async function inCardCurrency(card: StoredCard, text: string, currency: string, at: Date, direction: 'debit' | 'credit') {
  if (!isSupportedTransactionCurrency(currency)) throw new ValidationError([{ path: 'currency', message: `must be one of the card currencies (${card.currency} here)` }]);
  let minor: bigint;
  try {
    minor = parseMoney(text, currency);
  } catch (error) {
    throw new ValidationError([{ path: 'amount', message: (error as Error).message }]);
  }
  const cardCurrency = card.currency;
  if (currency === cardCurrency) return { currency: cardCurrency, amount: { localAmount: minor, fee: 0n } };
  const fx = await usableFx(at);
  if (!fx) throw new ApiError('service_unavailable');
  const amount =
    direction === 'debit'
      ? convert(minor, currency, cardCurrency, fx.rates.usdValues, fx.feeBps)
      : { localAmount: convertCredit(minor, currency, cardCurrency, fx.rates.usdValues), fee: 0n };
  return { currency: cardCurrency, amount };
}

function newTransaction(
  card: StoredCard,
  body: ForcePostFields | RefundFields,
  type: CardTransaction['type'],
  localAmount: bigint,
  fee: bigint,
  posted: bigint,
  windows: CardTransaction['windows'],
): CardTransaction {
  const now = nowIso();
  return {
    transactionId: newId(),
    businessId: card.businessId,
    cardId: card.cardId,
    mode: card.mode,
    userId: card.userId,
    status: 'Settled',
    type,
    transactionCurrency: body.currency,
    transactionAmount: normalizeDecimal(body.amount),
    localCurrency: card.currency,
    localAmount,
    fee,
    heldAmount: 0n,
    remainingHold: 0n,
    reversedAmount: 0n,
    settledAmount: posted,
    feeCollected: fee,
    expiresAt: null,
    windows,
    merchant: merchantFrom(body),
    declineReason: null,
    networkAuthorizationId: null,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
}

function claimOf(card: StoredCard, txn: CardTransaction, networkId: string, body: ForcePostFields | RefundFields, reference: string | undefined) {
  return {
    networkAuthorizationId: networkId,
    cardId: card.cardId,
    transactionId: txn.transactionId,
    fingerprint: networkAuthorizationFingerprint({
      cardId: card.cardId,
      amount: body.amount,
      currency: body.currency,
      merchant: txn.merchant,
      ...(reference === undefined ? {} : { reference }),
    }),
  };
}

/** The network's id was claimed already: the first transaction (`200`) for a repeat, else a conflict. */
async function firstOfClaim(
  key: ReturnType<typeof networkMessageKeys.refundClaim>,
  request: { cardId: string; fingerprint: string },
  conflict: 'network_settlement_conflict' | 'network_refund_conflict',
): Promise<HttpResult<CardTransactionView>> {
  const claim = await getClaim(key);
  if (!claim) throw new ApiError('service_unavailable');
  if (repeatOrConflict(claim, request.cardId, request.fingerprint) === 'conflict') throw new ApiError(conflict);
  const first = await getTransaction(claim.transactionId, true);
  if (!first) throw new ApiError('service_unavailable');
  return respond(200, transactionView(first));
}
