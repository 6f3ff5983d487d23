/**
 * Card transactions and the single transactions that decide them.
 *
 * An approval is ONE `TransactWriteItems` (ARCHITECTURE.md), built by the pure `approvalItems`
 * (which the benchmark's baseline commits too), each item tagged with what its failed condition
 * means (a decline reason, `stale`, `claimed`, `idempotency`; the puts of new ids are untagged):
 *
 *   [user check (B2C)] [daily] [monthly] [lifetime] [daily count] [balance hold] [card check]
 *   [network id claim (network route)] [transaction put] [ledger posting] [outbox event]
 *   [idempotency completion]
 *
 * When several decline reasons fail together, the answer is the first in the documented order
 * (`firstDeclineReason`), whatever the order of the items.
 *
 * - the user check is the user entity's "Active user of this business" (`activeUserCheck`);
 * - each spend counter is incremented on every approval; when its limit is on, the increment is
 *   conditional on `spent <= limit - total`, so concurrent approvals can never pass a limit;
 * - the day's approval count is incremented on every approval; when `max_daily_count` is on, the
 *   increment is conditional on `approved < max`, so N concurrent approvals pass exactly the room;
 * - the balance moves to a hold only if `available >= total`: a user's balance item, or one escrow
 *   shard of a business balance (`BalanceHold`: the shard, or the shard refilled in this same
 *   transaction from the pool or other shards, every source conditional on what it still holds;
 *   shared/domain/escrow.ts), tagged `escrow_short` so the service tries the next step;
 * - the card check pins the card version that was read (status and limits unchanged);
 * - the network's authorization id is claimed on `attribute_not_exists(PK)`: of any number of
 *   concurrent requests with one id, one commits and the others learn the id is taken (a decline
 *   claims it the same way), and the caller reads the claim to tell a repeat from a conflict;
 * - the transaction, posting and event are puts of new ids, conditional so nothing is overwritten.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DECISION_SOURCES, type Decision } from '../domain/authorization-decisions.ts';
import { WINDOW_DECLINE, firstDeclineReason, type DeclineReason } from '../domain/authorization.ts';
import type { CardLimits } from '../domain/cards.ts';
import type { BalanceOwner, Posting } from '../domain/ledger.ts';
import { counterMoves, DAILY_COUNT_KIND, WINDOW_KINDS, type WindowKind, type WindowPeriods } from '../domain/spend-windows.ts';
import { TRANSACTION_STATUSES, TRANSACTION_TYPES, type CardTransaction, type NetworkAuthorizationClaim, type TransactionStatus, type TransactionType } from '../domain/transactions.ts';
import { CARD_CURRENCIES } from '../domain/money.ts';
import type { PageKey } from '../http/cursor.ts';
import { bigintAttr, db, intAttr, tableName } from './client.ts';
import { idempotencyInProgress } from './idempotency-repository.ts';
import { cardKeys, holdExpiryKeys, holdExpiryPartition, networkAuthorizationKeys, spendWindowKeys, transactionKeys, type ItemKey } from './keys.ts';
import type { EscrowItem, ForcedDebitPlan, RefillPlan } from '../domain/escrow.ts';
import { creditItem, holdItem, itemMoveUpdate, mergedMoves, postingItem, type ItemMove } from './ledger-items.ts';
import { outboxEntries, type OutboxEvent } from './outbox.ts';
import { GSI1_KEY, GSI2_KEY, GSI3_KEY, queryAllWithPrefix, queryNewestFirst, queryShardsNewestFirst, type Page } from './query-page.ts';
import { transaction, transactWrite, type TaggedItem, type TransactItem } from './transact.ts';
import { activeUserCheck } from './users-repository.ts';

/** Old day and month counters expire; a reversal that arrives later recreates a harmless one. */
const WINDOW_TTL_SECONDS: Record<WindowKind, number | undefined> = { daily: 3 * 86_400, monthly: 62 * 86_400, lifetime: undefined };

/**
 * Where an approval or an increment holds: the owner's own balance item (a user's; a business's
 * pool for a transaction held there before escrow), an escrow shard, or an escrow shard refilled in
 * the same transaction (shared/services/escrow.ts runs the steps).
 */
export type BalanceHold =
  | { kind: 'owner' }
  | { kind: 'shard'; shard: EscrowItem }
  | { kind: 'refill'; plan: RefillPlan; shardCount: number };

/** The shard a hold puts the money on (recorded on the transaction), if any (not the pool). */
export function heldShard(hold: BalanceHold): number | undefined {
  const item = hold.kind === 'shard' ? hold.shard : hold.kind === 'refill' ? hold.plan.target : undefined;
  return typeof item === 'number' ? item : undefined;
}

/** The hold's items: tagged `insufficient_balance` on the owner's item, `escrow_short` on a shard and its sources. */
export function balanceHoldEntries(owner: BalanceOwner, currency: string, amount: bigint, hold: BalanceHold): TaggedItem<DeclineReason | 'escrow_short'>[] {
  switch (hold.kind) {
    case 'owner':
      return [{ item: holdItem(owner, currency, amount), tag: 'insufficient_balance' }];
    case 'shard':
      return [{ item: holdItem(owner, currency, amount, itemOf(hold.shard).shard), tag: 'escrow_short' }];
    case 'refill': {
      // Sources give only what they still hold (the pool also pins the shard count); the target
      // takes the refill in and holds `amount`, only if it still has `amount - refill` (what was read, or more).
      const { plan } = hold;
      const sources: ItemMove[] = plan.sources.map((source) => ({
        ...itemOf(source.from),
        available: -source.amount,
        pending: 0n,
        availableAtLeast: source.amount,
        ...(source.from === 'pool' ? { shardCountAtLeast: hold.shardCount } : {}),
      }));
      const target: ItemMove = { ...itemOf(plan.target), available: plan.refill - amount, pending: amount, availableAtLeast: amount - plan.refill };
      return [...sources, target].map((move) => ({ item: itemMoveUpdate(owner, currency, move), tag: 'escrow_short' as const }));
    }
  }
}

/** Cancellation codes that mean an item is contended (another writer, or its partition's throughput). */
const CONTENDED = new Set(['TransactionConflict', 'ThrottlingError']);

/**
 * Commit options that tell `onContention` the code when the shard the money is held on was
 * contended on an attempt (its hold is the last `escrow_short` item). Not the pool, nor a refill's
 * sources: a hot pool (escrow holds off) or a refill's donors say nothing about too few shards.
 */
function escrowContention<Tag extends string>(entries: readonly TaggedItem<Tag>[], hold: BalanceHold, onContention?: (code: string) => void) {
  if (!onContention || heldShard(hold) === undefined) return {};
  const watched = entries.map((entry) => entry.tag).lastIndexOf('escrow_short' as Tag);
  return {
    onRetry: (codes: readonly (string | undefined)[]) => {
      const code = codes[watched] ?? '';
      if (CONTENDED.has(code)) onContention(code);
    },
  };
}

/** What a commit that holds money answers when only an escrow step failed (not a decline: try the next step). */
export type EscrowShort = { kind: 'escrow_short' };

export interface ApprovalPlan {
  transaction: CardTransaction;
  owner: BalanceOwner;
  /** Where the money is held (the transaction records the shard: `transaction.escrowShard`). */
  hold: BalanceHold;
  /** Told when an escrow item was contended, with the code (the service grows the shard count). */
  onContention?: (code: string) => void;
  limits: CardLimits;
  periods: WindowPeriods;
  /** The governing `max_daily_count` (card and business); 0 or missing: off, yet still counted. */
  maxDailyCount?: number;
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
  | { kind: 'claimed' }
  | EscrowShort;

/** What an approval item's failed condition means (puts of new ids are untagged: they never fail). */
export type ApprovalCondition = DeclineReason | 'stale' | 'claimed' | 'idempotency' | 'escrow_short';

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
  entries.push({ item: dailyCountItem(txn.cardId, plan.periods.daily, plan.maxDailyCount ?? 0), tag: 'exceeds_daily_count' });
  entries.push(...balanceHoldEntries(plan.owner, txn.localCurrency, total, plan.hold));
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
  entries.push({ item: transactionPut(txn) }, { item: postingItem(plan.posting) }, ...outboxEntries(plan.event));
  if (plan.idempotencyCompletion) entries.push({ item: plan.idempotencyCompletion, tag: 'idempotency' });
  return entries;
}

export async function commitApproval(plan: ApprovalPlan): Promise<ApprovalOutcome> {
  const entries = approvalItems(plan);
  const result = await transactWrite(entries, escrowContention(entries, plan.hold, plan.onContention));
  if (result.committed) return { kind: 'approved' };
  const { failed } = result;
  if (failed.has('idempotency')) throw idempotencyInProgress();
  // A claimed id decides before anything else: whatever else failed, this request is a repeat or a conflict.
  if (failed.has('claimed')) return { kind: 'claimed' };
  if (failed.has('stale')) return { kind: 'stale' };
  return declineOrEscrowShort(failed);
}

/**
 * Every platform decline reason comes before `insufficient_balance`: one of them failing decides.
 * Otherwise an escrow step that came up short is not a decline yet (the service tries the next).
 */
function declineOrEscrowShort(failed: ReadonlySet<string>): { kind: 'declined'; reason: DeclineReason } | EscrowShort {
  const reason = firstDeclineReason(failed as ReadonlySet<DeclineReason>);
  if (reason) return { kind: 'declined', reason };
  return failed.has('escrow_short') ? { kind: 'escrow_short' } : { kind: 'declined', reason: 'insufficient_balance' };
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
  tx.add(transactionPut(txn)).addAll(outboxEntries(event));
  if (options.idempotencyCompletion) tx.add(options.idempotencyCompletion, 'idempotency');
  const result = await tx.commit();
  if (result.committed) return 'recorded';
  if (result.failed.has('idempotency')) throw idempotencyInProgress();
  return 'claimed';
}

/** The claim of a network authorization id, read consistently: it decides repeat or conflict. */
export function getNetworkAuthorizationClaim(networkAuthorizationId: string): Promise<NetworkAuthorizationClaim | undefined> {
  return getClaim(networkAuthorizationKeys.claim(networkAuthorizationId));
}

/**
 * The claim of a network id at `key` (an authorization's, a force post's or a refund's: the same
 * shape), read consistently: it decides repeat or conflict.
 */
export async function getClaim(key: ItemKey): Promise<NetworkAuthorizationClaim | undefined> {
  const result = await db().send(new GetCommand({ TableName: tableName(), Key: key, ConsistentRead: true }));
  const item = result.Item;
  if (!item) return undefined;
  return {
    networkAuthorizationId: String(item.networkAuthorizationId),
    cardId: String(item.cardId),
    transactionId: String(item.transactionId),
    fingerprint: String(item.fingerprint),
  };
}

function claimPut(claim: NetworkAuthorizationClaim, createdAt: string, key: ItemKey = networkAuthorizationKeys.claim(claim.networkAuthorizationId)): TransactItem {
  return {
    Put: {
      TableName: tableName(),
      Item: {
        ...key,
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

/** How an adjustment moves the balance: a release of held money, or a capture (shared/domain/captures.ts). */
export type BalanceMove = { kind: 'release'; amount: bigint } | { kind: 'capture'; leaving: bigint; captured: bigint };

/** What a capture debits beyond what it releases from the hold: forced by the network. */
export function forcedPart(move: BalanceMove): bigint {
  return move.kind === 'capture' && move.captured > move.leaving ? move.captured - move.leaving : 0n;
}

/**
 * Where a forced debit of a business balance comes from (shared/domain/escrow.ts
 * `planForcedDebit`): available items first, each only if it still holds what it gives; what is
 * beyond the whole balance from the pool. Absent (a user's balance): the owner's item, unconditionally.
 */
export type ForcedDebit = ForcedDebitPlan;

function forcedMoves(amount: bigint, forced: ForcedDebit | undefined, owner: BalanceOwner): ItemMove[] {
  if (amount === 0n) return [];
  if (!forced) {
    if (owner.kind === 'business') throw new Error('A forced debit of a business balance needs its plan');
    return [{ available: -amount, pending: 0n }];
  }
  const moves: ItemMove[] = forced.sources.map((source) => ({ ...itemOf(source.from), available: -source.amount, pending: 0n, availableAtLeast: source.amount }));
  if (forced.beyond > 0n) moves.push({ available: -forced.beyond, pending: 0n });
  forced.shardsAtMost?.forEach((seen, shard) => moves.push({ shard, available: 0n, pending: 0n, availableAtMost: seen }));
  return moves;
}

const itemOf = (item: EscrowItem | undefined): { shard?: number } => (item === undefined || item === 'pool' ? {} : { shard: item });

/**
 * The balance items of a money move, one update per item, tagged `stale` where a forced debit's
 * source must still hold what it gives (re-read and plan again); the hold's own conditions are a
 * broken invariant if they fail (untagged).
 */
function addBalanceMoves(tx: { add(item: TransactItem, tag?: 'stale'): unknown }, owner: BalanceOwner, currency: string, moves: ItemMove[]): void {
  for (const move of mergedMoves(moves)) {
    const planned = move.availableAtLeast !== undefined || move.availableAtMost !== undefined;
    tx.add(itemMoveUpdate(owner, currency, move), planned ? 'stale' : undefined);
  }
}

export interface AdjustmentPlan {
  before: CardTransaction;
  after: CardTransaction;
  owner: BalanceOwner;
  move: BalanceMove;
  /** For a business balance, where a capture's forced part comes from (`forcedPart`). */
  forced?: ForcedDebit;
  /** What the card's limit windows (the periods the authorization counted in) change by. */
  windowDelta: bigint;
  posting: Posting;
  event: OutboxEvent;
  idempotencyCompletion?: TransactItem;
}

/**
 * A reversal, capture or expiry: the transaction moves from the version that was read (so an
 * expiry racing a capture or a reversal never releases twice: one of them finds the version
 * moved), the balance moves, the limit windows follow, with the posting and the event. Returns
 * `'stale'` if the transaction changed meanwhile (re-read and decide again).
 */
export async function commitAdjustment(plan: AdjustmentPlan): Promise<'committed' | 'stale'> {
  const { before, after, move } = plan;
  // What leaves the hold leaves the pending of the item that holds it (its escrow shard, or the
  // owner's item); what it gives back to available goes to the owner's item (a business's pool),
  // never to a shard: a shard only receives money from a refill, conditional on its source, so a
  // balance below zero never has a shard to approve with. What a capture takes beyond the hold is
  // a forced debit, planned across the balance (`forced`).
  const held = itemOf(before.escrowShard);
  const leaving = move.kind === 'release' ? move.amount : move.leaving;
  const givenBack = move.kind === 'release' ? move.amount : move.leaving - (move.captured < move.leaving ? move.captured : move.leaving);
  const moves: ItemMove[] = [
    ...(leaving > 0n ? [{ ...held, available: 0n, pending: -leaving, pendingAtLeast: leaving }] : []),
    ...(givenBack > 0n ? [{ available: givenBack, pending: 0n }] : []),
    ...forcedMoves(forcedPart(move), plan.forced, plan.owner),
  ];
  const windows = windowMoves(before, plan.windowDelta);
  const tx = transaction<'stale' | 'idempotency'>().add(versionedPut({ ...after, ...windows.after }, before.version), 'stale');
  addBalanceMoves(tx, plan.owner, before.localCurrency, moves);
  tx.add(postingItem(plan.posting)).addAll(outboxEntries(plan.event));
  for (const item of windows.items) tx.add(item);
  if (plan.idempotencyCompletion) tx.add(plan.idempotencyCompletion, 'idempotency');
  const result = await tx.commit();
  if (result.committed) return 'committed';
  if (result.failed.has('stale')) return 'stale';
  throw idempotencyInProgress();
}

/**
 * Moves the spend windows the transaction counts in by `amount`, with no limit: a give-back
 * (negative: the latest increment's periods first, shared/domain/spend-windows.ts `counterMoves`)
 * or a debit the network forces; `after` is what the transaction then records of its increments'
 * shares. Nothing when it counts in none or nothing moves.
 */
function windowMoves(txn: CardTransaction, amount: bigint): { items: TransactItem[]; after: Pick<CardTransaction, 'incrementWindows'> } {
  const { windows } = txn;
  if (amount === 0n || !windows) return { items: [], after: {} };
  const { moves, shares } = counterMoves(windows, txn.incrementWindows ?? [], amount);
  return {
    items: moves.map((move) => spendCounterItem(txn.cardId, move.kind, move.period, move.amount, 0n)),
    after: { incrementWindows: shares },
  };
}

export interface IncrementPlan {
  before: CardTransaction;
  after: CardTransaction;
  owner: BalanceOwner;
  /** Where the extra amount is held: the transaction's own escrow shard (or its owner's item). */
  hold: BalanceHold;
  onContention?: (code: string) => void;
  /** The extra amount held, card-currency minor units. */
  extra: bigint;
  /** The periods of the day the increment is made: the extra amount is checked and counted there. */
  periods: WindowPeriods;
  limits: CardLimits;
  cardVersion: number;
  posting: Posting;
  event: OutboxEvent;
  idempotencyCompletion?: TransactItem;
}

export type IncrementOutcome = { kind: 'approved' } | { kind: 'declined'; reason: DeclineReason } | { kind: 'stale' } | EscrowShort;

/**
 * An increment: checked like a new authorization for the extra amount only, in ONE transaction:
 * the user check, each spend window's counter OF TODAY'S PERIODS (conditional on the limit; the
 * transaction records them in `incrementWindows` when they are not its own), the balance hold
 * (conditional on available), the card's version, and the transaction moving from the version that
 * was read (`stale`: re-read and decide again), with the posting and the event. The day's
 * approval count does not move: an increment is not a new authorization.
 */
export async function commitIncrement(plan: IncrementPlan): Promise<IncrementOutcome> {
  const { before, after, extra } = plan;
  const tx = transaction<DeclineReason | 'stale' | 'idempotency' | 'escrow_short'>();
  if (before.userId) tx.add(activeUserCheck(before.businessId, before.userId), 'user_suspended');
  if (before.windows) {
    for (const kind of WINDOW_KINDS) tx.add(spendCounterItem(before.cardId, kind, plan.periods[kind], extra, plan.limits[kind]), WINDOW_DECLINE[kind]);
  }
  tx.addAll(balanceHoldEntries(plan.owner, before.localCurrency, extra, plan.hold))
    .add(
      {
        ConditionCheck: {
          TableName: tableName(),
          Key: cardKeys.card(before.cardId),
          ConditionExpression: 'version = :version',
          ExpressionAttributeValues: { ':version': plan.cardVersion },
        },
      },
      'stale',
    )
    .add(versionedPut(after, before.version), 'stale')
    .add(postingItem(plan.posting))
    .addAll(outboxEntries(plan.event));
  if (plan.idempotencyCompletion) tx.add(plan.idempotencyCompletion, 'idempotency');
  const result = await tx.commit(escrowContention(tx.entries, plan.hold, plan.onContention));
  if (result.committed) return { kind: 'approved' };
  const { failed } = result;
  if (failed.has('idempotency')) throw idempotencyInProgress();
  if (failed.has('stale')) return { kind: 'stale' };
  return declineOrEscrowShort(failed);
}

export interface NetworkPostingPlan {
  /** The new transaction: a force post (`Sales`, `Settled`) or a refund (`Refund`, `Settled`). */
  transaction: CardTransaction;
  owner: BalanceOwner;
  /** The claim of the network's id, and where it is kept (NETSETTLE# or NETREFUND#). */
  claim: NetworkAuthorizationClaim;
  claimKey: ItemKey;
  /** A force post's debit (no condition: the network forces it) or a refund's credit. */
  move: { kind: 'debit'; amount: bigint } | { kind: 'credit'; amount: bigint };
  /** For a business balance, where the force post's debit comes from. */
  forced?: ForcedDebit;
  /** A force post counts in the card's current windows (no limit condition: it is forced); a refund gives nothing back. */
  windowAmount: bigint;
  posting: Posting;
  event: OutboxEvent;
  idempotencyCompletion?: TransactItem;
}

/**
 * A force post or a refund: the claim of the network's id (`claimed`: a repeat or a conflict, read
 * the claim), the new transaction, the balance, the windows, the posting and the event, in ONE
 * transaction. Nothing here can decline: the network already moved the money.
 */
export async function commitNetworkPosting(plan: NetworkPostingPlan): Promise<'committed' | 'claimed' | 'stale'> {
  const { transaction: txn, move } = plan;
  const tx = transaction<'claimed' | 'idempotency' | 'stale'>()
    .add(claimPut(plan.claim, txn.createdAt, plan.claimKey), 'claimed')
    .add(transactionPut(txn));
  if (move.kind === 'credit') tx.add(creditItem(plan.owner, txn.localCurrency, move.amount));
  else addBalanceMoves(tx, plan.owner, txn.localCurrency, forcedMoves(move.amount, plan.forced, plan.owner));
  tx.add(postingItem(plan.posting)).addAll(outboxEntries(plan.event));
  for (const item of windowMoves(txn, plan.windowAmount).items) tx.add(item);
  if (plan.idempotencyCompletion) tx.add(plan.idempotencyCompletion, 'idempotency');
  const result = await tx.commit();
  if (result.committed) return 'committed';
  if (result.failed.has('idempotency')) throw idempotencyInProgress();
  // A claimed id decides first; otherwise a forced debit's source moved: plan again.
  return result.failed.has('claimed') ? 'claimed' : 'stale';
}

/**
 * One page of the holds of one shard of the sparse expiry index that expired before `beforeIso`,
 * oldest first; `next` continues after it (past entries that could not be released, so one
 * failing hold never blocks the ones behind it). The index is eventually consistent: the sweeper
 * reads each transaction again, consistently, before it expires it.
 */
export async function expiredHoldsPage(
  shard: number,
  beforeIso: string,
  limit: number,
  startKey?: Record<string, unknown>,
): Promise<{ ids: string[]; next?: Record<string, unknown> }> {
  const page = await db().send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: 'GSI4',
      KeyConditionExpression: 'GSI4PK = :partition AND GSI4SK < :before',
      ExpressionAttributeValues: { ':partition': holdExpiryPartition(shard), ':before': beforeIso },
      ScanIndexForward: true,
      Limit: limit,
      ProjectionExpression: 'transactionId',
      ExclusiveStartKey: startKey,
    }),
  );
  return { ids: (page.Items ?? []).map((item) => String(item.transactionId)), ...(page.LastEvaluatedKey ? { next: page.LastEvaluatedKey } : {}) };
}

/** The transaction as it is after a change, only if it is still at the version that was read. */
function versionedPut(after: CardTransaction, version: number): TransactItem {
  return {
    Put: {
      TableName: tableName(),
      Item: transactionItem(after),
      ConditionExpression: 'version = :version',
      ExpressionAttributeValues: { ':version': version },
    },
  };
}

export async function getTransaction(transactionId: string, consistent = false): Promise<CardTransaction | undefined> {
  const result = await db().send(
    new GetCommand({ TableName: tableName(), Key: transactionKeys.transaction(transactionId), ConsistentRead: consistent }),
  );
  return result.Item ? fromItem(result.Item) : undefined;
}

export interface TransactionFilter {
  status?: TransactionStatus;
  /** `Sales` or `Refund`. */
  type?: string;
  /** Only this user's (on a card's list: a card of another user yields nothing). */
  userId?: string;
  from?: string;
  to?: string;
}

/** Which list: a card's (GSI1), a B2C user's (GSI3) or the whole business's (GSI2). */
export type TransactionList = { cardId: string } | { userId: string } | { businessId: string };

/** One page of a card's transactions, newest first, optionally between two times. */
export function listCardTransactions(cardId: string, filter: TransactionFilter, limit: number, startKey?: PageKey): Promise<Page<CardTransaction>> {
  return listTransactions({ cardId }, filter, limit, startKey);
}

/**
 * One page of a list of transactions, newest first, optionally between two times (the sort key
 * starts with the creation time); status, type and user are filters on the page.
 */
export async function listTransactions(list: TransactionList, filter: TransactionFilter, limit: number, startKey?: PageKey): Promise<Page<CardTransaction>> {
  const [index, partitionKey, sortKey, partitions, keyAttributes] =
    'cardId' in list
      ? (['GSI1', 'GSI1PK', 'GSI1SK', [transactionKeys.cardListPartition(list.cardId)], GSI1_KEY] as const)
      : 'userId' in list
        ? (['GSI3', 'GSI3PK', 'GSI3SK', [transactionKeys.userListPartition(list.userId)], GSI3_KEY] as const)
        : (['GSI2', 'GSI2PK', 'GSI2SK', transactionKeys.businessListPartitions(list.businessId), GSI2_KEY] as const);
  // '~' sorts after every character of "<time>#<id>", so `to` is inclusive of its own instant.
  const to = `${filter.to ?? '9999'}~`;
  const values: Record<string, unknown> = { ':from': filter.from ?? '0' };
  const names: Record<string, string> = {};
  const conditions: string[] = [];
  const equals = (attribute: string, value: string | undefined) => {
    if (value === undefined) return;
    names[`#${attribute}`] = attribute;
    values[`:${attribute}`] = value;
    conditions.push(`#${attribute} = :${attribute}`);
  };
  equals('status', filter.status);
  equals('type', filter.type);
  equals('userId', filter.userId);
  const shard = (partition: string, before?: string) => ({
    IndexName: index,
    KeyConditionExpression: `${partitionKey} = :partition AND ${sortKey} BETWEEN :from AND :to`,
    ...(conditions.length ? { FilterExpression: conditions.join(' AND '), ExpressionAttributeNames: names } : {}),
    // Paging on in a sharded list: at most the cursor's position (what equals it is dropped).
    ExpressionAttributeValues: { ...values, ':partition': partition, ':to': before !== undefined && before < to ? before : to },
  });
  if (partitions.length === 1) return queryNewestFirst(shard(partitions[0]!), [...keyAttributes], fromItem, limit, startKey);
  return queryShardsNewestFirst(partitions, shard, sortKey, fromItem, limit, startKey);
}

/** The day's approval count: +1, and when `max` is on only while fewer than `max` were approved. */
function dailyCountItem(cardId: string, day: string, max: number): TransactItem {
  const values: Record<string, unknown> = { ':one': 1, ':entity': 'spend_window', ':expiresAt': Math.floor(Date.now() / 1000) + (WINDOW_TTL_SECONDS.daily ?? 0) };
  if (max > 0) values[':max'] = max;
  return {
    Update: {
      TableName: tableName(),
      Key: spendWindowKeys.counter(cardId, DAILY_COUNT_KIND, day),
      UpdateExpression: 'SET entity = :entity, expiresAt = :expiresAt ADD approved :one',
      ...(max > 0 ? { ConditionExpression: 'attribute_not_exists(approved) OR approved < :max' } : {}),
      ExpressionAttributeValues: values,
    },
  };
}

/** What a card's counters hold for the given periods (a missing counter is 0). */
export interface CardCounters {
  spent: Record<WindowKind, bigint>;
  approvedToday: number;
}

/** A card's counters of the current periods: one strongly consistent Query of its `SPEND#` items. */
export async function getCardCounters(cardId: string, periods: WindowPeriods): Promise<CardCounters> {
  const prefix = spendWindowKeys.cardPrefix(cardId);
  const items = await queryAllWithPrefix(prefix);
  const bySortKey = new Map(items.map((item) => [String(item.SK), item]));
  const counter = (kind: string, period: string) => bySortKey.get(spendWindowKeys.counter(cardId, kind, period).SK);
  const spent = Object.fromEntries(WINDOW_KINDS.map((kind) => [kind, bigintAttr(counter(kind, periods[kind])?.spent ?? 0)])) as Record<WindowKind, bigint>;
  return { spent, approvedToday: intAttr(counter(DAILY_COUNT_KIND, periods.daily)?.approved ?? 0) };
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
    ...transactionKeys.businessListIndex(txn.businessId, txn.createdAt, txn.transactionId),
    ...(txn.userId ? transactionKeys.userListIndex(txn.userId, txn.createdAt, txn.transactionId) : {}),
    // In the expiry index only while it holds money: the write that ends the hold drops the keys.
    ...(txn.status === 'Authorized' && txn.remainingHold > 0n && txn.expiresAt ? holdExpiryKeys.index(txn.transactionId, txn.expiresAt) : {}),
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
    feeCollected: txn.feeCollected,
    // Not `expiresAt`: that is the table's TTL attribute, and a hold must never delete its transaction.
    holdExpiresAt: txn.expiresAt ?? undefined,
    expiredAmount: txn.expiredAmount,
    networkSettlementId: txn.networkSettlementId,
    networkRefundId: txn.networkRefundId,
    refundOf: txn.refundOf,
    windows: txn.windows ?? undefined,
    incrementWindows: txn.incrementWindows?.length ? txn.incrementWindows.map((share) => ({ ...share.periods, amount: share.amount })) : undefined,
    merchant: { ...txn.merchant, mcc: txn.merchant.mcc ?? undefined },
    declineReason: txn.declineReason ?? undefined,
    networkAuthorizationId: txn.networkAuthorizationId ?? undefined,
    decision: txn.decision,
    approvedAmount: txn.approvedAmount,
    escrowShard: txn.escrowShard,
    partnerReason: txn.partnerReason,
    partnerMetadata: txn.partnerMetadata,
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
  const type = (item.type ?? 'Sales') as TransactionType;
  if (!(TRANSACTION_TYPES as readonly string[]).includes(type)) throw new Error(`Transaction ${String(item.transactionId)} has an unknown type`);
  return {
    transactionId: String(item.transactionId),
    businessId: String(item.businessId),
    cardId: String(item.cardId),
    mode: item.mode === 'B2C' ? 'B2C' : 'B2B',
    userId: typeof item.userId === 'string' ? item.userId : null,
    status,
    type,
    transactionCurrency: String(item.transactionCurrency),
    transactionAmount: String(item.transactionAmount),
    localCurrency: currency as CardTransaction['localCurrency'],
    localAmount: item.localAmount === undefined ? null : bigintAttr(item.localAmount),
    fee: bigintAttr(item.fee),
    heldAmount: bigintAttr(item.heldAmount),
    remainingHold: bigintAttr(item.remainingHold),
    reversedAmount: bigintAttr(item.reversedAmount),
    settledAmount: item.settledAmount === undefined ? null : bigintAttr(item.settledAmount),
    // Before partial captures, a settlement charged the whole fee at once.
    feeCollected: item.feeCollected === undefined ? (item.settledAmount === undefined ? 0n : bigintAttr(item.fee)) : bigintAttr(item.feeCollected),
    expiresAt: typeof item.holdExpiresAt === 'string' ? item.holdExpiresAt : null,
    ...(item.expiredAmount !== undefined ? { expiredAmount: bigintAttr(item.expiredAmount) } : {}),
    ...(typeof item.networkSettlementId === 'string' ? { networkSettlementId: item.networkSettlementId } : {}),
    ...(typeof item.networkRefundId === 'string' ? { networkRefundId: item.networkRefundId } : {}),
    ...(typeof item.refundOf === 'string' ? { refundOf: item.refundOf } : {}),
    windows: windows ? { daily: windows.daily!, monthly: windows.monthly!, lifetime: windows.lifetime ?? 'lifetime' } : null,
    ...(Array.isArray(item.incrementWindows) && item.incrementWindows.length > 0
      ? {
          incrementWindows: (item.incrementWindows as Array<Record<string, unknown>>).map((share) => ({
            periods: { daily: String(share.daily), monthly: String(share.monthly), lifetime: String(share.lifetime ?? 'lifetime') },
            amount: bigintAttr(share.amount),
          })),
        }
      : {}),
    merchant: {
      merchantId: String(merchant.merchantId ?? ''),
      merchantName: String(merchant.merchantName ?? ''),
      merchantCountry: String(merchant.merchantCountry ?? ''),
      merchantCity: String(merchant.merchantCity ?? ''),
      mcc: typeof merchant.mcc === 'string' ? merchant.mcc : null,
    },
    declineReason: (item.declineReason as DeclineReason | undefined) ?? null,
    networkAuthorizationId: typeof item.networkAuthorizationId === 'string' ? item.networkAuthorizationId : null,
    ...decisionFields(item),
    ...(item.escrowShard !== undefined ? { escrowShard: intAttr(item.escrowShard) } : {}),
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
    version: intAttr(item.version),
  };
}

/**
 * Operators only (`npm run admin -- index-transactions`, once after upgrading): gives the
 * transactions written by earlier releases the index entries they lack:
 * - the GSI2/GSI3 keys of the business and user lists, so `GET /v1/transactions` lists them;
 * - a hold still held with no expiry gets `hold_expires_at` from the day it was authorized
 *   (`expiresAt(mcc, createdAt)`) and its GSI4 entry, so the sweeper releases it (at once, if that
 *   is past).
 * A Scan, never on a request path. Each update is conditional: the list keys only where still
 * missing, the expiry only on the version that was read and while nothing set one (a capture,
 * reversal or increment racing it wins, and its own write decides), so a run is safe to repeat or
 * to overlap with traffic.
 */
export async function indexUnlistedTransactions(expiresAt: (mcc: string | null, from: Date) => string): Promise<{ scanned: number; indexed: number; expiring: number }> {
  const report = { scanned: 0, indexed: 0, expiring: 0 };
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db().send(
      new ScanCommand({
        TableName: tableName(),
        FilterExpression: 'entity = :entity AND (attribute_not_exists(GSI2PK) OR (#status = :authorized AND attribute_not_exists(holdExpiresAt)))',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':entity': 'card_transaction', ':authorized': 'Authorized' },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      report.scanned++;
      const txn = fromItem(item);
      if (item.GSI2PK === undefined) {
        const listed = await conditionalSet(txn.transactionId, {
          ...transactionKeys.businessListIndex(txn.businessId, txn.createdAt, txn.transactionId),
          ...(txn.userId ? transactionKeys.userListIndex(txn.userId, txn.createdAt, txn.transactionId) : {}),
        }, 'attribute_exists(PK) AND attribute_not_exists(GSI2PK)');
        if (listed) report.indexed++;
      }
      if (txn.status === 'Authorized' && txn.remainingHold > 0n && !txn.expiresAt) {
        const holdExpiresAt = expiresAt(txn.merchant.mcc, new Date(txn.createdAt));
        const expiring = await conditionalSet(
          txn.transactionId,
          { holdExpiresAt, ...holdExpiryKeys.index(txn.transactionId, holdExpiresAt) },
          'version = :version AND attribute_not_exists(holdExpiresAt)',
          { ':version': txn.version },
        );
        if (expiring) report.expiring++;
      }
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return report;
}

/** Sets `values` on a transaction if `condition` holds; false if it did not (someone else wrote first). */
async function conditionalSet(transactionId: string, values: Record<string, unknown>, condition: string, conditionValues: Record<string, unknown> = {}): Promise<boolean> {
  const names = Object.keys(values);
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: transactionKeys.transaction(transactionId),
        UpdateExpression: `SET ${names.map((name) => `${name} = :${name}`).join(', ')}`,
        ConditionExpression: condition,
        ExpressionAttributeValues: { ...Object.fromEntries(Object.entries(values).map(([name, value]) => [`:${name}`, value])), ...conditionValues },
      }),
    );
    return true;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return false;
  }
}

/** The decision fields of a stored transaction; records from before real-time decisions have none. */
function decisionFields(item: Record<string, unknown>): Pick<CardTransaction, 'decision' | 'approvedAmount' | 'partnerReason' | 'partnerMetadata'> {
  const decision = item.decision as Record<string, unknown> | undefined;
  const source = decision?.source;
  return {
    ...(decision && DECISION_SOURCES.includes(source as Decision['source'])
      ? {
          decision: {
            source: source as Decision['source'],
            latencyMs: intAttr(decision.latencyMs),
            ...(typeof decision.reason === 'string' ? { reason: decision.reason } : {}),
          },
        }
      : {}),
    ...(item.approvedAmount !== undefined ? { approvedAmount: bigintAttr(item.approvedAmount) } : {}),
    ...(typeof item.partnerReason === 'string' ? { partnerReason: item.partnerReason } : {}),
    ...(item.partnerMetadata && typeof item.partnerMetadata === 'object'
      ? { partnerMetadata: item.partnerMetadata as Record<string, unknown> }
      : {}),
  };
}
