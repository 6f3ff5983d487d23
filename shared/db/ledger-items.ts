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

export function balanceKey(owner: BalanceOwner, currency: string): ItemKey {
  return owner.kind === 'business' ? businessKeys.balance(owner.id, currency) : userKeys.balance(owner.id, currency);
}

function balanceUpdate(
  owner: BalanceOwner,
  currency: string,
  changes: { available?: bigint; pending?: bigint },
  condition?: { availableAtLeast?: bigint; pendingAtLeast?: bigint },
): TransactItem {
  const values: Record<string, unknown> = {
    ':currency': currency,
    ':ownerKind': owner.kind,
    ':ownerId': owner.id,
    ':entity': 'balance',
  };
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
    conditions.push('available >= :minAvailable');
    values[':minAvailable'] = condition.availableAtLeast;
  }
  if (condition?.pendingAtLeast !== undefined) {
    conditions.push('pending >= :minPending');
    values[':minPending'] = condition.pendingAtLeast;
  }
  return {
    Update: {
      TableName: tableName(),
      Key: balanceKey(owner, currency),
      UpdateExpression: `SET currency = :currency, ownerKind = :ownerKind, ownerId = :ownerId, entity = :entity ADD ${adds.join(', ')}`,
      ...(conditions.length ? { ConditionExpression: conditions.join(' AND ') } : {}),
      ExpressionAttributeValues: values,
    },
  };
}

/** Approval: available -> pending, only if available covers it. */
export function holdItem(owner: BalanceOwner, currency: string, amount: bigint): TransactItem {
  return balanceUpdate(owner, currency, { available: -amount, pending: amount }, { availableAtLeast: amount });
}

/** Reversal: pending -> available. */
export function releaseItem(owner: BalanceOwner, currency: string, amount: bigint): TransactItem {
  return balanceUpdate(owner, currency, { available: amount, pending: -amount }, { pendingAtLeast: amount });
}

/**
 * A capture: `held` leaves pending, and available gets `held - settled`. No condition on
 * available: what the network captures beyond the hold (over-capture, late capture, force post)
 * posts even below zero, as the networks require.
 */
export function settleItem(owner: BalanceOwner, currency: string, held: bigint, settled: bigint): TransactItem {
  // Nothing held (a force post, a late capture): no condition at all, and a first posting creates the balance.
  return balanceUpdate(owner, currency, { available: held - settled, pending: -held }, held > 0n ? { pendingAtLeast: held } : undefined);
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
