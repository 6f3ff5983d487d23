/**
 * The partition-heat model's accounting (bench/support/partition-heat.ts) and the in-memory
 * table's update evaluation (bench/support/memory-table.ts): the bench's numbers are only as good
 * as these.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { applyUpdate, MemoryTable } from '../../../bench/support/memory-table.ts';
import { costsOf, HeatRecorder, indexKeys, itemBytes, numberBytes, TRANSACTION_DOUBLES_INDEX_WRITES, writeUnits, type StoredItem } from '../../../bench/support/partition-heat.ts';

const item = (fields: Record<string, unknown>) => marshall(fields, { removeUndefinedValues: true }) as StoredItem;

/** An item of about `bytes` bytes: PK, SK and one padding string. */
function sized(pk: string, bytes: number, extra: Record<string, unknown> = {}): StoredItem {
  const base = itemBytes(item({ PK: pk, SK: 'X', pad: '', ...extra }));
  return item({ PK: pk, SK: 'X', pad: 'p'.repeat(bytes - base), ...extra });
}

describe('item size', () => {
  it('counts attribute names and values by DynamoDB rules', () => {
    expect(itemBytes(item({ PK: 'ab', SK: 'c' }))).toBe(2 + 2 + 2 + 1);
    expect(numberBytes('12345')).toBe(4); // 5 significant digits: 3 bytes + 1
    expect(numberBytes('-1000')).toBe(2); // trailing zeroes trimmed
    expect(itemBytes(item({ n: 7, b: true, l: ['ab'], m: { x: 'y' } }))).toBe(1 + 2 + (1 + 1) + (1 + 3 + 1 + 2) + (1 + 3 + 1 + 1 + 1));
  });

  it('charges one unit per started KB, at least one', () => {
    expect(writeUnits(0)).toBe(1);
    expect(writeUnits(1024)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
  });
});

describe('costs of a write', () => {
  it('doubles a transaction and charges the larger image', () => {
    const before = sized('A', 900);
    const after = sized('A', 1500);
    expect(costsOf({ kind: 'update', before, after, transactional: false })).toEqual([{ index: 'table', key: 'A', units: 2 }]);
    expect(costsOf({ kind: 'update', before, after, transactional: true })).toEqual([{ index: 'table', key: 'A', units: 4 }]);
    expect(costsOf({ kind: 'delete', before: after, transactional: false })).toEqual([{ index: 'table', key: 'A', units: 2 }]);
  });

  it('reads index keys from the item by the schema, needing both key attributes', () => {
    expect(indexKeys(item({ PK: 'A', SK: 'B', GSI1PK: 'L', GSI1SK: '1', GSI2PK: 'only-pk' }))).toEqual(new Map([['GSI1', 'L']]));
  });

  it('writes an index when its key appears, goes, changes or stays', () => {
    const withKey = (gsi4: string | undefined) => sized('T', 500, gsi4 ? { GSI4PK: gsi4, GSI4SK: 's' } : {});
    const index = (write: Parameters<typeof costsOf>[0]) => costsOf(write).filter((cost) => cost.index !== 'table');
    expect(index({ kind: 'put', after: withKey('H#1'), transactional: false })).toEqual([{ index: 'GSI4', key: 'H#1', units: 1 }]);
    expect(index({ kind: 'update', before: withKey('H#1'), after: withKey(undefined), transactional: false })).toEqual([{ index: 'GSI4', key: 'H#1', units: 1 }]);
    // A transaction doubles its table writes only: the index sees the committed item once.
    expect(index({ kind: 'update', before: withKey('H#1'), after: withKey('H#2'), transactional: true })).toEqual([
      { index: 'GSI4', key: 'H#1', units: TRANSACTION_DOUBLES_INDEX_WRITES ? 2 : 1 },
      { index: 'GSI4', key: 'H#2', units: TRANSACTION_DOUBLES_INDEX_WRITES ? 2 : 1 },
    ]);
    expect(index({ kind: 'update', before: withKey('H#1'), after: withKey('H#1'), transactional: false })).toEqual([{ index: 'GSI4', key: 'H#1', units: 1 }]);
  });

  it('charges a condition check on the table only', () => {
    const checked = sized('C', 100, { GSI1PK: 'L', GSI1SK: '1' });
    expect(costsOf({ kind: 'check', before: checked, after: checked, transactional: true })).toEqual([{ index: 'table', key: 'C', units: 2 }]);
  });
});

describe('per-second aggregation', () => {
  it('keeps the busiest second of each key, hottest first, within the seconds asked', () => {
    const recorder = new HeatRecorder();
    const put = (pk: string) => ({ kind: 'put' as const, after: item({ PK: pk, SK: 'x' }), transactional: true });
    for (let i = 0; i < 3; i++) recorder.record(0, put('HOT'));
    for (let i = 0; i < 5; i++) recorder.record(1, put('HOT'));
    recorder.record(1, put('COLD'));
    expect(recorder.hottest(10)).toEqual([
      { key: 'HOT', index: 'table', wcuPerSecond: 10, second: 1, writes: 5 },
      { key: 'COLD', index: 'table', wcuPerSecond: 2, second: 1, writes: 1 },
    ]);
    expect(recorder.hottest(1, new Set([0]))).toEqual([{ key: 'HOT', index: 'table', wcuPerSecond: 6, second: 0, writes: 3 }]);
    expect(recorder.writes).toBe(9);
  });

  it('groups keys into families by the name a key maps to', () => {
    const recorder = new HeatRecorder();
    const put = (pk: string) => ({ kind: 'put' as const, after: item({ PK: pk, SK: 'x' }), transactional: false });
    recorder.record(0, put('CARD#1'));
    recorder.record(0, put('CARD#1'));
    recorder.record(0, put('CARD#2'));
    recorder.record(0, put('BIZ'));
    expect(recorder.families((key) => key.replace(/#\d+$/, '#<id>'))).toEqual([
      { index: 'table', family: 'CARD#<id>', keys: 2, maxWcuPerSecond: 2 },
      { index: 'table', family: 'BIZ', keys: 1, maxWcuPerSecond: 1 },
    ]);
  });
});

describe('the in-memory table', () => {
  it('applies SET, ADD, REMOVE and if_not_exists as DynamoDB would', () => {
    const before = item({ PK: 'A', SK: 'B', available: 10, GSI4PK: 'H', GSI4SK: 's', status: 'Authorized' });
    const after = applyUpdate(
      before,
      'SET #status = :status, since = if_not_exists(since, :now) ADD available :minus, pending :plus REMOVE GSI4PK, GSI4SK',
      { '#status': 'status' },
      item({ ':status': 'Settled', ':now': 't', ':minus': -3, ':plus': 3 }),
    );
    expect(after).toEqual(item({ PK: 'A', SK: 'B', available: 7, pending: 3, status: 'Settled', since: 't' }));
    expect(before.GSI4PK).toBeDefined();
  });

  it('records every item of a transaction with its images, computed before any is applied', async () => {
    const writes: unknown[] = [];
    const table = new MemoryTable((write) => writes.push(write));
    table.seed([item({ PK: 'BAL', SK: 'B', available: 5 })]);
    const command = (name: string, input: Record<string, unknown>) => ({ constructor: { name }, input });
    await table.send(
      command('TransactWriteCommand', {
        TransactItems: [
          { Update: { Key: { PK: 'BAL', SK: 'B' }, UpdateExpression: 'ADD available :a', ExpressionAttributeValues: { ':a': -2 } } },
          { Put: { Item: { PK: 'TXN', SK: 'T', GSI1PK: 'L', GSI1SK: '1' }, ConditionExpression: 'attribute_not_exists(PK)' } },
          { ConditionCheck: { Key: { PK: 'CARD', SK: 'C' }, ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': 1 } } },
        ],
      }),
    );
    expect(writes).toHaveLength(3);
    expect(writes[0]).toMatchObject({ kind: 'update', transactional: true, before: item({ PK: 'BAL', SK: 'B', available: 5 }), after: item({ PK: 'BAL', SK: 'B', available: 3 }) });
    expect(writes[1]).toMatchObject({ kind: 'put', before: undefined });
    expect(writes[2]).toMatchObject({ kind: 'check' });
    const read = await table.send(command('GetCommand', { Key: { PK: 'BAL', SK: 'B' } }));
    expect(String((read.Item as { available: unknown }).available)).toBe('3');
  });

  it('synthesizes a partition once, on first touch', async () => {
    let calls = 0;
    const table = new MemoryTable(undefined, (pk) => (calls++, pk === 'CARD#v' ? [item({ PK: 'CARD#v', SK: 'CARD', status: 'Active' })] : []));
    const query = await table.send({ constructor: { name: 'QueryCommand' }, input: { KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': 'CARD#v' } } });
    expect(query.Count).toBe(1);
    await table.send({ constructor: { name: 'GetCommand' }, input: { Key: { PK: 'CARD#v', SK: 'CARD' } } });
    expect(calls).toBe(1);
  });
});
