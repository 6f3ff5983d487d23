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
export function refilledHoldItem(owner: BalanceOwner, currency: string, amount: bigint, refill: bigint, shard: number): TransactItem {
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

/** Reversal: pending -> available (of the shard that holds it, when it was held on one). */
export function releaseItem(owner: BalanceOwner, currency: string, amount: bigint, shard?: number): TransactItem {
  return balanceUpdate(owner, currency, { available: amount, pending: -amount }, { pendingAtLeast: amount }, shard);
}

/**
 * A capture: `held` leaves pending, and available gets `held - settled`. No condition on
 * available: what the network captures beyond the hold (over-capture, late capture, force post)
 * posts even below zero, as the networks require.
 */
export function settleItem(owner: BalanceOwner, currency: string, held: bigint, settled: bigint, shard?: number): TransactItem {
  // Nothing held (a force post, a late capture): no condition at all, and a first posting creates the balance.
  return balanceUpdate(owner, currency, { available: held - settled, pending: -held }, held > 0n ? { pendingAtLeast: held } : undefined, shard);
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
