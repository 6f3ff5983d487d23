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

/**
 * One balance item's move: deltas of available and pending, and conditions on what it holds
 * before the move. `shard` undefined: the owner's own item (a user's balance, a business's pool).
 * A missing item holds nothing: it passes `availableAtLeast` of 0 or less and `availableAtMost` of
 * 0 or more (an escrow shard nobody filled yet).
 */
export interface ItemMove {
  shard?: number;
  available: bigint;
  pending: bigint;
  availableAtLeast?: bigint;
  availableAtMost?: bigint;
  pendingAtLeast?: bigint;
  /**
   * On a business's pool: the escrow shard count a refill was planned with, recorded if the pool
   * records none and required otherwise (never lowered), so the shard it fills is one every reader sums.
   */
  shardCountAtLeast?: number;
}

type Condition = 'availableAtLeast' | 'availableAtMost' | 'pendingAtLeast' | 'shardCountAtLeast';
const CONDITIONS: readonly Condition[] = ['availableAtLeast', 'availableAtMost', 'pendingAtLeast', 'shardCountAtLeast'];

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
    if (CONDITIONS.some((kind) => seen[kind] !== undefined && move[kind] !== undefined)) throw new Error('Two conditions of one kind on one balance item');
    const merged: ItemMove = { ...seen, available: seen.available + move.available, pending: seen.pending + move.pending };
    for (const kind of CONDITIONS) if (move[kind] !== undefined) Object.assign(merged, { [kind]: move[kind] });
    byItem.set(key, merged);
  }
  return [...byItem.values()];
}

/** The update of one balance item for `move` (a first move creates the item). */
export function itemMoveUpdate(owner: BalanceOwner, currency: string, move: ItemMove): TransactItem {
  const values: Record<string, unknown> = {
    ':currency': currency,
    ':ownerKind': owner.kind,
    ':ownerId': owner.id,
    ':entity': 'balance',
    ':available': move.available,
    ':pending': move.pending,
  };
  const sets = ['currency = :currency', 'ownerKind = :ownerKind', 'ownerId = :ownerId', 'entity = :entity'];
  const conditions: string[] = [];
  if (move.shard !== undefined) {
    sets.push('escrowShard = :shard');
    values[':shard'] = move.shard;
  }
  if (move.availableAtLeast !== undefined) {
    conditions.push(move.availableAtLeast <= 0n ? '(attribute_not_exists(available) OR available >= :minAvailable)' : 'available >= :minAvailable');
    values[':minAvailable'] = move.availableAtLeast;
  }
  if (move.availableAtMost !== undefined) {
    conditions.push(move.availableAtMost >= 0n ? '(attribute_not_exists(available) OR available <= :maxAvailable)' : 'available <= :maxAvailable');
    values[':maxAvailable'] = move.availableAtMost;
  }
  if (move.pendingAtLeast !== undefined) {
    conditions.push('pending >= :minPending');
    values[':minPending'] = move.pendingAtLeast;
  }
  if (move.shardCountAtLeast !== undefined) {
    sets.push('escrowShards = if_not_exists(escrowShards, :shardCount)');
    conditions.push('(attribute_not_exists(escrowShards) OR escrowShards >= :shardCount)');
    values[':shardCount'] = move.shardCountAtLeast;
  }
  return {
    Update: {
      TableName: tableName(),
      Key: balanceKey(owner, currency, move.shard),
      UpdateExpression: `SET ${sets.join(', ')} ADD available :available, pending :pending`,
      ...(conditions.length ? { ConditionExpression: conditions.join(' AND ') } : {}),
      ExpressionAttributeValues: values,
    },
  };
}

/** Approval: available -> pending, only if available covers it (on an escrow shard: that shard's). */
export function holdItem(owner: BalanceOwner, currency: string, amount: bigint, shard?: number): TransactItem {
  return itemMoveUpdate(owner, currency, { shard, available: -amount, pending: amount, availableAtLeast: amount });
}

/** A credit from outside (top-up, deposit): creates the balance on first use. */
export function creditItem(owner: BalanceOwner, currency: string, amount: bigint): TransactItem {
  return itemMoveUpdate(owner, currency, { available: amount, pending: 0n });
}

/** A debit of available (transfers): only if available covers it. */
export function debitItem(owner: BalanceOwner, currency: string, amount: bigint): TransactItem {
  return itemMoveUpdate(owner, currency, { available: -amount, pending: 0n, availableAtLeast: amount });
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
