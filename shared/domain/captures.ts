/**
 * Captures of an authorization (API.md "Authorization lifecycle"), as pure rules: partial and
 * final captures, over-capture for tips, and late captures of an expired authorization. Pure.
 *
 * A capture of `captured` takes `leaving` out of the hold (pending): everything still held on a
 * final capture, only the captured amount on a partial one. What left the hold and was not
 * captured goes back to available; what was captured beyond it comes out of available with no
 * condition, because the network forces it (an over-capture, a late capture): that is the only way
 * an available balance goes below zero. The limit windows follow the same difference.
 */
import type { CardTransaction } from './transactions.ts';

/** MCCs whose captures may include a tip: restaurants, bars, fast food, taxis, barbers and beauty. */
export const OVER_CAPTURE_MCCS: readonly string[] = ['5812', '5813', '5814', '4121', '7230'];
/** How far past what is held a tip capture may go, in percent of the authorized amount. */
export const OVER_CAPTURE_PERCENT = 20n;

export interface CapturePlan {
  /** What this capture posts (added to `final_local_amount`). */
  captured: bigint;
  /** What leaves the hold (pending). */
  leaving: bigint;
  /** The FX fee this capture charges (the fee not yet charged, up to the captured amount). */
  fee: bigint;
  /** What stays held after it. */
  remainingHold: bigint;
  status: CardTransaction['status'];
  /** What the card's limit windows change by: + what was captured beyond the hold, - what the hold gave back. */
  windowDelta: bigint;
  /** Of an expired authorization: what its expiry released that no late capture has taken yet, after this one. */
  expiredLeft?: bigint;
}

/** The most a capture of `txn` may be while it is `Authorized`: what it holds, plus the tip room of its MCC. */
export function captureCeiling(txn: Pick<CardTransaction, 'remainingHold' | 'heldAmount' | 'merchant'>): bigint {
  const tipRoom = txn.merchant.mcc && OVER_CAPTURE_MCCS.includes(txn.merchant.mcc) ? (txn.heldAmount * OVER_CAPTURE_PERCENT) / 100n : 0n;
  return txn.remainingHold + tipRoom;
}

/**
 * The capture of `requested` (card-currency minor units; undefined: the default) of `txn`, which
 * is `Authorized` or `Expired` (a late capture, which always posts). `final` (default true) ends
 * the authorization; `final: false` keeps the rest held. `amount_exceeds_authorization` when an
 * authorized capture asks for more than `captureCeiling`.
 */
export function planCapture(txn: CardTransaction, requested: bigint | undefined, final = true): CapturePlan | 'amount_exceeds_authorization' {
  const feeDue = txn.fee - (txn.feeCollected ?? 0n);
  const feeOf = (captured: bigint) => (feeDue <= 0n ? 0n : captured < feeDue ? captured : feeDue);
  if (txn.status === 'Expired') {
    // Late captures take from what the expiry released, once: the default is what is left of it,
    // and the authorization is `Settled` when a capture is final or nothing is left, so a resent
    // capture without an amount can never post the released amount a second time.
    const uncaptured = txn.expiredAmount ?? 0n;
    const captured = requested ?? uncaptured;
    const expiredLeft = captured >= uncaptured ? 0n : uncaptured - captured;
    const status = final || expiredLeft === 0n ? 'Settled' : 'Expired';
    return { captured, leaving: 0n, fee: feeOf(captured), remainingHold: 0n, status, windowDelta: captured, expiredLeft };
  }
  const captured = requested ?? txn.remainingHold;
  if (captured > captureCeiling(txn)) return 'amount_exceeds_authorization';
  const leaving = final || captured >= txn.remainingHold ? txn.remainingHold : captured;
  const remainingHold = txn.remainingHold - leaving;
  return { captured, leaving, fee: feeOf(captured), remainingHold, status: remainingHold === 0n ? 'Settled' : 'Authorized', windowDelta: captured - leaving };
}
