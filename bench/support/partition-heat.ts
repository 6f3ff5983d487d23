/**
 * The pure accounting of the partition-heat model (bench/partition-heat.ts): what one write costs,
 * in write units, on which partition key of the table and of each global secondary index, and the
 * per-key totals per simulated second. Nothing here knows an entity's keys: the index partition
 * keys are read from the item images by the attribute names in `TABLE_SCHEMA`, so a change of
 * keys (write shards, say) shows up in the numbers without touching the model.
 *
 * Items are DynamoDB `AttributeValue` maps (marshalled), so their size follows DynamoDB's rules:
 * attribute name bytes + value bytes; a string its UTF-8 bytes, a number about one byte per two
 * significant digits plus one, binary its bytes, a boolean or null one byte, a list or map 3 bytes
 * plus one per element plus the elements, a set the sum of its elements.
 *
 * Costs (DynamoDB's published rules, as this model applies them):
 * - a write costs ceil(size / 1 KB) units, the size being the larger of the item before and after
 *   (Put over an existing item, Update), or the deleted item (Delete);
 * - inside `TransactWriteItems` every unit counts twice, and a `ConditionCheck` is charged like a
 *   write of the item it checks (table only: it changes nothing an index sees);
 * - an index whose partition key the item carries before or after the write is written too: a
 *   put when the key appears, a delete when it goes, both when it changes, an update (the larger
 *   image) when it stays (every index projects ALL attributes, so any change reaches it). The
 *   index entry is sized like the item. A transaction's index writes are NOT doubled
 *   (`TRANSACTION_DOUBLES_INDEX_WRITES`): DynamoDB doubles a transaction because it writes each
 *   item twice (prepare, then commit), and an index is propagated once, from the committed item.
 *   Set the flag to see the more pessimistic reading.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { TABLE_SCHEMA } from '../../shared/db/table-schema.ts';

export type StoredItem = Record<string, AttributeValue>;

export const TABLE = 'table';
export const WRITE_UNIT_BYTES = 1024;
export const TRANSACTION_DOUBLES_INDEX_WRITES = false;

/** One table write as the model sees it: the item before and after (absent: no item). */
export interface RecordedWrite {
  kind: 'put' | 'update' | 'delete' | 'check';
  before?: StoredItem;
  after?: StoredItem;
  transactional: boolean;
}

/** A cost on one partition key of the table or an index. */
export interface KeyCost {
  /** `table` or the index name (`GSI1`, ...). */
  index: string;
  key: string;
  units: number;
}

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Bytes of a number as DynamoDB stores it: ~1 byte per two significant digits, plus one. */
export function numberBytes(text: string): number {
  const digits = text.replace(/^[-+]/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

export function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return utf8Bytes(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, entry) => sum + utf8Bytes(entry), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, entry) => sum + numberBytes(entry), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, entry) => sum + entry.byteLength, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, entry) => sum + 1 + valueBytes(entry), 0);
  if (value.M !== undefined) return 3 + Object.entries(value.M).reduce((sum, [name, entry]) => sum + 1 + utf8Bytes(name) + valueBytes(entry), 0);
  return 0;
}

export function itemBytes(item: StoredItem | undefined): number {
  if (!item) return 0;
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8Bytes(name) + valueBytes(value), 0);
}

/** Write units of one write of `bytes` (at least one, even for an empty item). */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / WRITE_UNIT_BYTES));
}

/** The index partition keys an item carries, by index name (from `TABLE_SCHEMA`). */
export function indexKeys(item: StoredItem | undefined): Map<string, string> {
  const keys = new Map<string, string>();
  if (!item) return keys;
  for (const index of TABLE_SCHEMA.globalIndexes) {
    const value = item[index.partitionKey];
    const sortValue = item[index.sortKey];
    // An item is in an index only when it carries both of the index's key attributes.
    if (value?.S !== undefined && sortValue !== undefined) keys.set(index.indexName, value.S);
  }
  return keys;
}

/** Every key a write costs units on: the table's partition key and each index it reaches. */
export function costsOf(write: RecordedWrite): KeyCost[] {
  const image = write.after ?? write.before;
  const pk = image?.[TABLE_SCHEMA.partitionKey]?.S;
  if (pk === undefined) return [];
  const factor = write.transactional ? 2 : 1;
  const beforeBytes = itemBytes(write.before);
  const afterBytes = itemBytes(write.after);
  const costs: KeyCost[] = [{ index: TABLE, key: pk, units: factor * writeUnits(Math.max(beforeBytes, afterBytes)) }];
  if (write.kind === 'check') return costs;
  const indexFactor = write.transactional && TRANSACTION_DOUBLES_INDEX_WRITES ? 2 : 1;
  const before = indexKeys(write.before);
  const after = indexKeys(write.after);
  for (const index of TABLE_SCHEMA.globalIndexes) {
    const old = before.get(index.indexName);
    const now = after.get(index.indexName);
    if (old !== undefined && old === now) {
      costs.push({ index: index.indexName, key: now, units: indexFactor * writeUnits(Math.max(beforeBytes, afterBytes)) });
      continue;
    }
    if (old !== undefined) costs.push({ index: index.indexName, key: old, units: indexFactor * writeUnits(beforeBytes) });
    if (now !== undefined) costs.push({ index: index.indexName, key: now, units: indexFactor * writeUnits(afterBytes) });
  }
  return costs;
}

/** One partition key's heat: its busiest simulated second. */
export interface KeyHeat {
  key: string;
  index: string;
  /** Write units in the busiest simulated second. */
  wcuPerSecond: number;
  /** Which simulated second that was. */
  second: number;
  /** Writes (table or index) in that second. */
  writes: number;
}

/** Write units per partition key (table and each index) per simulated second. */
export class HeatRecorder {
  /** `<index>\u0000<key>` -> second -> [units, writes] */
  readonly #perKey = new Map<string, Map<number, [number, number]>>();
  #writes = 0;

  record(second: number, write: RecordedWrite): void {
    this.#writes++;
    for (const cost of costsOf(write)) {
      const id = `${cost.index}\u0000${cost.key}`;
      let seconds = this.#perKey.get(id);
      if (!seconds) this.#perKey.set(id, (seconds = new Map()));
      const cell = seconds.get(second) ?? [0, 0];
      cell[0] += cost.units;
      cell[1] += 1;
      seconds.set(second, cell);
    }
  }

  /** Table writes recorded (each item of a transaction counts once). */
  get writes(): number {
    return this.#writes;
  }

  /**
   * Per family of keys (the index and the key with its ids replaced by `family`): how many keys, and
   * the hottest one's busiest second. Shows that the per-card and per-user keys are written, and how warm.
   */
  families(family: (key: string) => string, seconds?: ReadonlySet<number>): { index: string; family: string; keys: number; maxWcuPerSecond: number }[] {
    const groups = new Map<string, { index: string; family: string; keys: number; maxWcuPerSecond: number }>();
    for (const heat of this.hottest(Number.POSITIVE_INFINITY, seconds)) {
      const name = family(heat.key);
      const id = `${heat.index}\u0000${name}`;
      const group = groups.get(id) ?? { index: heat.index, family: name, keys: 0, maxWcuPerSecond: 0 };
      group.keys++;
      group.maxWcuPerSecond = Math.max(group.maxWcuPerSecond, heat.wcuPerSecond);
      groups.set(id, group);
    }
    return [...groups.values()].sort((a, b) => b.maxWcuPerSecond - a.maxWcuPerSecond || a.family.localeCompare(b.family));
  }

  /** Each key's busiest second (among `seconds`, when given), hottest first. */
  hottest(limit: number, seconds?: ReadonlySet<number>): KeyHeat[] {
    const heats: KeyHeat[] = [];
    for (const [id, perSecond] of this.#perKey) {
      const [index, key] = id.split('\u0000') as [string, string];
      let best: KeyHeat | undefined;
      for (const [second, [units, writes]] of perSecond) {
        if (seconds && !seconds.has(second)) continue;
        if (!best || units > best.wcuPerSecond) best = { key, index, wcuPerSecond: units, second, writes };
      }
      if (best) heats.push(best);
    }
    heats.sort((a, b) => b.wcuPerSecond - a.wcuPerSecond || a.key.localeCompare(b.key));
    return heats.slice(0, limit);
  }
}
