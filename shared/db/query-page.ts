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
  query: Omit<QueryCommandInput, 'TableName' | 'ScanIndexForward' | 'Limit' | 'ExclusiveStartKey'>,
  keyAttributes: string[],
  fromItem: (item: Record<string, unknown>) => T,
  limit: number,
  startKey?: PageKey,
): Promise<Page<T>> {
  const items: Record<string, unknown>[] = [];
  let next = startKey;
  for (let round = 0; round < MAX_QUERIES_PER_PAGE; round++) {
    const result = await db().send(
      new QueryCommand({ ...query, TableName: tableName(), ScanIndexForward: false, Limit: limit + 1 - items.length, ExclusiveStartKey: next }),
    );
    items.push(...(result.Items ?? []));
    next = result.LastEvaluatedKey;
    if (items.length > limit) {
      const page = items.slice(0, limit);
      const last = page[page.length - 1]!;
      return { items: page.map(fromItem), lastKey: Object.fromEntries(keyAttributes.map((name) => [name, last[name]])) };
    }
    if (!next) return { items: items.map(fromItem) };
  }
  return { items: items.map(fromItem), lastKey: next };
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
