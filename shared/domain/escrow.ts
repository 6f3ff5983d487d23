/**
 * Escrow sub-balances of a business (B2B) balance (issue 17): the one balance every card of a
 * business spends is too hot a key for one item at thousands of approvals a second, so its
 * available amount is spread over shard items, each holding part of it.
 *
 * - The pool is the balance item of earlier releases (`BUSINESS#<id>` / `BALANCE#<currency>`): top-ups,
 *   refunds and force posts credit or debit it, and it records how many shards there are.
 * - An approval holds on ONE shard, chosen from the authorization's id (`shardsFor`: a retry lands on
 *   the same shard), with a condition that the shard's available covers it; then on a second shard;
 *   then, in the approval's own transaction, a refill of the first shard from the pool (and, when the
 *   pool is short, from the other shards: `planRefill`), read from one atomic snapshot, conditional on
 *   every source still holding what was read. It declines only when the snapshot's SUM is short.
 * - The transaction records its shard: captures, reversals, increments and expiry move that item.
 * - Moves between the pool and the shards change no account: the ledger's `available` is the sum
 *   of the pool and the shards (GET /v1/balances and the ledger audit add them up).
 * - The shard count only grows (`grownShardCount`), when a shard or the pool is contended
 *   (a transaction conflict or throttling on it), up to `MAX_ESCROW_SHARDS`; readers use the count the
 *   pool records, so a shard in use is always one the sum includes.
 *
 * Pure: the repository (shared/db/escrow-repository.ts) reads and writes, the service
 * (shared/services/escrow.ts) runs the steps.
 */

/** Shards that give their surplus to level a refill's target (what it must have may come from any). */
export const SURPLUS_DONORS = 2;

/** Shards a balance starts with (the pool holds everything until the first refill). */
export const INITIAL_ESCROW_SHARDS = 4;
/**
 * The most shards a balance grows to. A refill that gathers from every shard stays one transaction
 * (at most 100 items: the approval's own 12, the pool and 63 other shards), and 64 shards take
 * 5,000 approvals a second at ~320 write units each (README "Capacity").
 */
export const MAX_ESCROW_SHARDS = 64;

/** The next count after contention on `current` shards: doubled, never above the maximum. */
export function grownShardCount(current: number): number {
  return Math.min(MAX_ESCROW_SHARDS, Math.max(1, current) * 2);
}

/** FNV-1a (32-bit): a stable, well-spread number from an id. */
function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * The shard an authorization holds on first, and the second one it tries (different when there
 * are two or more), from its id alone: a retry of the same authorization picks the same shards.
 */
export function shardsFor(authorizationId: string, shardCount: number): number[] {
  const count = Math.max(1, shardCount);
  const first = fnv1a(authorizationId) % count;
  if (count === 1) return [first];
  const second = (first + 1 + (fnv1a(authorizationId, 0x1b873593) % (count - 1))) % count;
  return [first, second];
}

/** One atomic read of a business balance's pool and shards (available amounts, minor units). */
export interface EscrowSnapshot {
  shardCount: number;
  pool: bigint;
  /** Available of shard 0 .. shardCount - 1 (a shard never refilled: 0). */
  shards: bigint[];
}

/** A source of a refill: the pool or another shard, debited `amount` only if it still holds it. */
export interface RefillSource {
  from: EscrowItem;
  amount: bigint;
}

/** An item of a business balance: its pool, or escrow shard n. */
export type EscrowItem = 'pool' | number;

/** What the snapshot read on `item`. */
export function availableOn(snapshot: EscrowSnapshot, item: EscrowItem): bigint {
  return item === 'pool' ? snapshot.pool : (snapshot.shards[item] ?? 0n);
}

/**
 * A refill of `target` before it holds `amount`: `refill` moves in from `sources` (their sum), and
 * the target's hold is conditional on its available being at least `amount - refill` (what the
 * snapshot saw, or more), so the shard never goes below zero.
 */
export interface RefillPlan {
  /** A shard, or the pool itself (an increment of a transaction held on the pool before escrow). */
  target: EscrowItem;
  refill: bigint;
  sources: RefillSource[];
}

/** The whole available balance: the pool and every shard. */
export function escrowTotal(snapshot: EscrowSnapshot): bigint {
  return snapshot.shards.reduce((sum, shard) => sum + shard, snapshot.pool);
}

/**
 * How to let `target` hold `amount` (0: just bring it level), or `'insufficient'` when the whole
 * balance (pool and shards, as read) is short. The target is brought up to what it must have
 * (`amount`) and, beyond that, towards the balance's average per shard, so later approvals find it
 * funded and money does not pile up in a few shards:
 * - the pool gives first: what is wanted, at least an even share of the pool per shard;
 * - then the fullest shards (at most `SURPLUS_DONORS`) give their surplus above the average;
 * - only what the target must still have comes from any shard that has it, fullest first.
 * Every source gives at most what it holds (each is a condition of the transaction).
 */
export function planRefill(snapshot: EscrowSnapshot, target: EscrowItem, amount: bigint): RefillPlan | 'insufficient' {
  const total = escrowTotal(snapshot);
  if (total < amount) return 'insufficient';
  const have = availableOn(snapshot, target);
  const count = BigInt(Math.max(1, snapshot.shardCount));
  const must = amount - have;
  const average = total > 0n ? total / count : 0n;
  const want = max(must, target === 'pool' ? 0n : average - have);
  if (want <= 0n) return { target, refill: 0n, sources: [] };
  const pool = target === 'pool' || snapshot.pool < 0n ? 0n : snapshot.pool;
  const takings = new Takings();
  let wanted = want;
  let needed = must;
  const give = (from: EscrowItem, amountGiven: bigint) => {
    const given = takings.take(from, amountGiven);
    wanted -= given;
    needed -= given;
  };
  give('pool', min(pool, max(want, pool / count)));
  const shards = fullestShards(snapshot, target);
  // A few donors at most: each is a write on a busy shard, and the transaction conflicts with its holds.
  for (const { shard, available } of shards.slice(0, SURPLUS_DONORS)) {
    if (wanted <= 0n) break;
    give(shard, min(available - average, wanted));
  }
  // The total covers `amount`, so the positive parts cover what it must have (checked, never assumed).
  if (takings.fromFullest(shards, needed) > 0n) return 'insufficient';
  const sources = takings.sources();
  return { target, refill: sum(sources), sources };
}

/**
 * Where a debit the network forces (a force post, a late capture, the part of a capture beyond
 * its hold) comes from: what is available, pool first then the fullest shards, and only what is
 * beyond the whole balance from the pool (`beyond`), taking it below zero. So the positive parts of
 * a balance never add up to more than the balance: once it is below zero, no shard can approve.
 */
export function planForcedDebit(snapshot: EscrowSnapshot, amount: bigint): ForcedDebitPlan {
  const pool = snapshot.pool > 0n ? snapshot.pool : 0n;
  const positive = snapshot.shards.reduce((total, shard) => (shard > 0n ? total + shard : total), pool);
  const covered = min(amount, positive);
  const takings = new Takings();
  const fromPool = takings.take('pool', min(pool, covered));
  if (takings.fromFullest(fullestShards(snapshot), covered - fromPool) > 0n) throw new Error('planForcedDebit: the positive parts cover what they were asked for');
  const sources = takings.sources();
  const beyond = amount - covered;
  // Taking the pool below zero is right only if no shard holds more than was read: each is a condition.
  return beyond > 0n ? { sources, beyond, shardsAtMost: [...snapshot.shards] } : { sources, beyond };
}

/**
 * A forced debit's plan: `sources` each give only what they still hold; `beyond` (what exceeds the
 * balance) takes the pool below zero, and then `shardsAtMost` (what each shard was read holding)
 * are conditions too, so no shard credited since keeps money to approve with.
 */
export interface ForcedDebitPlan {
  sources: RefillSource[];
  beyond: bigint;
  shardsAtMost?: bigint[];
}

/** The shards holding something, but `exclude`, fullest first (ties: lower index first). */
function fullestShards(snapshot: EscrowSnapshot, exclude?: EscrowItem): { shard: number; available: bigint }[] {
  return snapshot.shards
    .map((available, shard) => ({ shard, available }))
    .filter(({ shard, available }) => shard !== exclude && available > 0n)
    .sort((a, b) => (a.available === b.available ? a.shard - b.shard : a.available > b.available ? -1 : 1));
}

/** What a plan takes from each item; one source per item, however many times it is taken from. */
class Takings {
  readonly #taken = new Map<EscrowItem, bigint>();

  /** Takes `amount` from `from` (nothing if it is not positive); answers what was taken. */
  take(from: EscrowItem, amount: bigint): bigint {
    if (amount <= 0n) return 0n;
    this.#taken.set(from, (this.#taken.get(from) ?? 0n) + amount);
    return amount;
  }

  /** Takes up to `amount` from `shards` in order, each at most what it has left; answers what is still missing. */
  fromFullest(shards: { shard: number; available: bigint }[], amount: bigint): bigint {
    let missing = amount;
    for (const { shard, available } of shards) {
      if (missing <= 0n) break;
      missing -= this.take(shard, min(available - (this.#taken.get(shard) ?? 0n), missing));
    }
    return missing;
  }

  sources(): RefillSource[] {
    return [...this.#taken].map(([from, amount]) => ({ from, amount }));
  }
}

const sum = (sources: RefillSource[]) => sources.reduce((total, source) => total + source.amount, 0n);

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const max = (a: bigint, b: bigint) => (a > b ? a : b);
