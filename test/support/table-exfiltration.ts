/**
 * What someone who copied the table and read its stream holds: every string of every item and of
 * every stream record's new image. Used by the attacker spec and by the integration run's final
 * sweep (test/support/local-stack-setup.ts).
 */
import { DescribeTableCommand, DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { unmarshall } from '@aws-sdk/util-dynamodb';

export interface Exfiltrated {
  items: Record<string, unknown>[];
  streamImages: Record<string, unknown>[];
  /** Every string (and number, as text) of both. */
  strings: string[];
}

/** Scans the table and reads every shard of its stream from the start, with the emulator's endpoint from the environment. */
export async function exfiltrate(tableName: string): Promise<Exfiltrated> {
  const tables = new DynamoDBClient({});
  const streams = new DynamoDBStreamsClient({});
  try {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await tables.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey }));
      items.push(...(page.Items ?? []).map((item) => unmarshall(item, { wrapNumbers: true })));
      startKey = page.LastEvaluatedKey;
    } while (startKey);

    const table = await tables.send(new DescribeTableCommand({ TableName: tableName }));
    const streamArn = table.Table?.LatestStreamArn;
    const streamImages: Record<string, unknown>[] = [];
    if (streamArn) {
      const shards = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription?.Shards ?? [];
      for (const shard of shards) {
        let iterator = (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
        // An open shard always hands back a next iterator: stop at the first empty page.
        for (let page = 0; iterator && page < 10_000; page++) {
          const records = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
          for (const record of records.Records ?? []) {
            if (record.dynamodb?.NewImage) streamImages.push(unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>, { wrapNumbers: true }));
          }
          if ((records.Records ?? []).length === 0) break;
          iterator = records.NextShardIterator;
        }
      }
    }
    return { items, streamImages, strings: [...items, ...streamImages].flatMap((value) => stringsIn(value)) };
  } finally {
    tables.destroy();
    streams.destroy();
  }
}

/** Every string in a value, numbers (wrapped or not) as their text. */
export function stringsIn(value: unknown, into: string[] = [], options: { numbers: boolean } = { numbers: true }): string[] {
  if (typeof value === 'string') into.push(value);
  else if (typeof value === 'number' || typeof value === 'bigint') {
    if (options.numbers) into.push(String(value));
  } else if (value instanceof Uint8Array) into.push(Buffer.from(value).toString('latin1'));
  else if (Array.isArray(value) || value instanceof Set) for (const v of value) stringsIn(v, into, options);
  else if (value && typeof value === 'object') {
    if ('value' in value && Object.keys(value).length === 1) {
      if (options.numbers) into.push(String((value as { value: unknown }).value));
    } else for (const v of Object.values(value)) stringsIn(v, into, options);
  }
  return into;
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return sum % 10 === 0;
}

/** A hex token of 32 digits or more (a chain transaction hash, a digest), with or without `0x`. */
const HEX_TOKEN = /(?<![0-9A-Za-z])(?:0x)?[0-9a-fA-F]{32,}(?![0-9A-Za-z])/g;

/**
 * Card-number-shaped runs: a whole run of 13-19 digits (not part of a longer run, nor the fraction
 * of a decimal such as an 18-digit ETH amount, nor inside a hex token such as a deposit's random
 * `tx_hash`, where about one in two hundred holds a Luhn-valid run by chance), Luhn-valid, and not
 * a millisecond time of the last week (13 digits: the only long digit runs the platform stores).
 */
export function cardNumberShapedRuns(strings: readonly string[]): string[] {
  const recent = (run: string) => run.length === 13 && Math.abs(Number(run) - Date.now()) < 7 * 24 * 3600 * 1000;
  return strings
    .flatMap((value) => value.replace(HEX_TOKEN, ' ').match(/(?<![\d.])\d{13,19}(?!\d)/g) ?? [])
    .filter((run) => luhnValid(run) && !recent(run));
}

/**
 * `text` with what is random by design masked: UUIDs, RFC 3339 times, and base64 or hex runs of
 * 40 characters or more (ciphertexts, keyed hashes). A short secret searched as a substring (a
 * surname, six digits of a card number) turns up inside those by chance now and then; a secret
 * stored in the clear is never one of them, so masking them keeps the search meaningful.
 */
export function withoutRandomTokens(text: string): string {
  return text
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>')
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '<time>')
    .replace(/[A-Za-z0-9+/_-]{40,}={0,2}/g, '<blob>');
}
