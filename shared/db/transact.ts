/**
 * One `TransactWriteItems` with the retry policy of ARCHITECTURE.md, and the one way to learn
 * which of its conditions failed: tagged items in, failed tags out.
 *
 * A repository adds each item with the tag of what its failed condition would mean
 * (`tx.add(holdItem(...), 'insufficient_balance')`), commits, and maps the failed tags to its typed
 * outcome or error. Nobody counts positions: the tags travel with the items, so adding or
 * reordering an item cannot make a cancellation mean something else.
 *
 * - A `TransactionConflict` (another transaction touched the same item) or a throttled item is
 *   retried with full-jitter exponential backoff, then answered with a retryable 503.
 * - A failed condition is not retried: `commit` returns `{ committed: false, failed }`, the set of
 *   the tags whose items failed their condition.
 * - An UNTAGGED item states a condition that must never fail (a Put of a fresh id, a balance move
 *   whose amount the caller already holds): its failure is a broken invariant, never an outcome,
 *   so `commit` throws an `UntaggedConditionFailed` naming the item's index and key, whatever
 *   else failed. An item whose failure means something must carry a tag.
 * - Any other cancellation (a validation error, say) is rethrown untouched.
 *
 * Every attempt carries a `ClientRequestToken`: when a commit succeeds but its response is lost (a
 * timeout, a reset connection), the SDK sends the same request again, and DynamoDB answers the
 * repeat with the first outcome instead of running it again, whose conditions would now fail and
 * turn a success into a bogus refusal. A new attempt of our own loop after a cancellation gets a
 * new token (the SDK's internal retries of one attempt reuse that attempt's token).
 *
 * A second guard for the same case: an untagged Put of a fresh id (a ledger posting, an outbox
 * event, a new transaction record: `attribute_not_exists(PK)` on an id this attempt generated)
 * that finds its item already there can only be this very transaction, committed
 * by an earlier send whose answer was lost. The cancellation (whatever else the first commit
 * changed) then reads as `committed`, never as a refusal or a broken invariant. (The money model
 * found repeats that DynamoDB Local ran again under injected faults instead of answering from the
 * token.)
 */
import { randomUUID } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { ApiError } from '../errors.ts';
import { db } from './client.ts';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** An item of a transaction, and what its failed condition means (none: it must never fail). */
export interface TaggedItem<Tag extends string> {
  item: TransactItem;
  tag?: Tag;
}

export type TransactionResult<Tag extends string> = { committed: true } | { committed: false; failed: ReadonlySet<Tag> };

export interface CommitOptions {
  /** Attempts (conflicts and throttling) before giving up with a 503. */
  maxAttempts?: number;
  /** Told each item's cancellation code (undefined: none) before a conflict or throttling is retried. */
  onRetry?: (codes: readonly (string | undefined)[]) => void;
}

/** An untagged item failed its condition: a broken invariant, not a refusal. */
export class UntaggedConditionFailed extends Error {
  constructor(
    readonly index: number,
    item: TransactItem,
  ) {
    super(`Transaction item ${index} (${describe(item)}) failed its condition, which must never fail; tag it if its failure means something`);
    this.name = 'UntaggedConditionFailed';
  }
}

/** A transaction being built: `add` its items in order, then `commit` once. */
export class Transaction<Tag extends string> {
  readonly #entries: TaggedItem<Tag>[] = [];

  /** Appends `item`; `tag` says what its failed condition means (omit it if it must never fail). */
  add(item: TransactItem, tag?: Tag): this {
    this.#entries.push(tag === undefined ? { item } : { item, tag });
    return this;
  }

  /** Appends each entry in order. */
  addAll(entries: Iterable<TaggedItem<Tag>>): this {
    for (const entry of entries) this.add(entry.item, entry.tag);
    return this;
  }

  get entries(): readonly TaggedItem<Tag>[] {
    return this.#entries;
  }

  commit(options: CommitOptions = {}): Promise<TransactionResult<Tag>> {
    return transactWrite(this.#entries, options);
  }
}

/** A new, empty transaction whose items may carry the tags `Tag`. */
export function transaction<Tag extends string = never>(): Transaction<Tag> {
  return new Transaction<Tag>();
}

const BASE_DELAY_MS = 10;
const MAX_DELAY_MS = 200;

/**
 * Commits `entries` as one `TransactWriteItems` (see the module comment for retries, tokens and
 * untagged items). Resolves `{ committed: false, failed }` when tagged conditions failed.
 */
export async function transactWrite<Tag extends string = never>(
  entries: readonly TaggedItem<Tag>[],
  options: CommitOptions = {},
): Promise<TransactionResult<Tag>> {
  const maxAttempts = options.maxAttempts ?? 6;
  const items = entries.map((entry) => entry.item);
  for (let attempt = 1; ; attempt++) {
    try {
      await db().send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: randomUUID() }));
      return { committed: true };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      if (reasons.some((r) => r.Code === 'ConditionalCheckFailed')) {
        const ownEarlierCommit = reasons.some(
          (reason, index) => reason.Code === 'ConditionalCheckFailed' && entries[index]?.tag === undefined && isFreshPut(items[index]),
        );
        if (ownEarlierCommit) return { committed: true };
        const failed = new Set<Tag>();
        reasons.forEach((reason, index) => {
          if (reason.Code !== 'ConditionalCheckFailed') return;
          const entry = entries[index];
          if (entry?.tag === undefined) throw new UntaggedConditionFailed(index, entry?.item ?? {});
          failed.add(entry.tag);
        });
        return { committed: false, failed };
      }
      const retryable = reasons.some((r) => r.Code === 'TransactionConflict' || r.Code === 'ThrottlingError');
      if (!retryable) throw error;
      options.onRetry?.(reasons.map((reason) => reason.Code));
      if (attempt >= maxAttempts) throw new ApiError('service_unavailable');
      await sleep(Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt));
    }
  }
}

/** A Put that may only create its item (`attribute_not_exists(PK)`). */
function isFreshPut(item: TransactItem | undefined): boolean {
  return item?.Put !== undefined && /^attribute_not_exists\(PK\)$/.test((item.Put.ConditionExpression ?? '').trim());
}

/** "Put on a USER# item": which kind of item, never its ids, hashes or attribute values (this ends up in logs). */
function describe(item: TransactItem): string {
  const [operation, body] = Object.entries(item).find(([, value]) => value !== undefined) ?? ['unknown', undefined];
  const fields = (body ?? {}) as { Key?: Record<string, unknown>; Item?: Record<string, unknown> };
  const pk = (fields.Key ?? fields.Item)?.PK;
  return typeof pk === 'string' ? `${operation} on a ${pk.split('#')[0]}# item` : operation;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
