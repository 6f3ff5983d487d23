/**
 * Strongly consistent reads of many items by key (BatchGetItem, at most 100 keys a request), until
 * DynamoDB has processed every key: what it leaves unprocessed (throttling, the 16 MB cap) is asked
 * for again after a short, growing, jittered wait. A key still unprocessed after `MAX_ROUNDS` is a
 * retryable 503, never a silently missing item.
 */
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { ApiError } from '../errors.ts';
import { db, tableName } from './client.ts';
import type { ItemKey } from './keys.ts';

const KEYS_PER_REQUEST = 100;
const MAX_ROUNDS = 6;

/** The items at `keys`, in `keys` order (undefined where there is none). */
export async function getItemsConsistently(keys: readonly ItemKey[]): Promise<(Record<string, unknown> | undefined)[]> {
  const found = new Map<string, Record<string, unknown>>();
  // BatchGetItem refuses a request that names one key twice.
  const unique = [...new Map(keys.map((key) => [keyId(key), key])).values()];
  const chunks: ItemKey[][] = [];
  for (let start = 0; start < unique.length; start += KEYS_PER_REQUEST) chunks.push(unique.slice(start, start + KEYS_PER_REQUEST));
  await Promise.all(chunks.map((chunk) => readChunk(chunk, found)));
  return keys.map((key) => found.get(keyId(key)));
}

async function readChunk(keys: ItemKey[], found: Map<string, Record<string, unknown>>): Promise<void> {
  let pending: Record<string, unknown>[] = keys.map((key) => ({ PK: key.PK, SK: key.SK }));
  for (let round = 0; pending.length > 0; round++) {
    if (round > MAX_ROUNDS) throw new ApiError('service_unavailable');
    if (round > 0) await sleep(Math.random() * 10 * 2 ** round);
    const result = await db().send(new BatchGetCommand({ RequestItems: { [tableName()]: { Keys: pending, ConsistentRead: true } } }));
    for (const item of result.Responses?.[tableName()] ?? []) found.set(keyId(item as unknown as ItemKey), item);
    pending = result.UnprocessedKeys?.[tableName()]?.Keys ?? [];
  }
}

function keyId(key: ItemKey): string {
  return `${String(key.PK)}|${String(key.SK)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
