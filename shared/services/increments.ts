/**
 * Increments of an authorization (hotels, fuel, car rental: API.md "Authorization lifecycle"):
 * the extra amount is checked like a new authorization for that amount only (card status and
 * expiry, controls, currency and rate, the transaction limit, the windows of the day it is made
 * in, the balance), and the business's real-time decision endpoint is asked too. Approved: the transaction is enlarged, in
 * ONE transaction (shared/db/transactions-repository.ts `commitIncrement`); declined: `422
 * increment_declined` with the reason, and nothing moves.
 *
 * The hold's expiry starts again from the increment: the network extends a hold it enlarges.
 */
import { config } from '../config.ts';
import { preCheck, type DeclineReason } from '../domain/authorization.ts';
import { expiryFor } from '../domain/card-number.ts';
import type { Decision } from '../domain/authorization-decisions.ts';
import { convert, isSupportedTransactionCurrency } from '../domain/fx.ts';
import { holdExpiresAt } from '../domain/hold-expiry.ts';
import { windowPeriods, withIncrementShare } from '../domain/spend-windows.ts';
import { newId } from '../domain/ids.ts';
import { holdLegs, posting } from '../domain/ledger.ts';
import { formatMoney, parseMoney } from '../domain/money.ts';
import { nowIso } from '../domain/time.ts';
import { normalizeDecimal, transactionView, type CardTransaction, type CardTransactionView, type IncrementBody } from '../domain/transactions.ts';
import { ApiError, notFound, ValidationError } from '../errors.ts';
import { getCard } from '../db/cards-repository.ts';
import type { IdempotencyScope } from '../db/idempotency-repository.ts';
import { commitIncrement, getTransaction } from '../db/transactions-repository.ts';
import { holdWithEscrow, routeOfHeld } from './escrow.ts';
import { recordAuthorization } from '../metrics.ts';
import { decisionEndpointOf } from './authorization-endpoint.ts';
import { askPartner, rememberEndpoint, userSuspendedFirst } from './authorizations.ts';
import { timezoneOf, usableFx } from './transaction-lookups.ts';
import { assertStatus, MAX_STALE_RETRIES, ownerOfTxn, transactionEvent, type Caller } from './transaction-writes.ts';
import { businessControlsFor } from './controls.ts';

/** `POST /network/authorizations/{id}/increment`, `POST /v1/simulate/authorizations/{id}/increment`. */
export async function incrementAuthorization(caller: Caller, transactionId: string, body: IncrementBody, idempotency?: IdempotencyScope): Promise<CardTransactionView> {
  const startedAt = performance.now();
  let partner: Awaited<ReturnType<typeof askPartner>> | undefined;
  for (let attempt = 0; attempt < MAX_STALE_RETRIES; attempt++) {
    const txn = await getTransaction(transactionId, true);
    if (!txn || txn.type !== 'Sales' || ('businessId' in caller && txn.businessId !== caller.businessId)) throw notFound('transaction');
    assertStatus(txn);
    const card = await getCard(txn.cardId);
    if (!card) throw notFound('transaction');

    const at = new Date();
    const now = nowIso();
    const currency = txn.transactionCurrency;
    // The authorization was approved, so its currency converts (only the rate may have aged since).
    if (!isSupportedTransactionCurrency(currency)) throw new ApiError('increment_declined', { declineReason: 'currency_not_supported' });
    let amount: bigint;
    try {
      amount = parseMoney(body.amount, currency);
    } catch (error) {
      throw new ValidationError([{ path: 'amount', message: (error as Error).message }]);
    }
    let conversion = currency === txn.localCurrency ? { localAmount: amount, fee: 0n } : undefined;
    if (!conversion) {
      const fx = await usableFx(at);
      if (fx) conversion = convert(amount, currency, txn.localCurrency, fx.rates.usdValues, fx.feeBps);
    }
    const [timezone, businessControls] = await Promise.all([timezoneOf(card.businessId, rememberEndpoint(card.businessId)), businessControlsFor(card.businessId)]);
    // Checked and counted in the windows of today, not of the day the hold was taken.
    const periods = windowPeriods(at, timezone);
    const controls = [card.controls, businessControls];
    let extra = conversion ? conversion.localAmount + conversion.fee : 0n;
    const early = preCheck({
      cardStatus: card.status,
      expiry: expiryFor(new Date(card.createdAt)),
      at,
      currencySupported: true,
      rateAvailable: conversion !== undefined,
      total: extra,
      limits: card.limits,
      controls,
      merchant: { mcc: txn.merchant.mcc, country: txn.merchant.merchantCountry },
    });
    if (early) declined(await userSuspendedFirst(card, early));

    const { localAmount, fee } = conversion!;
    // `by`: what the hold grows by; less than `extra` only when the partner approved part of it,
    // which (as for an authorization) is then what `approved_amount` says is held.
    const enlarged = (by: bigint): CardTransaction => ({
      ...txn,
      transactionAmount: normalizeDecimal(formatMoney(parseMoney(txn.transactionAmount, currency) + amount, currency)),
      localAmount: (txn.localAmount ?? 0n) + localAmount,
      fee: txn.fee + fee,
      heldAmount: txn.heldAmount + by,
      remainingHold: txn.remainingHold + by,
      ...(txn.approvedAmount !== undefined || by < extra ? { approvedAmount: (txn.approvedAmount ?? txn.heldAmount) + by } : {}),
      expiresAt: holdExpiresAt(config().HOLD_EXPIRY_DAYS, txn.merchant.mcc, at),
      ...(txn.windows ? { incrementWindows: withIncrementShare(txn.windows, txn.incrementWindows ?? [], periods, by) } : {}),
      updatedAt: now,
      version: txn.version + 1,
    });
    let after = enlarged(extra);
    const owner = ownerOfTxn(txn);
    const endpoint = await decisionEndpointOf(card.businessId);
    if (endpoint) {
      partner ??= await askPartner(endpoint, after, owner, { startedAt }, extra);
      const { outcome, latencyMs } = partner;
      const decision: Decision = outcome.kind === 'stand_in' ? { source: 'stand_in', latencyMs, reason: outcome.reason } : { source: 'partner', latencyMs };
      if (outcome.kind === 'decline') declined('partner_declined');
      if (outcome.kind === 'stand_in' && outcome.action === 'decline') declined('stand_in_declined');
      if (outcome.kind === 'approve' && outcome.approvedMinor !== undefined && outcome.approvedMinor < extra) {
        after = enlarged(outcome.approvedMinor);
        extra = outcome.approvedMinor;
      }
      after = { ...after, decision };
    }
    // The extra amount joins the hold where it is: the transaction's escrow shard or, held before
    // escrow, the business's pool (either refilled from the rest of the balance if short), or a user's item.
    const route = routeOfHeld(owner, txn.escrowShard);
    const held = await holdWithEscrow(owner, txn.localCurrency, extra, route, (hold, onContention) =>
      commitIncrement({
        before: txn,
        after,
        owner,
        hold,
        onContention,
        extra,
        periods,
        limits: card.limits,
        cardVersion: card.version,
        posting: posting({ postingId: newId(), kind: 'increment', reference: txn.transactionId, legs: holdLegs(owner, txn.localCurrency, extra), createdAt: now }),
        event: transactionEvent('Authorization', after),
        idempotencyCompletion: idempotency?.completionItem(transactionView(after)),
      }),
    );
    const outcome = held === 'insufficient_balance' ? ({ kind: 'declined', reason: held } as const) : held;
    if (outcome.kind === 'approved') {
      recordAuthorization('approved');
      return transactionView(after);
    }
    idempotency?.discardCompletion();
    if (outcome.kind === 'declined') declined(outcome.reason);
  }
  throw new ApiError('service_unavailable');
}

/** An increment's refusal: `422 increment_declined` with the reason; the authorization is as it was. */
function declined(reason: DeclineReason): never {
  recordAuthorization('declined', reason);
  throw new ApiError('increment_declined', { declineReason: reason });
}
