/**
 * Holding money on a business balance's escrow shards (shared/domain/escrow.ts): the steps an
 * approval or an increment takes, each one transaction the caller commits (`attempt`):
 *
 * 1. the shard chosen from the authorization's id (once warm, the shard count comes from this
 *    container's cache: the approve path stays one read and one transaction);
 * 2. a second shard;
 * 3. consistent reads of the pool and every shard, and the first shard refilled (towards the
 *    balance's average: `planRefill`) and held in the same transaction, every source conditional on
 *    what it still holds. A source that moved meanwhile fails the transaction: read again and plan
 *    again, a few times, then a retryable 503. A decline (`insufficient_balance`) only when one
 *    atomic read of them all says their sum is short.
 *
 * An increment holds where its transaction holds: its shard, or the pool for one held before escrow
 * (steps 1 and 3 there). A user's balance holds on its one item, one step.
 *
 * When the shard a hold is on is throttled, or conflicts in two attempts, the shard count doubles
 * (up to `MAX_ESCROW_SHARDS`): load grows the shards.
 */
import { grownShardCount, planForcedDebit, planRefill, shardsFor, type EscrowItem } from '../domain/escrow.ts';
import type { BalanceOwner } from '../domain/ledger.ts';
import { config } from '../config.ts';
import { ApiError } from '../errors.ts';
import { logger } from '../logger.ts';
import { commitRefill, growShardCount, readEscrow, readShardCount, type EscrowRead } from '../db/escrow-repository.ts';
import type { BalanceHold, EscrowShort, ForcedDebit } from '../db/transactions-repository.ts';

/** Snapshots and refills before a retryable 503 (each after sources moved under the last). */
const REFILL_ATTEMPTS = 6;
/** How long a container trusts the shard count it read (counts only grow: a stale one is safe). */
const SHARD_COUNT_TTL_MS = 60_000;

const shardCounts = new Map<string, { count: number; readAt: number }>();

async function shardCount(businessId: string, currency: string): Promise<number> {
  const key = `${businessId}#${currency}`;
  const cached = shardCounts.get(key);
  if (cached && Date.now() - cached.readAt < SHARD_COUNT_TTL_MS) return cached.count;
  return remember(key, await readShardCount(businessId, currency));
}

/**
 * The pool and shards of a business balance, with this container's shard count (no read of the
 * count itself once warm; a count that grew is picked up from the pool read with the shards).
 */
export async function readBusinessBalance(businessId: string, currency: string, kind: 'atomic' | 'consistent'): Promise<EscrowRead> {
  const read = await readEscrow(businessId, currency, kind, await shardCount(businessId, currency));
  remember(`${businessId}#${currency}`, read.shardCount);
  return read;
}

function remember(key: string, count: number): number {
  shardCounts.set(key, { count, readAt: Date.now() });
  return count;
}

/**
 * Where to hold: a user's own item; escrow chosen by the authorization's id; or where a business
 * transaction already holds (its shard, or the pool for one held before escrow).
 */
export type HoldRoute = { owner: true } | { authorizationId: string } | { shard: EscrowItem };

/** Where an existing transaction's extra amount is held: with what it already holds. */
export function routeOfHeld(owner: BalanceOwner, escrowShard: number | undefined): HoldRoute {
  if (owner.kind !== 'business') return { owner: true };
  return { shard: escrowShard ?? 'pool' };
}

/**
 * Where a debit the network forces on a business balance comes from (shared/domain/escrow.ts
 * `planForcedDebit`), from consistent reads; undefined for a user's balance (its one item) or nothing
 * to debit. The plan's sources are conditions of the debit's transaction: if one moved, plan again.
 */
export async function forcedDebitOf(owner: BalanceOwner, currency: string, amount: bigint): Promise<ForcedDebit | undefined> {
  if (owner.kind !== 'business' || amount <= 0n) return undefined;
  // Consistent reads suffice: every source is a condition, and below zero every shard is too.
  return planForcedDebit(await readBusinessBalance(owner.id, currency, 'consistent'), amount);
}

/**
 * The route of a new authorization's hold: escrow for a business balance (the pool while the
 * stage's `ESCROW_HOLDS` is off), the owner's item for a user's.
 */
export function routeFor(owner: BalanceOwner, authorizationId: string): HoldRoute {
  if (owner.kind !== 'business') return { owner: true };
  return config().ESCROW_HOLDS === 'on' ? { authorizationId } : { shard: 'pool' };
}

/**
 * Runs `attempt` with each hold step until one answers anything but `escrow_short`; answers
 * `insufficient_balance` when the whole balance is short.
 */
export async function holdWithEscrow<R>(
  owner: BalanceOwner,
  currency: string,
  amount: bigint,
  route: HoldRoute,
  attempt: (hold: BalanceHold, onContention: (code: string) => void) => Promise<R | EscrowShort>,
): Promise<R | 'insufficient_balance'> {
  // Contention that grows the shards: throttling once, or transaction conflicts on escrow items in
  // two attempts of this one hold (a single conflict is ordinary concurrency).
  let throttled = false;
  let conflicts = 0;
  const onContention = (code: string) => {
    if (code === 'ThrottlingError') throttled = true;
    else conflicts++;
  };
  const settled = (outcome: R | EscrowShort): outcome is R => !(typeof outcome === 'object' && outcome !== null && (outcome as EscrowShort).kind === 'escrow_short');
  if ('owner' in route) {
    const outcome = await attempt({ kind: 'owner' }, onContention);
    if (settled(outcome)) return outcome;
    throw new Error('A hold on an owner item never comes up short of escrow');
  }
  const known = await shardCount(owner.id, currency);
  try {
    const shards: EscrowItem[] = 'shard' in route ? [route.shard] : shardsFor(route.authorizationId, known);
    for (const [index, shard] of shards.entries()) {
      const outcome = await attempt({ kind: 'shard', shard }, onContention);
      if (!settled(outcome)) continue;
      // Held on the second shard: the first is short, and every authorization that picks it first
      // would pay a second transaction until it is filled. Fill it now, towards the average.
      if (index > 0 && typeof shards[0] === 'number' && (outcome as { kind?: string }).kind === 'approved') await fillShard(owner.id, currency, shards[0]);
      return outcome;
    }
    for (let refill = 1; refill <= REFILL_ATTEMPTS; refill++) {
      // Planned from consistent reads (the refill's conditions keep it safe); a decline only from one atomic read.
      const snapshot = await readBusinessBalance(owner.id, currency, 'consistent');
      let plan = planRefill(snapshot, shards[0]!, amount);
      // Holding on the pool with no shard holding anything: the pool's own condition just failed
      // and there is nothing to gather, so the decline needs no atomic read (on a busy pool, with
      // escrow holds off, that read would be cancelled by the pool's own traffic).
      if (plan === 'insufficient' && shards[0] === 'pool' && snapshot.shards.every((shard) => shard <= 0n)) return 'insufficient_balance';
      if (plan === 'insufficient') {
        const exact = await readBusinessBalance(owner.id, currency, 'atomic');
        plan = planRefill(exact, shards[0]!, amount);
        if (plan === 'insufficient') return 'insufficient_balance';
      }
      const outcome = await attempt({ kind: 'refill', plan, shardCount: snapshot.shardCount }, onContention);
      if (settled(outcome)) return outcome;
      await sleep(Math.random() * 5 * 2 ** refill);
    }
    throw new ApiError('service_unavailable');
  } finally {
    if (throttled || conflicts >= 2) await escrowContended(owner.id, currency);
  }
}

/**
 * An escrow item of this balance was contended (a transaction conflict, or DynamoDB throttling its
 * partition): doubles the shard count from the one this container knows (the partition-heat model
 * calls this where DynamoDB would throttle).
 */
export async function escrowContended(businessId: string, currency: string): Promise<void> {
  try {
    const from = await shardCount(businessId, currency);
    const to = grownShardCount(from);
    if (to === from) return;
    remember(`${businessId}#${currency}`, await growShardCount(businessId, currency, from, to));
  } catch (error) {
    // Growth only spreads load; the hold itself was decided. Never fails a request.
    logger.warn('Escrow shard count not grown', { error: (error as Error).name });
  }
}

/**
 * Brings a shard found short up towards the balance's average (pool first, then shards above the
 * average). Best effort: a shard left short is refilled by the next hold that needs it anyway.
 */
async function fillShard(businessId: string, currency: string, shard: number): Promise<void> {
  try {
    const snapshot = await readBusinessBalance(businessId, currency, 'consistent');
    const plan = planRefill(snapshot, shard, 0n);
    if (plan !== 'insufficient' && plan.refill > 0n) await commitRefill(businessId, currency, plan, snapshot.shardCount);
  } catch (error) {
    logger.warn('Escrow shard not filled', { error: (error as Error).name });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
