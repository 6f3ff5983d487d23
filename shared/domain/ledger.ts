/**
 * The double-entry ledger. Every balance change is a posting: two or more legs, one per account,
 * whose amounts sum to zero per currency (invariant 1). Balance accounts mirror the balance items
 * (`available` and `pending` of a business's or user's currency); contra accounts stand for the
 * outside world (the card network, funding, the chain) and for platform revenue (fees).
 *
 * The audit replays every posting per account and compares the sums with the balance items
 * (invariant 5).
 */

export type BalanceOwner = { kind: 'business'; id: string } | { kind: 'user'; id: string };

export type Account =
  | { kind: 'available' | 'pending'; owner: BalanceOwner; currency: string }
  | { kind: 'network' | 'funding' | 'chain' | 'fees'; currency: string };

export interface Leg {
  account: string;
  currency: string;
  /** Minor units; positive adds to the account. */
  amount: bigint;
}

/**
 * `forced_capture`: a capture that posts beyond what was held (an over-capture, a late capture of
 * an expired authorization, a force post): the only kind allowed to take available below zero.
 */
export type PostingKind =
  | 'authorization'
  | 'increment'
  | 'reversal'
  | 'expiry'
  | 'settlement'
  | 'forced_capture'
  | 'refund'
  | 'topup'
  | 'deposit'
  | 'transfer';

export interface Posting {
  postingId: string;
  kind: PostingKind;
  /** The transaction, top-up, deposit or transfer this posting belongs to. */
  reference: string;
  legs: Leg[];
  createdAt: string;
}

/** A stable account name: `user:<id>:USD:available`, `network:USD`, ... */
export function accountName(account: Account): string {
  if (account.kind === 'available' || account.kind === 'pending') {
    return `${account.owner.kind}:${account.owner.id}:${account.currency}:${account.kind}`;
  }
  return `${account.kind}:${account.currency}`;
}

export function leg(account: Account, amount: bigint): Leg {
  return { account: accountName(account), currency: account.currency, amount };
}

export class UnbalancedPostingError extends Error {}

/** Builds a posting, refusing one whose legs do not sum to zero per currency. */
export function posting(input: Omit<Posting, 'legs'> & { legs: Leg[] }): Posting {
  const totals = new Map<string, bigint>();
  for (const l of input.legs) totals.set(l.currency, (totals.get(l.currency) ?? 0n) + l.amount);
  for (const [currency, total] of totals) {
    if (total !== 0n) throw new UnbalancedPostingError(`posting ${input.postingId} is off by ${total} in ${currency}`);
  }
  return { ...input, legs: input.legs.filter((l) => l.amount !== 0n) };
}

const available = (owner: BalanceOwner, currency: string): Account => ({ kind: 'available', owner, currency });
const pending = (owner: BalanceOwner, currency: string): Account => ({ kind: 'pending', owner, currency });

/** Approval: the total moves from available into a hold. */
export function holdLegs(owner: BalanceOwner, currency: string, total: bigint): Leg[] {
  return [leg(available(owner, currency), -total), leg(pending(owner, currency), total)];
}

/** Reversal: `amount` of the hold goes back to available. */
export function releaseLegs(owner: BalanceOwner, currency: string, amount: bigint): Leg[] {
  return [leg(pending(owner, currency), -amount), leg(available(owner, currency), amount)];
}

/**
 * A capture of `settled` that takes `held` out of the hold: `held` leaves pending, the settled
 * amount goes to the network (less the FX fee, which is platform revenue), and available gets
 * `held - settled`: what the hold gave back, or (over-capture, late capture, force post: `held`
 * below `settled`) less, which may take it below zero.
 */
export function settleLegs(owner: BalanceOwner, currency: string, held: bigint, settled: bigint, fee: bigint): Leg[] {
  return [
    leg(pending(owner, currency), -held),
    leg(available(owner, currency), held - settled),
    leg({ kind: 'network', currency }, settled - fee),
    leg({ kind: 'fees', currency }, fee),
  ];
}

/** A credit from outside (top-up, deposit, a merchant's refund through the network) to available. */
export function creditLegs(owner: BalanceOwner, currency: string, amount: bigint, source: 'funding' | 'chain' | 'network'): Leg[] {
  return [leg({ kind: source, currency }, -amount), leg(available(owner, currency), amount)];
}

/**
 * A chain deposit: the chain delivered `gross`; the user's available balance gets `gross - fee`
 * and the deposit fee is platform revenue.
 */
export function depositLegs(owner: BalanceOwner, currency: string, gross: bigint, fee: bigint): Leg[] {
  return [leg({ kind: 'chain', currency }, -gross), leg(available(owner, currency), gross - fee), leg({ kind: 'fees', currency }, fee)];
}

/** A platform transfer: `amount` moves from one available balance to another. */
export function transferLegs(from: BalanceOwner, to: BalanceOwner, currency: string, amount: bigint): Leg[] {
  return [leg(available(from, currency), -amount), leg(available(to, currency), amount)];
}
