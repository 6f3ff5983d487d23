/**
 * The reference model of the money invariants: what every balance, hold, spend window and status
 * must be after a sequence of requests, written from API.md alone (no platform code), so a bug in
 * the platform cannot also be in its oracle. Amounts are USD cents as bigint.
 */

export type WindowKind = 'daily' | 'monthly' | 'lifetime';
export const WINDOW_KINDS: WindowKind[] = ['daily', 'monthly', 'lifetime'];

export interface Limits {
  transaction: bigint;
  daily: bigint;
  monthly: bigint;
  lifetime: bigint;
}

export interface Balance {
  available: bigint;
  pending: bigint;
  /** A network-forced debit (late capture, force post) posted on it: only then may available be below zero. */
  forced?: boolean;
}

export interface ModelUser {
  id: string;
  status: 'Active' | 'Suspended';
  ekyc: { first_name: string; last_name: string; id_number: string };
  balance: Balance;
  address: string;
}

export interface ModelCard {
  id: string;
  number: string;
  /** `business` for B2B, else the index of the user in `users`. */
  owner: 'business' | number;
  status: 'Active' | 'Locked' | 'Terminated';
  limits: Limits;
  /** Spend per window period, e.g. `daily:2026-12-01`, `monthly:2026-12`, `lifetime:`. */
  spent: Map<string, bigint>;
}

export interface ModelTransaction {
  id: string;
  card: number;
  status: 'Authorized' | 'Declined' | 'Reversed' | 'Settled' | 'Expired';
  remaining: bigint;
  /** What an expiry released that no late capture has taken yet: a late capture's default amount. */
  expired?: bigint;
  /** The window periods the hold counts in; null when declined. */
  periods: Record<WindowKind, string> | null;
  /** Increments made on a later day: counted in that day's windows, given back first (latest first). */
  laterSpend?: { periods: Record<WindowKind, string>; amount: bigint }[];
  networkId?: string;
  amount: bigint;
}

export interface ModelDeposit {
  txHash: string;
  logIndex: number;
  amountMicros: bigint;
  user: number;
}

export interface Model {
  business: Balance;
  users: ModelUser[];
  cards: ModelCard[];
  transactions: ModelTransaction[];
  deposits: ModelDeposit[];
  /** Force posts and refunds the network sent, by their network id (for repeats). */
  networkPostings: { kind: 'settlements' | 'refunds'; networkId: string; card: number; amount: bigint; transactionId: string; refundOf?: string }[];
  /** The other business's single B2B balance and card: must never move. */
  other: { balance: Balance; cardId: string; cardNumber: string; userId: string; transactionId: string };
}

export const DECLINE_ORDER = [
  'card_terminated',
  'card_locked',
  'user_suspended',
  'exceeds_transaction_limit',
  'exceeds_daily_limit',
  'exceeds_monthly_limit',
  'exceeds_lifetime_limit',
  'insufficient_balance',
] as const;
export type Decline = (typeof DECLINE_ORDER)[number];

export function periodsAt(isoTime: string): Record<WindowKind, string> {
  // Businesses here use the default timezone, UTC: a day and a month are UTC calendar periods.
  return { daily: isoTime.slice(0, 10), monthly: isoTime.slice(0, 7), lifetime: '' };
}

export function balanceOf(model: Model, card: ModelCard): Balance {
  return card.owner === 'business' ? model.business : model.users[card.owner]!.balance;
}

/** API.md's decision, in its documented order, for a same-currency purchase of `total` cents. */
export function decide(model: Model, card: ModelCard, total: bigint, periods: Record<WindowKind, string>): Decline | 'approve' {
  if (card.status === 'Terminated') return 'card_terminated';
  if (card.status === 'Locked') return 'card_locked';
  if (card.owner !== 'business' && model.users[card.owner]!.status !== 'Active') return 'user_suspended';
  if (card.limits.transaction > 0n && total > card.limits.transaction) return 'exceeds_transaction_limit';
  const reasons: Record<WindowKind, Decline> = { daily: 'exceeds_daily_limit', monthly: 'exceeds_monthly_limit', lifetime: 'exceeds_lifetime_limit' };
  for (const kind of WINDOW_KINDS) {
    const limit = card.limits[kind];
    if (limit > 0n && spentIn(card, kind, periods[kind]) + total > limit) return reasons[kind];
  }
  if (balanceOf(model, card).available < total) return 'insufficient_balance';
  return 'approve';
}

export function spentIn(card: ModelCard, kind: WindowKind, period: string): bigint {
  return card.spent.get(`${kind}:${period}`) ?? 0n;
}

function addSpend(card: ModelCard, periods: Record<WindowKind, string>, delta: bigint): void {
  for (const kind of WINDOW_KINDS) {
    const key = `${kind}:${periods[kind]}`;
    card.spent.set(key, (card.spent.get(key) ?? 0n) + delta);
  }
}

export function approve(model: Model, txn: ModelTransaction): void {
  const card = model.cards[txn.card]!;
  const balance = balanceOf(model, card);
  balance.available -= txn.remaining;
  balance.pending += txn.remaining;
  addSpend(card, txn.periods!, txn.remaining);
}

/** Gives `amount` back to the windows it was counted in: a later day's increments first, latest first. */
function giveBackSpend(card: ModelCard, txn: ModelTransaction, amount: bigint): void {
  let rest = amount;
  for (const later of [...(txn.laterSpend ?? [])].reverse()) {
    const taken = later.amount < rest ? later.amount : rest;
    addSpend(card, later.periods, -taken);
    later.amount -= taken;
    rest -= taken;
  }
  addSpend(card, txn.periods!, -rest);
}

/** Gives `amount` of a hold back to the balance and to the windows it was counted in. */
export function reverse(model: Model, txn: ModelTransaction, amount: bigint): void {
  const card = model.cards[txn.card]!;
  const balance = balanceOf(model, card);
  balance.available += amount;
  balance.pending -= amount;
  giveBackSpend(card, txn, amount);
  txn.remaining -= amount;
  txn.status = txn.remaining === 0n ? 'Reversed' : 'Authorized';
}

/** Settles `amount` of what is held; the rest of the hold is released. */
export function settle(model: Model, txn: ModelTransaction, amount: bigint): void {
  const card = model.cards[txn.card]!;
  const balance = balanceOf(model, card);
  const released = txn.remaining - amount;
  balance.pending -= txn.remaining;
  balance.available += released;
  giveBackSpend(card, txn, released);
  txn.remaining = 0n;
  txn.status = 'Settled';
}

/** An approved increment: `extra` more held, counted in the windows of the day it is made (`periods`). */
export function increment(model: Model, txn: ModelTransaction, extra: bigint, periods: Record<WindowKind, string>): void {
  const card = model.cards[txn.card]!;
  const balance = balanceOf(model, card);
  balance.available -= extra;
  balance.pending += extra;
  addSpend(card, periods, extra);
  if (WINDOW_KINDS.some((kind) => periods[kind] !== txn.periods![kind])) (txn.laterSpend ??= []).push({ periods, amount: extra });
  txn.remaining += extra;
}

/**
 * A capture of `amount` (API.md "Authorization lifecycle"): a final one (or one that takes all
 * that is held) releases the rest; a partial one keeps it held. Of an `Expired` authorization (a
 * late capture), it comes out of available, which may go below zero, and takes from what the
 * expiry released: the authorization is `Settled` when the capture is final or nothing of that is left.
 */
export function capture(model: Model, txn: ModelTransaction, amount: bigint, final: boolean): void {
  const card = model.cards[txn.card]!;
  const balance = balanceOf(model, card);
  const leaving = txn.status === 'Expired' ? 0n : final || amount >= txn.remaining ? txn.remaining : amount;
  balance.pending -= leaving;
  balance.available += leaving - amount;
  if (amount > leaving) balance.forced = true;
  if (amount >= leaving) addSpend(card, txn.periods!, amount - leaving);
  else giveBackSpend(card, txn, leaving - amount);
  txn.remaining -= leaving;
  if (txn.status === 'Expired') {
    // A late capture takes from what the expiry released; with nothing of it left, it settles even when not final.
    txn.expired = amount >= (txn.expired ?? 0n) ? 0n : txn.expired! - amount;
    txn.status = final || txn.expired === 0n ? 'Settled' : 'Expired';
  } else txn.status = txn.remaining === 0n ? 'Settled' : 'Authorized';
}

/** The platform released what was held: status Expired, windows given back. */
export function expire(model: Model, txn: ModelTransaction): void {
  const released = txn.remaining;
  reverse(model, txn, released);
  txn.status = 'Expired';
  txn.expired = released;
}

/** A force post: debits available even below zero and counts in the card's current windows. */
export function forcePost(model: Model, card: ModelCard, amount: bigint, periods: Record<WindowKind, string>): void {
  const balance = balanceOf(model, card);
  balance.available -= amount;
  balance.forced = true;
  addSpend(card, periods, amount);
}

/** A refund: credits available; no spend goes back to the windows. */
export function refund(model: Model, card: ModelCard, amount: bigint): void {
  balanceOf(model, card).available += amount;
}

/** Stablecoins credit USD 1:1, truncated to the cent (sandbox deposit fee: 0). */
export function depositCredit(amountMicros: bigint): bigint {
  return amountMicros / 10_000n;
}

export function cents(decimal: string): bigint {
  const negative = decimal.startsWith('-');
  const [whole = '0', fraction = ''] = decimal.replace('-', '').split('.');
  const value = BigInt(whole) * 100n + BigInt((fraction + '00').slice(0, 2));
  if (fraction.length > 2 && /[1-9]/.test(fraction.slice(2))) throw new Error(`${decimal} is not whole cents`);
  return negative ? -value : value;
}

export function decimal(centsValue: bigint): string {
  const negative = centsValue < 0n;
  const abs = negative ? -centsValue : centsValue;
  const text = `${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
  return negative ? `-${text}` : text;
}

export function micros(decimalText: string): bigint {
  const [whole = '0', fraction = ''] = decimalText.split('.');
  return BigInt(whole) * 1_000_000n + BigInt((fraction + '000000').slice(0, 6));
}
