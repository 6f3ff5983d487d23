/**
 * The ledger audit (invariants 1, 2 and 5): every posting sums to zero per currency, every balance
 * (the sum of its items: a business balance's pool and escrow shards) equals the replay of its entries, no pending balance is negative, and an available balance is
 * negative only where the network forced it: an account below zero must have a `forced_capture`
 * posting (an over-capture, a late capture or a force post) among its entries. Pure: it compares
 * what the repository read.
 */
export interface AuditBalance {
  owner: string;
  currency: string;
  available: bigint;
  pending: bigint;
}

export interface AuditLeg {
  postingId: string;
  account: string;
  currency: string;
  amount: bigint;
  /** The posting's kind; absent: not a forced capture. */
  kind?: string;
}

/** The only postings that may take an available balance below zero (ARCHITECTURE.md invariant 2). */
export const FORCED_POSTING_KIND = 'forced_capture';

export type AuditFinding =
  | { kind: 'unbalanced_posting'; postingId: string; currency: string; off_by: string }
  | { kind: 'balance_mismatch'; account: string; stored: string; replayed: string }
  | { kind: 'negative_balance'; account: string; amount: string };

export interface AuditReport {
  postings: number;
  balances: number;
  findings: AuditFinding[];
}

export function auditLedger(balances: AuditBalance[], legs: AuditLeg[]): AuditReport {
  const findings: AuditFinding[] = [];
  const perPosting = new Map<string, bigint>();
  const replayed = new Map<string, bigint>();
  const forced = new Set<string>();
  for (const l of legs) {
    if (l.kind === FORCED_POSTING_KIND) forced.add(l.account);
    const postingKey = `${l.postingId}|${l.currency}`;
    perPosting.set(postingKey, (perPosting.get(postingKey) ?? 0n) + l.amount);
    replayed.set(l.account, (replayed.get(l.account) ?? 0n) + l.amount);
  }
  for (const [key, total] of perPosting) {
    if (total !== 0n) {
      const [postingId = '', currency = ''] = key.split('|');
      findings.push({ kind: 'unbalanced_posting', postingId, currency, off_by: total.toString() });
    }
  }
  const stored = new Map<string, bigint>();
  // A business balance is several items (its pool and escrow shards): the account is their sum.
  const add = (account: string, amount: bigint) => stored.set(account, (stored.get(account) ?? 0n) + amount);
  for (const b of balances) {
    add(`${b.owner}:${b.currency}:available`, b.available);
    add(`${b.owner}:${b.currency}:pending`, b.pending);
    const availableAccount = `${b.owner}:${b.currency}:available`;
    if (b.available < 0n && !forced.has(availableAccount)) findings.push({ kind: 'negative_balance', account: `${b.owner}:${b.currency}:available`, amount: b.available.toString() });
    if (b.pending < 0n) findings.push({ kind: 'negative_balance', account: `${b.owner}:${b.currency}:pending`, amount: b.pending.toString() });
  }
  // Every balance account must match its entries, and every balance account with entries must exist.
  const balanceAccounts = new Set([...stored.keys(), ...[...replayed.keys()].filter((a) => a.endsWith(':available') || a.endsWith(':pending'))]);
  for (const account of balanceAccounts) {
    const have = stored.get(account) ?? 0n;
    const want = replayed.get(account) ?? 0n;
    if (have !== want) findings.push({ kind: 'balance_mismatch', account, stored: have.toString(), replayed: want.toString() });
  }
  return { postings: new Set(legs.map((l) => l.postingId)).size, balances: balances.length, findings };
}
