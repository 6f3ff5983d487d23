/**
 * Write-sharded business-wide lists (shared/db/keys.ts `LIST_SHARDS`), read by
 * `queryShardsNewestFirst`: against a fake GSI with DynamoDB's Query semantics (newest first,
 * `Limit` counted before the filter, `LastEvaluatedKey`, the key condition's upper bound), paging
 * through any spread of items over the shards, with any filter and any page size, yields every
 * matching item exactly once, newest first, and ends.
 */
import { DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '../../../shared/config.ts';
import { eventKeys, holdExpiryKeys, LIST_SHARDS, listShardOf, listShards, shardOf, UNDELIVERED_SHARDS } from '../../../shared/db/keys.ts';
import { gsi1Shard, queryShardsNewestFirst } from '../../../shared/db/query-page.ts';
import { propertySeed } from '../../support/property-seed.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const LIST = 'BUSINESS#b-1#USERS';

interface Row {
  GSI1PK: string;
  GSI1SK: string;
  matches: boolean;
}

/** GSI1 as DynamoDB answers a Query on it; `matches` stands for the FilterExpression. */
function serve(rows: Row[], filtered: boolean) {
  ddb.on(QueryCommand).callsFake((input: QueryCommandInput) => {
    const values = input.ExpressionAttributeValues!;
    const start = input.ExclusiveStartKey?.GSI1SK as string | undefined;
    const inPartition = rows
      .filter((row) => row.GSI1PK === values[':partition'])
      .filter((row) => values[':before'] === undefined || row.GSI1SK < (values[':before'] as string))
      .sort((a, b) => (a.GSI1SK < b.GSI1SK ? 1 : -1))
      .filter((row) => start === undefined || row.GSI1SK < start);
    const evaluated = inPartition.slice(0, input.Limit);
    const last = evaluated.at(-1);
    return {
      Items: evaluated.filter((row) => !filtered || row.matches),
      ...(evaluated.length === input.Limit && inPartition.length > evaluated.length && last ? { LastEvaluatedKey: { PK: 'x', SK: 'y', GSI1PK: last.GSI1PK, GSI1SK: last.GSI1SK } } : {}),
    };
  });
}

const id = (n: number) => `0195c0de-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

beforeEach(() => ddb.reset());

describe('a write-sharded list', () => {
  it('puts each item in the shard of its id, shard 0 being the partition without a suffix', () => {
    expect(listShards(LIST)).toHaveLength(LIST_SHARDS);
    expect(listShards(LIST)[0]).toBe(LIST);
    expect(listShardOf(LIST, id(0x20))).toBe(LIST);
    expect(listShardOf(LIST, id(0x13))).toBe(`${LIST}#19`);
    expect(listShardOf(LIST, id(0xe3))).toBe(`${LIST}#3`);
  });

  it("writes over release 2's 16 shards while writing its format, where a release-2 function finds them", () => {
    process.env.WRITE_FORMAT = 'release2';
    resetConfigForTests();
    try {
      for (let n = 0; n < 256; n++) {
        expect(listShardOf(LIST, id(n))).toBe(n % 16 === 0 ? LIST : `${LIST}#${n % 16}`);
        expect(holdExpiryKeys.index(id(n), 't').GSI4PK).toBe(`HOLD_EXPIRY#${n % 16}`);
        expect(eventKeys.undeliveredIndex(id(n), 't').GSI3PK).toBe(`UNDELIVERED#${n % 16}`);
      }
    } finally {
      delete process.env.WRITE_FORMAT;
      resetConfigForTests();
    }
    expect(eventKeys.undeliveredIndex(id(0xff), 't').GSI3PK).toBe(`UNDELIVERED#${0xff % UNDELIVERED_SHARDS}`);
  });

  it('shards by the last two hex digits: modulo 16 that is the last digit alone, as release 2 sharded', () => {
    for (let n = 0; n < 256; n++) {
      expect(shardOf(id(n), 16)).toBe(n % 16);
      expect(shardOf(id(n), LIST_SHARDS)).toBe(n % LIST_SHARDS);
    }
  });

  it('pages through every matching item once, newest first, whatever the spread, filter and page size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: 50_000 }), { maxLength: 160, size: 'max' }),
        fc.infiniteStream(fc.integer({ min: 0, max: 9 })),
        // How many in ten match the filter: a sparse filter makes shards stop before a page is full.
        fc.constantFrom(10, 5, 1),
        fc.integer({ min: 1, max: 12 }),
        fc.boolean(),
        async (numbers, draws, density, limit, legacy) => {
          const filtered = density < 10;
          ddb.reset();
          // `legacy`: items written before sharding, all in shard 0, mixed with the new ones.
          const rows = numbers.map((n, i) => ({ GSI1PK: legacy && i % 3 === 0 ? LIST : listShardOf(LIST, id(n)), GSI1SK: id(n), matches: draws.next().value < density }));
          serve(rows, filtered);
          const seen: string[] = [];
          let startKey: Record<string, unknown> | undefined;
          for (let page = 0; ; page++) {
            expect(page, 'pages never end').toBeLessThan(numbers.length + 2);
            const result = await queryShardsNewestFirst(listShards(LIST), gsi1Shard, 'GSI1SK', (item) => String(item.GSI1SK), limit, startKey);
            expect(result.items.length).toBeLessThanOrEqual(limit);
            seen.push(...result.items);
            expect(seen.length, 'no item twice').toBeLessThanOrEqual(numbers.length);
            if (!result.lastKey) break;
            startKey = JSON.parse(JSON.stringify(result.lastKey)); // as a cursor carries it
          }
          const expected = rows.filter((row) => !filtered || row.matches).map((row) => row.GSI1SK).sort().reverse();
          expect(seen).toEqual(expected);
        },
      ),
      { seed: propertySeed, numRuns: 40 },
    );
  }, 60_000);

  it('goes on from a cursor of the list before it was sharded (the last item\'s keys)', async () => {
    const rows = [1, 2, 3, 4].map((n) => ({ GSI1PK: LIST, GSI1SK: id(n), matches: true }));
    serve(rows, false);
    const next = await queryShardsNewestFirst(listShards(LIST), gsi1Shard, 'GSI1SK', (item) => String(item.GSI1SK), 10, { PK: 'USER#x', SK: 'PROFILE', GSI1PK: LIST, GSI1SK: id(3) });
    expect(next.items).toEqual([id(2), id(1)]);
  });
});
