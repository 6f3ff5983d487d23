/**
 * Transaction items that move money: balance updates and the ledger posting that explains them.
 * Every money movement is one `TransactWriteItems` made of these, so a balance never changes
 * without its posting (invariant 5) and no available balance goes below zero (invariant 2):
 * debits are conditional on `available >= amount`, evaluated by DynamoDB inside the transaction,
 * never computed from a read.
 */
import type { BalanceOwner, Posting } from '../domain/ledger.ts';
import { tableName } from './client.ts';
import { businessKeys, postingKeys, userKeys, type ItemKey } from './keys.ts';
import type { TransactItem } from './transact.ts';

/**
 * Which balance item: the owner's own (a user's, or a business's pool), or, with `shard`, an escrow
 * shard of a business balance (shared/domain/escrow.ts). Either way the same account.
 */
export function balanceKey(owner: BalanceOwner, currency: string, shard?: number): ItemKey {
  if (shard !== undefined) {
    if (owner.kind !== 'business') throw new Error('Only a business balance has escrow shards');
    return businessKeys.escrowShard(owner.id, currency, shard);
  }
  return owner.kind === 'business' ? businessKeys.balance(owner.id, currency) : userKeys.balance(owner.id, currency);
}

interface BalanceCondition {
  availableAtLeast?: bigint;
  availableAtMost?: bigint;
  pendingAtLeast?: bigint;
  /** With `availableAtLeast` of 0 or less: an item that does not exist yet (an empty shard) passes too. */
  orMissing?: boolean;
}

function balanceUpdate(
  owner: BalanceOwner,
  currency: string,
  changes: { available?: bigint; pending?: bigint },
  condition?: BalanceCondition,
  shard?: number,
): TransactItem {
  const values: Record<string, unknown> = {
    ':currency': currency,
    ':ownerKind': owner.kind,
    ':ownerId': owner.id,
    ':entity': 'balance',
  };
  const sets = ['currency = :currency', 'ownerKind = :ownerKind', 'ownerId = :ownerId', 'entity = :entity'];
  if (shard !== undefined) {
    sets.push('escrowShard = :shard');
    values[':shard'] = shard;
  }
  const adds: string[] = [];
  if (changes.available !== undefined) {
    adds.push('available :available');
    values[':available'] = changes.available;
  }
  if (changes.pending !== undefined) {
    adds.push('pending :pending');
    values[':pending'] = changes.pending;
  }
  const conditions: string[] = [];
  if (condition?.availableAtLeast !== undefined) {
    const orMissing = condition.orMissing && condition.availableAtLeast <= 0n;
    conditions.push(orMissing ? '(attribute_not_exists(available) OR available >= :minAvailable)' : 'available >= :minAvailable');
    values[':minAvailable'] = condition.availableAtLeast;
  }
  if (condition?.availableAtMost !== undefined) {
    conditions.push('(attribute_not_exists(available) OR available <= :maxAvailable)');
    values[':maxAvailable'] = condition.availableAtMost;
  }
  if (condition?.pendingAtLeast !== undefined) {
    conditions.push('pending >= :minPending');
    values[':minPending'] = condition.pendingAtLeast;
  }
  return {
    Update: {
      TableName: tableName(),
      Key: balanceKey(owner, currency, shard),
      UpdateExpression: `SET ${sets.join(', ')} ADD ${adds.join(', ')}`,
      ...(conditions.length ? { ConditionExpression: conditions.join(' AND ') } : {}),
      ExpressionAttributeValues: values,
    },
  };
}

/** Approval: available -> pending, only if available covers it (on an escrow shard: that shard's). */
export function holdItem(owner: BalanceOwner, currency: string, amount: bigint, shard?: number): TransactItem {
  return balanceUpdate(owner, currency, { available: -amount, pending: amount }, { availableAtLeast: amount }, shard);
}

/**
 * Approval on an escrow shard being refilled in the same transaction: `refill` comes in from the
 * pool or other shards (`escrowSourceItem`), `amount` moves to pending, only if the shard still has
 * at least `amount - refill` (what the snapshot saw, or more), so it never goes below zero.
 */
export function refilledHoldItem(owner: BalanceOwner, currency: string, amount: bigint, refill: bigint, shard: number | undefined): TransactItem {
  return balanceUpdate(owner, currency, { available: refill - amount, pending: amount }, { availableAtLeast: amount - refill, orMissing: true }, shard);
}

/**
 * A source of an escrow refill: `amount` leaves the pool (`shard` undefined) or another shard, only
 * if it still holds it. The pool's item also records the shard count the refill was planned with
 * (never lowering it: the condition), so the shard it fills is one every reader sums.
 */
export function escrowSourceItem(owner: BalanceOwner, currency: string, amount: bigint, shard: number | undefined, shardCount: number): TransactItem {
  const item = balanceUpdate(owner, currency, { available: -amount }, { availableAtLeast: amount }, shard);
  if (shard !== undefined) return item;
  const update = item.Update!;
  return {
    Update: {
      ...update,
      UpdateExpression: update.UpdateExpression!.replace('SET ', 'SET escrowShards = if_not_exists(escrowShards, :shardCount), '),
      ConditionExpression: `${update.ConditionExpression} AND (attribute_not_exists(escrowShards) OR escrowShards >= :shardCount)`,
      ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':shardCount': shardCount },
    },
  };
}

/**
 * One balance item's move: deltas of available and pending, and conditions on what it holds
 * before the move. `shard` undefined: the owner's own item (a user's balance, a business's pool).
 */
export interface ItemMove {
  shard?: number;
  available: bigint;
  pending: bigint;
  availableAtLeast?: bigint;
  /** At most this available before the move (a missing item passes: it holds nothing). */
  availableAtMost?: bigint;
  pendingAtLeast?: bigint;
}

/**
 * The moves merged into one per item (a transaction may touch an item only once): deltas add up,
 * conditions are kept (each is on what the item held before the transaction; at most one of each
 * kind per item is ever asked for).
 */
export function mergedMoves(moves: readonly ItemMove[]): ItemMove[] {
  const byItem = new Map<string, ItemMove>();
  for (const move of moves) {
    const key = String(move.shard ?? 'owner');
    const seen = byItem.get(key);
    if (!seen) {
      byItem.set(key, { ...move });
      continue;
    }
    const both = (kind: 'availableAtLeast' | 'availableAtMost' | 'pendingAtLeast') => seen[kind] !== undefined && move[kind] !== undefined;
    if (both('availableAtLeast') || both('availableAtMost') || both('pendingAtLeast')) {
      throw new Error('Two conditions of one kind on one balance item');
    }
    byItem.set(key, {
      ...seen,
      available: seen.available + move.available,
      pending: seen.pending + move.pending,
      ...(move.availableAtLeast !== undefined ? { availableAtLeast: move.availableAtLeast } : {}),
      ...(move.availableAtMost !== undefined ? { availableAtMost: move.availableAtMost } : {}),
      ...(move.pendingAtLeast !== undefined ? { pendingAtLeast: move.pendingAtLeast } : {}),
    });
  }
  return [...byItem.values()];
}

/** The update of one balance item for `move` (a first move creates the item). */
export function itemMoveUpdate(owner: BalanceOwner, currency: string, move: ItemMove): TransactItem {
  const conditions = move.availableAtLeast !== undefined || move.pendingAtLeast !== undefined || move.availableAtMost !== undefined;
  return balanceUpdate(
    owner,
    currency,
    { available: move.available, pending: move.pending },
    conditions ? { availableAtLeast: move.availableAtLeast, availableAtMost: move.availableAtMost, pendingAtLeast: move.pendingAtLeast } : undefined,
    move.shard,
  );
}

/** A credit from outside (top-up, deposit): creates the balance on first use. */
export function creditItem(owner: BalanceOwner, currency: string, amount: bigint): TransactItem {
  return balanceUpdate(owner, currency, { available: amount, pending: 0n });
}

/** A debit of available (transfers): only if available covers it. */
export function debitItem(owner: BalanceOwner, currency: string, amount: bigint): TransactItem {
  return balanceUpdate(owner, currency, { available: -amount, pending: 0n }, { availableAtLeast: amount });
}

export function postingItem(entry: Posting): TransactItem {
  return {
    Put: {
      TableName: tableName(),
      Item: {
        ...postingKeys.posting(entry.postingId),
        entity: 'posting',
        postingId: entry.postingId,
        kind: entry.kind,
        reference: entry.reference,
        // Amounts as strings: a posting is read back only by the audit, exactly.
        legs: entry.legs.map((l) => ({ account: l.account, currency: l.currency, amount: l.amount.toString() })),
        createdAt: entry.createdAt,
      },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}
