/**
 * Reversal, capture and expiry of an authorization: each reads the transaction, plans the change
 * (shared/domain/captures.ts for captures) and commits it with its balance move, window change,
 * ledger posting and event in one transaction, conditional on the version it read.
 *
 * Its own module so the reversal, settlement and expiry routes carry none of the approve path's
 * decision-endpoint, FX and card-number code.
 */
import { planCapture } from '../domain/captures.ts';
import { newId } from '../domain/ids.ts';
import { posting, releaseLegs, settleLegs, type Leg, type PostingKind } from '../domain/ledger.ts';
import { nowIso } from '../domain/time.ts';
import {
  transactionView,
  type AdjustAuthorizationBody,
  type CaptureBody,
  type CardTransaction,
  type CardTransactionView,
} from '../domain/transactions.ts';
import type { IdempotencyScope } from '../db/idempotency-repository.ts';
import { commitAdjustment, forcedPart, getTransaction, type BalanceMove } from '../db/transactions-repository.ts';
import { ApiError, notFound, ValidationError } from '../errors.ts';
import { recordCapture } from '../metrics.ts';
import { forcedDebitOf } from './escrow.ts';
import { amountInCardCurrency, assertStatus, MAX_STALE_RETRIES, ownerOfTxn, transactionEvent, type Caller } from './transaction-writes.ts';

/** Reverses `amount` (default: all still held) of an authorization, giving it back to the balance and windows. */
export function reverseAuthorization(caller: Caller, transactionId: string, body: AdjustAuthorizationBody, idempotency?: IdempotencyScope) {
  return adjust(caller, transactionId, idempotency, (txn, now) => {
    assertStatus(txn);
    const amount = body.amount === undefined ? txn.remainingHold : amountInCardCurrency(body.amount, txn.localCurrency);
    if (amount > txn.remainingHold) {
      throw new ApiError('amount_exceeds_authorization');
    }
    const remaining = txn.remainingHold - amount;
    const after: CardTransaction = {
      ...txn,
      status: remaining === 0n ? 'Reversed' : 'Authorized',
      remainingHold: remaining,
      reversedAmount: txn.reversedAmount + amount,
      ...(remaining === 0n ? { expiresAt: null } : {}),
      updatedAt: now,
      version: txn.version + 1,
    };
    return { after, ...release(txn, amount, 'reversal', 'Reversed') };
  });
}

/**
 * Captures `amount` (default: all still held; of an expired authorization, what its expiry
 * released) of an authorization (shared/domain/captures.ts): `final: false` keeps the rest held,
 * a final capture releases it. A capture of an `Expired` authorization always posts (a late
 * capture), and a tip MCC may capture up to 20% of the authorized amount beyond the hold; both
 * may take available below zero, as a `forced_capture` posting.
 */
export function settleAuthorization(caller: Caller, transactionId: string, body: CaptureBody, idempotency?: IdempotencyScope) {
  return adjust(caller, transactionId, idempotency, (txn, now) => {
    assertStatus(txn, ['Expired']);
    const requested = body.amount === undefined ? undefined : amountInCardCurrency(body.amount, txn.localCurrency);
    const plan = planCapture(txn, requested, body.final ?? true);
    if (plan === 'amount_exceeds_authorization') throw new ApiError('amount_exceeds_authorization');
    if (plan.captured === 0n) throw new ValidationError([{ path: 'amount', message: 'nothing is held: name the amount to capture' }]);
    const after: CardTransaction = {
      ...txn,
      status: plan.status,
      remainingHold: plan.remainingHold,
      settledAmount: (txn.settledAmount ?? 0n) + plan.captured,
      feeCollected: (txn.feeCollected ?? 0n) + plan.fee,
      ...(plan.remainingHold === 0n ? { expiresAt: null } : {}),
      ...(plan.expiredLeft !== undefined ? { expiredAmount: plan.expiredLeft } : {}),
      updatedAt: now,
      version: txn.version + 1,
    };
    return {
      after,
      move: { kind: 'capture', leaving: plan.leaving, captured: plan.captured },
      windowDelta: plan.windowDelta,
      // Beyond what left the hold, the network forces the debit: the posting says so (the audit allows it below zero).
      kind: plan.captured > plan.leaving ? 'forced_capture' : 'settlement',
      legs: settleLegs(ownerOfTxn(txn), txn.localCurrency, plan.leaving, plan.captured, plan.fee),
      action: 'Settled',
    };
  });
}

/**
 * Releases what an authorization still holds because nobody captured or reversed it in time
 * (the hold-expiry sweeper, or the sandbox's `/expire` at once): status `Expired`, the windows
 * given back. Conditional on the version that was read, so it never releases what a concurrent
 * capture or reversal took.
 */
export function expireAuthorization(caller: Caller, transactionId: string, idempotency?: IdempotencyScope, dueBy?: string) {
  return adjust(caller, transactionId, idempotency, (txn, now) => {
    assertStatus(txn);
    // The sweeper expires only what is due as read now: an increment may have pushed the expiry on.
    if (dueBy !== undefined && (!txn.expiresAt || txn.expiresAt > dueBy)) throw new HoldNotDue();
    const amount = txn.remainingHold;
    const after: CardTransaction = {
      ...txn,
      status: 'Expired',
      remainingHold: 0n,
      expiredAmount: amount,
      expiresAt: null,
      updatedAt: now,
      version: txn.version + 1,
    };
    return { after, ...release(txn, amount, 'expiry', 'Expired') };
  });
}

/** The sweeper found a hold whose expiry moved on since the index was read (an increment): not expired. */
export class HoldNotDue extends Error {
  constructor() {
    super('The hold is not due to expire');
    this.name = 'HoldNotDue';
  }
}

type AdjustmentDecision = {
  after: CardTransaction;
  move: BalanceMove;
  windowDelta: bigint;
  kind: PostingKind;
  legs: Leg[];
  action: 'Reversed' | 'Settled' | 'Expired';
};

/** What a reversal or an expiry of `amount` does besides the transaction: the hold goes back to the balance and the windows. */
function release(txn: CardTransaction, amount: bigint, kind: 'reversal' | 'expiry', action: 'Reversed' | 'Expired'): Omit<AdjustmentDecision, 'after'> {
  return { move: { kind: 'release', amount }, windowDelta: -amount, kind, legs: releaseLegs(ownerOfTxn(txn), txn.localCurrency, amount), action };
}

async function adjust(
  caller: Caller,
  transactionId: string,
  idempotency: IdempotencyScope | undefined,
  decideAdjustment: (txn: CardTransaction, now: string) => AdjustmentDecision,
): Promise<CardTransactionView> {
  for (let attempt = 0; attempt < MAX_STALE_RETRIES; attempt++) {
    const txn = await getTransaction(transactionId, true);
    if (!txn || txn.type !== 'Sales' || ('businessId' in caller && txn.businessId !== caller.businessId)) {
      throw notFound('transaction');
    }
    const now = nowIso();
    const decision = decideAdjustment(txn, now);
    const owner = ownerOfTxn(txn);
    const result = await commitAdjustment({
      before: txn,
      after: decision.after,
      owner,
      move: decision.move,
      forced: await forcedDebitOf(owner, txn.localCurrency, forcedPart(decision.move)),
      windowDelta: decision.windowDelta,
      posting: posting({ postingId: newId(), kind: decision.kind, reference: txn.transactionId, legs: decision.legs, createdAt: now }),
      event: transactionEvent(decision.action, decision.after),
      idempotencyCompletion: idempotency?.completionItem(transactionView(decision.after)),
    });
    if (result === 'committed') {
      if (decision.action === 'Settled') recordCapture();
      return transactionView(decision.after);
    }
    idempotency?.discardCompletion();
  }
  throw new ApiError('service_unavailable');
}
