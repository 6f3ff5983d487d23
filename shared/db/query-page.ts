/**
 * Newest-first list pages, the one way every list of API.md reads: `Limit` is one more than the
 * page so the last page ends with no dangling cursor, and with a FilterExpression (which DynamoDB
 * applies after `Limit`) it queries again until the page is full, the partition is exhausted or
 * `MAX_QUERIES_PER_PAGE` is reached. A very sparse filter may still return a short page (even an
 * empty one) with a cursor, which is correct: the next page goes on from there.
 */
import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { PageKey } from '../http/cursor.ts';
import { db, tableName } from './client.ts';

export interface Page<T> {
  items: T[];
  /** Where the next page starts; undefined on the last page. */
  lastKey?: PageKey;
}

const MAX_QUERIES_PER_PAGE = 4;

/** The key attributes of a page's last item, for a table query or a GSI1/GSI2/GSI3 query. */
export const TABLE_KEY = ['PK', 'SK'];
export const GSI1_KEY = ['PK', 'SK', 'GSI1PK', 'GSI1SK'];
export const GSI2_KEY = ['PK', 'SK', 'GSI2PK', 'GSI2SK'];
export const GSI3_KEY = ['PK', 'SK', 'GSI3PK', 'GSI3SK'];

export async function queryNewestFirst<T>(
  query: ShardQuery,
  keyAttributes: string[],
  fromItem: (item: Record<string, unknown>) => T,
  limit: number,
  startKey?: PageKey,
): Promise<Page<T>> {
  const { items, next } = await readNewestFirst(query, limit, startKey);
  if (items.length > limit) {
    const page = items.slice(0, limit);
    const last = page[page.length - 1]!;
    return { items: page.map(fromItem), lastKey: Object.fromEntries(keyAttributes.map((name) => [name, last[name]])) };
  }
  return { items: items.map(fromItem), ...(next ? { lastKey: next } : {}) };
}

type ShardQuery = Omit<QueryCommandInput, 'TableName' | 'ScanIndexForward' | 'Limit' | 'ExclusiveStartKey'>;

/**
 * The reads of one page, newest first: until one item more than the page is kept, the partition
 * ends, or `MAX_QUERIES_PER_PAGE` rounds; `next` is where DynamoDB stopped (none at the end).
 * `keep` drops items after the read (a sharded list's items at or above its cursor).
 */
async function readNewestFirst(
  query: ShardQuery,
  limit: number,
  startKey?: PageKey,
  keep: (item: Record<string, unknown>) => boolean = () => true,
): Promise<{ items: Record<string, unknown>[]; next?: PageKey }> {
  const items: Record<string, unknown>[] = [];
  let next = startKey;
  for (let round = 0; round < MAX_QUERIES_PER_PAGE; round++) {
    const result = await db().send(
      new QueryCommand({ ...query, TableName: tableName(), ScanIndexForward: false, Limit: limit + 1 - items.length, ExclusiveStartKey: next }),
    );
    items.push(...(result.Items ?? []).filter(keep));
    next = result.LastEvaluatedKey;
    if (!next || items.length > limit) break;
  }
  return { items, ...(next ? { next } : {}) };
}

/**
 * Every item under a partition prefix, strongly consistent: for the small collections read whole
 * (a user's balances, a user's wallet addresses). The loop only guards against the 1 MB page limit.
 */
export async function queryAllWithPrefix(prefix: { PK: string; SKPrefix: string }): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: PageKey | undefined;
  do {
    const result = await db().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': prefix.PK, ':prefix': prefix.SKPrefix },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(result.Items ?? []));
    startKey = result.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/**
 * A newest-first page of a write-sharded list (shared/db/keys.ts `LIST_SHARDS`): every shard is
 * read in parallel, like `queryNewestFirst`, and the pages merge by the sort key, which orders the
 * whole list (ids are UUID v7; a transaction's starts with its time). The cursor is one position in
 * that order, `{ before: <sort key> }`, and every shard's next read starts strictly below it: one
 * position carries every shard's. A shard whose reads stopped early (a sparse filter) bounds the
 * page: only what is at or above where it stopped is certain, the rest comes on the next page (a
 * short page with a cursor, as `queryNewestFirst` may give too).
 *
 * `query(partition, before)` builds one shard's Query; with `before`, its key condition must keep
 * the sort key at most `before` (`<` or `<=`: what equals it is dropped here). A cursor of the
 * unsharded list (the last item's keys) continues at that item's sort key.
 */
export async function queryShardsNewestFirst<T>(
  partitions: readonly string[],
  query: (partition: string, before: string | undefined) => ShardQuery,
  sortKey: string,
  fromItem: (item: Record<string, unknown>) => T,
  limit: number,
  startKey?: PageKey,
): Promise<Page<T>> {
  const position = startKey?.before ?? startKey?.[sortKey];
  const before = position === undefined ? undefined : String(position);
  const shards = await Promise.all(partitions.map((partition) => readShard(query(partition, before), sortKey, before, limit)));
  const stops = shards.flatMap((shard) => (shard.stoppedAt === undefined ? [] : [shard.stoppedAt]));
  const floor = stops.length > 0 ? stops.reduce((a, b) => (a > b ? a : b)) : undefined;
  const merged = shards
    .flatMap((shard) => shard.items)
    .filter((item) => floor === undefined || String(item[sortKey]) >= floor)
    .sort((a, b) => (String(a[sortKey]) < String(b[sortKey]) ? 1 : -1));
  if (merged.length > limit) {
    const page = merged.slice(0, limit);
    return { items: page.map(fromItem), lastKey: { before: String(page[page.length - 1]![sortKey]) } };
  }
  return { items: merged.map(fromItem), ...(floor === undefined ? {} : { lastKey: { before: floor } }) };
}

/** One shard's items below `before`, newest first; `stoppedAt`: where its reads stopped before its end. */
async function readShard(query: ShardQuery, sortKey: string, before: string | undefined, limit: number): Promise<{ items: Record<string, unknown>[]; stoppedAt?: string }> {
  const { items, next } = await readNewestFirst(query, limit, undefined, (item) => before === undefined || String(item[sortKey]) < before);
  return { items, ...(next ? { stoppedAt: String(next[sortKey]) } : {}) };
}

/** The key condition of one shard of a GSI1 business-wide list, below `before` when paging on. */
export function gsi1Shard(partition: string, before: string | undefined): Pick<QueryCommandInput, 'IndexName' | 'KeyConditionExpression' | 'ExpressionAttributeValues'> {
  return {
    IndexName: 'GSI1',
    KeyConditionExpression: before === undefined ? 'GSI1PK = :partition' : 'GSI1PK = :partition AND GSI1SK < :before',
    ExpressionAttributeValues: { ':partition': partition, ...(before === undefined ? {} : { ':before': before }) },
  };
}
