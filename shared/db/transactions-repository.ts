/**
 * Card transactions and the single transactions that decide them.
 *
 * An approval is ONE `TransactWriteItems` (ARCHITECTURE.md), built by the pure `approvalItems`
 * (which the benchmark's baseline commits too), each item tagged with what its failed condition
 * means (a decline reason, `stale`, `claimed`, `idempotency`; the puts of new ids are untagged):
 *
 *   [user check (B2C)] [daily] [monthly] [lifetime] [balance hold] [card check]
 *   [network id claim (network route)] [transaction put] [ledger posting] [outbox event]
 *   [idempotency completion]
 *
 * When several decline reasons fail together, the answer is the first in the documented order
 * (`firstDeclineReason`), whatever the order of the items.
 *
 * - the user check is the user entity's "Active user of this business" (`activeUserCheck`);
 * - each spend counter is incremented on every approval; when its limit is on, the increment is
 *   conditional on `spent <= limit - total`, so concurrent approvals can never pass a limit;
 * - the balance moves to a hold only if `available >= total`;
 * - the card check pins the card version that was read (status and limits unchanged);
 * - the network's authorization id is claimed on `attribute_not_exists(PK)`: of any number of
 *   concurrent requests with one id, one commits and the others learn the id is taken (a decline
 *   claims it the same way), and the caller reads the claim to tell a repeat from a conflict;
 * - the transaction, posting and event are puts of new ids, conditional so nothing is overwritten.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { WINDOW_DECLINE, firstDeclineReason, type DeclineReason } from '../domain/authorization.ts';
import type { CardLimits } from '../domain/cards.ts';
import type { BalanceOwner, Posting } from '../domain/ledger.ts';
import { WINDOW_KINDS, type WindowKind, type WindowPeriods } from '../domain/spend-windows.ts';
import { TRANSACTION_STATUSES, type CardTransaction, type NetworkAuthorizationClaim, type TransactionStatus } from '../domain/transactions.ts';
import { CARD_CURRENCIES } from '../domain/money.ts';
import type { PageKey } from '../http/cursor.ts';
import { bigintAttr, db, intAttr, tableName } from './client.ts';
import { idempotencyInProgress } from './idempotency-repository.ts';
import { cardKeys, networkAuthorizationKeys, spendWindowKeys, transactionKeys } from './keys.ts';
import { holdItem, postingItem, releaseItem, settleItem } from './ledger-items.ts';
import { outboxItem, type OutboxEvent } from './outbox.ts';
import { GSI1_KEY, queryNewestFirst, type Page } from './query-page.ts';
import { transaction, transactWrite, type TaggedItem, type TransactItem } from './transact.ts';
import { activeUserCheck } from './users-repository.ts';

/** Old day and month counters expire; a reversal that arrives later recreates a harmless one. */
const WINDOW_TTL_SECONDS: Record<WindowKind, number | undefined> = { daily: 3 * 86_400, monthly: 62 * 86_400, lifetime: undefined };

export interface ApprovalPlan {
  transaction: CardTransaction;
  owner: BalanceOwner;
  limits: CardLimits;
  periods: WindowPeriods;
  cardVersion: number;
  posting: Posting;
  event: OutboxEvent;
  /** On the network route: the claim of the network's authorization id. */
  claim?: NetworkAuthorizationClaim;
  idempotencyCompletion?: TransactItem;
}

export type ApprovalOutcome =
  | { kind: 'approved' }
  | { kind: 'declined'; reason: DeclineReason }
  /** The card changed since it was read: read it again and decide again. */
  | { kind: 'stale' }
  /** The network's authorization id is claimed already: a repeat, or a conflict (read the claim). */
  | { kind: 'claimed' };

/** What an approval item's failed condition means (puts of new ids are untagged: they never fail). */
export type ApprovalCondition = DeclineReason | 'stale' | 'claimed' | 'idempotency';

/**
 * The approval's items, each tagged with what its failed condition means. Pure: no I/O, so the
 * engine (`commitApproval`) and the benchmark's baseline commit exactly the same transaction.
 */
export function approvalItems(plan: ApprovalPlan): TaggedItem<ApprovalCondition>[] {
  const { transaction: txn } = plan;
  const total = txn.heldAmount;
  const entries: TaggedItem<ApprovalCondition>[] = [];
  if (txn.userId) entries.push({ item: activeUserCheck(txn.businessId, txn.userId), tag: 'user_suspended' });
  for (const kind of WINDOW_KINDS) {
    entries.push({ item: spendCounterItem(txn.cardId, kind, plan.periods[kind], total, plan.limits[kind]), tag: WINDOW_DECLINE[kind] });
  }
  entries.push({ item: holdItem(plan.owner, txn.localCurrency, total), tag: 'insufficient_balance' });
  entries.push({
    item: {
      ConditionCheck: {
        TableName: tableName(),
        Key: cardKeys.card(txn.cardId),
        ConditionExpression: 'version = :version',
        ExpressionAttributeValues: { ':version': plan.cardVersion },
      },
    },
    tag: 'stale',
  });
  if (plan.claim) entries.push({ item: claimPut(plan.claim, txn.createdAt), tag: 'claimed' });
  entries.push({ item: transactionPut(txn) }, { item: postingItem(plan.posting) }, { item: outboxItem(plan.event) });
  if (plan.idempotencyCompletion) entries.push({ item: plan.idempotencyCompletion, tag: 'idempotency' });
  return entries;
}

export async function commitApproval(plan: ApprovalPlan): Promise<ApprovalOutcome> {
  const result = await transactWrite(approvalItems(plan));
  if (result.committed) return { kind: 'approved' };
  const { failed } = result;
  if (failed.has('idempotency')) throw idempotencyInProgress();
  // A claimed id decides before anything else: whatever else failed, this request is a repeat or a conflict.
  if (failed.has('claimed')) return { kind: 'claimed' };
  if (failed.has('stale')) return { kind: 'stale' };
  return { kind: 'declined', reason: firstDeclineReason(failed as ReadonlySet<DeclineReason>) ?? 'insufficient_balance' };
}

/**
 * A declined authorization: the record and its event (and, on the network route, the claim of the
 * network's id, so a repeat gets this decline back); nothing else moves. `'claimed'`: the id was
 * claimed already, and nothing was written.
 */
export async function commitDecline(
  txn: CardTransaction,
  event: OutboxEvent,
  options: { claim?: NetworkAuthorizationClaim; idempotencyCompletion?: TransactItem } = {},
): Promise<'recorded' | 'claimed'> {
  const tx = transaction<'claimed' | 'idempotency'>();
  if (options.claim) tx.add(claimPut(options.claim, txn.createdAt), 'claimed');
  tx.add(transactionPut(txn)).add(outboxItem(event));
  if (options.idempotencyCompletion) tx.add(options.idempotencyCompletion, 'idempotency');
  const result = await tx.commit();
  if (result.committed) return 'recorded';
  if (result.failed.has('idempotency')) throw idempotencyInProgress();
  return 'claimed';
}

/** The claim of a network authorization id, read consistently: it decides repeat or conflict. */
export async function getNetworkAuthorizationClaim(networkAuthorizationId: string): Promise<NetworkAuthorizationClaim | undefined> {
  const result = await db().send(
    new GetCommand({ TableName: tableName(), Key: networkAuthorizationKeys.claim(networkAuthorizationId), ConsistentRead: true }),
  );
  const item = result.Item;
  if (!item) return undefined;
  return {
    networkAuthorizationId: String(item.networkAuthorizationId),
    cardId: String(item.cardId),
    transactionId: String(item.transactionId),
    fingerprint: String(item.fingerprint),
  };
}

function claimPut(claim: NetworkAuthorizationClaim, createdAt: string): TransactItem {
  return {
    Put: {
      TableName: tableName(),
      Item: {
        ...networkAuthorizationKeys.claim(claim.networkAuthorizationId),
        entity: 'network_authorization_claim',
        networkAuthorizationId: claim.networkAuthorizationId,
        cardId: claim.cardId,
        transactionId: claim.transactionId,
        fingerprint: claim.fingerprint,
        createdAt,
      },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}

export interface AdjustmentPlan {
  before: CardTransaction;
  after: CardTransaction;
  owner: BalanceOwner;
  /** Released back to available (reversal) — or, for a settlement, see `settled`. */
  released: bigint;
  settled?: bigint;
  posting: Posting;
  event: OutboxEvent;
  idempotencyCompletion?: TransactItem;
}

/**
 * A reversal or settlement: the transaction moves from the version that was read, the balance
 * moves, the released amount leaves the spend windows it was counted in, with the posting and the
 * event. Returns `'stale'` if the transaction changed meanwhile (re-read and decide again).
 */
export async function commitAdjustment(plan: AdjustmentPlan): Promise<'committed' | 'stale'> {
  const { before, after } = plan;
  // Only the transaction's own version check means something; the balance items move what the
  // transaction read as held, so their failure is a broken invariant (untagged: the commit throws).
  const tx = transaction<'stale' | 'idempotency'>()
    .add(
      {
        Put: {
          TableName: tableName(),
          Item: transactionItem(after),
          ConditionExpression: 'version = :version',
          ExpressionAttributeValues: { ':version': before.version },
        },
      },
      'stale',
    )
    .add(
      plan.settled === undefined
        ? releaseItem(plan.owner, before.localCurrency, plan.released)
        : settleItem(plan.owner, before.localCurrency, before.remainingHold, plan.settled),
    )
    .add(postingItem(plan.posting))
    .add(outboxItem(plan.event));
  if (plan.released > 0n && before.windows) {
    for (const kind of WINDOW_KINDS) tx.add(spendCounterItem(before.cardId, kind, before.windows[kind], -plan.released, 0n));
  }
  if (plan.idempotencyCompletion) tx.add(plan.idempotencyCompletion, 'idempotency');
  const result = await tx.commit();
  if (result.committed) return 'committed';
  if (result.failed.has('stale')) return 'stale';
  throw idempotencyInProgress();
}

export async function getTransaction(transactionId: string, consistent = false): Promise<CardTransaction | undefined> {
  const result = await db().send(
    new GetCommand({ TableName: tableName(), Key: transactionKeys.transaction(transactionId), ConsistentRead: consistent }),
  );
  return result.Item ? fromItem(result.Item) : undefined;
}

export interface TransactionFilter {
  status?: TransactionStatus;
  from?: string;
  to?: string;
}

/** One page of a card's transactions, newest first, optionally between two times. */
export async function listCardTransactions(
  cardId: string,
  filter: TransactionFilter,
  limit: number,
  startKey?: PageKey,
): Promise<Page<CardTransaction>> {
  const values: Record<string, unknown> = {
    ':partition': transactionKeys.cardListPartition(cardId),
    ':from': filter.from ?? '0',
    // '~' sorts after every character of "<time>#<id>", so `to` is inclusive of its own instant.
    ':to': `${filter.to ?? '9999'}~`,
  };
  const names: Record<string, string> = {};
  let filterExpression: string | undefined;
  if (filter.status) {
    filterExpression = '#status = :status';
    names['#status'] = 'status';
    values[':status'] = filter.status;
  }
  return queryNewestFirst(
    {
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :partition AND GSI1SK BETWEEN :from AND :to',
      ...(filterExpression ? { FilterExpression: filterExpression, ExpressionAttributeNames: names } : {}),
      ExpressionAttributeValues: values,
    },
    GSI1_KEY,
    fromItem,
    limit,
    startKey,
  );
}

function spendCounterItem(cardId: string, kind: WindowKind, period: string, amount: bigint, limit: bigint): TransactItem {
  const ttl = WINDOW_TTL_SECONDS[kind];
  const values: Record<string, unknown> = { ':amount': amount, ':entity': 'spend_window' };
  let condition: string | undefined;
  if (limit > 0n && amount > 0n) {
    // A purchase larger than the limit alone must fail even on a window nothing was spent in yet,
    // where `spent` does not exist: then only the comparison, false on a missing attribute, is left.
    condition = limit >= amount ? 'attribute_not_exists(spent) OR spent <= :room' : 'spent <= :room';
    values[':room'] = limit - amount;
  }
  if (ttl) values[':expiresAt'] = Math.floor(Date.now() / 1000) + ttl;
  return {
    Update: {
      TableName: tableName(),
      Key: spendWindowKeys.counter(cardId, kind, period),
      UpdateExpression: `SET entity = :entity${ttl ? ', expiresAt = :expiresAt' : ''} ADD spent :amount`,
      ...(condition ? { ConditionExpression: condition } : {}),
      ExpressionAttributeValues: values,
    },
  };
}

function transactionPut(txn: CardTransaction): TransactItem {
  return { Put: { TableName: tableName(), Item: transactionItem(txn), ConditionExpression: 'attribute_not_exists(PK)' } };
}

function transactionItem(txn: CardTransaction): Record<string, unknown> {
  return {
    ...transactionKeys.transaction(txn.transactionId),
    ...transactionKeys.cardListIndex(txn.cardId, txn.createdAt, txn.transactionId),
    entity: 'card_transaction',
    transactionId: txn.transactionId,
    businessId: txn.businessId,
    cardId: txn.cardId,
    mode: txn.mode,
    userId: txn.userId ?? undefined,
    status: txn.status,
    type: txn.type,
    transactionCurrency: txn.transactionCurrency,
    transactionAmount: txn.transactionAmount,
    localCurrency: txn.localCurrency,
    localAmount: txn.localAmount ?? undefined,
    fee: txn.fee,
    heldAmount: txn.heldAmount,
    remainingHold: txn.remainingHold,
    reversedAmount: txn.reversedAmount,
    settledAmount: txn.settledAmount ?? undefined,
    windows: txn.windows ?? undefined,
    merchant: { ...txn.merchant, mcc: txn.merchant.mcc ?? undefined },
    declineReason: txn.declineReason ?? undefined,
    networkAuthorizationId: txn.networkAuthorizationId ?? undefined,
    createdAt: txn.createdAt,
    updatedAt: txn.updatedAt,
    version: txn.version,
  };
}

function fromItem(item: Record<string, unknown>): CardTransaction {
  const merchant = (item.merchant ?? {}) as Record<string, unknown>;
  const windows = item.windows as Record<string, string> | undefined;
  const status = String(item.status) as TransactionStatus;
  const currency = String(item.localCurrency);
  if (!(TRANSACTION_STATUSES as readonly string[]).includes(status)) throw new Error(`Transaction ${String(item.transactionId)} has an unknown status`);
  if (!(CARD_CURRENCIES as readonly string[]).includes(currency)) throw new Error(`Transaction ${String(item.transactionId)} has an unknown currency`);
  return {
    transactionId: String(item.transactionId),
    businessId: String(item.businessId),
    cardId: String(item.cardId),
    mode: item.mode === 'B2C' ? 'B2C' : 'B2B',
    userId: typeof item.userId === 'string' ? item.userId : null,
    status,
    type: 'Sales',
    transactionCurrency: String(item.transactionCurrency),
    transactionAmount: String(item.transactionAmount),
    localCurrency: currency as CardTransaction['localCurrency'],
    localAmount: item.localAmount === undefined ? null : bigintAttr(item.localAmount),
    fee: bigintAttr(item.fee),
    heldAmount: bigintAttr(item.heldAmount),
    remainingHold: bigintAttr(item.remainingHold),
    reversedAmount: bigintAttr(item.reversedAmount),
    settledAmount: item.settledAmount === undefined ? null : bigintAttr(item.settledAmount),
    windows: windows ? { daily: windows.daily!, monthly: windows.monthly!, lifetime: windows.lifetime ?? 'lifetime' } : null,
    merchant: {
      merchantId: String(merchant.merchantId ?? ''),
      merchantName: String(merchant.merchantName ?? ''),
      merchantCountry: String(merchant.merchantCountry ?? ''),
      merchantCity: String(merchant.merchantCity ?? ''),
      mcc: typeof merchant.mcc === 'string' ? merchant.mcc : null,
    },
    declineReason: (item.declineReason as DeclineReason | undefined) ?? null,
    networkAuthorizationId: typeof item.networkAuthorizationId === 'string' ? item.networkAuthorizationId : null,
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
    version: intAttr(item.version),
  };
}
