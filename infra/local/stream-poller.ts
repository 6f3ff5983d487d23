/**
 * The local DynamoDB-stream event source mapping: reads the table's stream through the DynamoDB
 * Streams API and invokes a consumer with Lambda-shaped `DynamoDBStreamEvent`s, shard by shard, in
 * order. Like the CDK stack's stream sources (infra/constructs/consumers.ts: retries without end,
 * no maximum record age) it never skips a failed record and never gives up on one: the position
 * only advances past records the consumer accepted (a thrown error retries the whole batch;
 * `batchItemFailures` retries from the first reported record), with a capped backoff between
 * tries, so the outbox's "every committed event is delivered" holds locally too.
 *
 * Positions are checkpointed (in memory, or in a file for a persistent stack), so a poller that is
 * stopped and started again (or a stack that is restarted) resumes where it left off.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
  type _Record,
  type AttributeValue as SdkAttributeValue,
  type DynamoDBStreamsClient,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { LambdaHandler } from './handler-loader.ts';
import { lambdaContext } from './lambda-context.ts';
import { createPoller, type PollControl, type Poller } from './poller.ts';

/** Shard id -> last sequence number the consumer accepted, or `SHARD_END` for a finished shard. */
export type StreamPositions = Record<string, string>;

export interface CheckpointStore {
  load(): Promise<StreamPositions>;
  save(positions: StreamPositions): Promise<void>;
}

const SHARD_END = 'SHARD_END';

export function memoryCheckpoints(): CheckpointStore {
  let saved: StreamPositions = {};
  return {
    load: async () => ({ ...saved }),
    save: async (positions) => {
      saved = { ...positions };
    },
  };
}

/** Positions in a JSON file, replaced atomically so a crash never leaves half a file. */
export function fileCheckpoints(path: string): CheckpointStore {
  return {
    async load() {
      try {
        return JSON.parse(await readFile(path, 'utf8')) as StreamPositions;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
        throw error;
      }
    },
    async save(positions) {
      await writeFile(`${path}.tmp`, JSON.stringify(positions));
      await rename(`${path}.tmp`, path);
    },
  };
}

export interface StreamPollerOptions {
  name: string;
  streams: DynamoDBStreamsClient;
  streamArn: string;
  /** Resolved at the first batch, so a consumer module is loaded after the stack's environment is set. */
  handler: () => Promise<LambdaHandler>;
  batchSize: number;
  /** Lambda event filtering: records it rejects are skipped (the position moves past them) without an invocation. */
  filter?: (record: _Record) => boolean;
  region: string;
  accountId: string;
  checkpoints: CheckpointStore;
  /** Pause between empty reads of a shard (Lambda polls each shard about four times a second). */
  idleDelayMs?: number;
  /** The longest pause between tries of a failing batch (the backoff doubles up to it); default 5 s. */
  maxRetryDelayMs?: number;
  onError: (message: string, error: unknown) => void;
}

export function createStreamPoller(options: StreamPollerOptions): Poller {
  const idleDelayMs = options.idleDelayMs ?? 250;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 5_000;
  let positions: StreamPositions | undefined;
  // Iterators are only a cache: any failure drops them and the next read starts from `positions`.
  const iterators = new Map<string, string>();
  let failures = 0;

  async function loop(control: PollControl): Promise<void> {
    positions ??= await options.checkpoints.load();
    const known = positions;
    const shards = await describeShards(options.streams, options.streamArn);
    const shardIds = new Set(shards.map((shard) => shard.ShardId));
    // A child shard is read only once its parent is finished, which keeps records of one item in order.
    const readable = shards.filter(
      (shard) => known[shard.ShardId as string] !== SHARD_END && (!shard.ParentShardId || !shardIds.has(shard.ParentShardId) || known[shard.ParentShardId] === SHARD_END),
    );

    // Read the current shards for a while before looking for new ones.
    const rediscoverAt = Date.now() + 10_000;
    while (!control.stopped && Date.now() < rediscoverAt) {
      let delivered = false;
      let shardClosed = false;
      for (const shard of readable) {
        if (control.stopped) break;
        const outcome = await readShard(shard.ShardId as string, known);
        delivered ||= outcome === 'delivered';
        shardClosed ||= outcome === 'closed';
        if (outcome === 'failed') {
          failures++;
          await control.sleep(Math.min(maxRetryDelayMs, 100 * 2 ** Math.min(failures, 6)));
        }
      }
      if (shardClosed) return;
      if (!delivered) await control.sleep(idleDelayMs);
    }
  }

  async function readShard(shardId: string, known: StreamPositions): Promise<'empty' | 'delivered' | 'failed' | 'closed'> {
    let iterator = iterators.get(shardId);
    if (!iterator) {
      iterator = await shardIterator(shardId, known[shardId]);
      if (!iterator) return markFinished(shardId, known);
    }
    let page;
    try {
      page = await options.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(options.batchSize, 1000) }));
    } catch (error) {
      iterators.delete(shardId);
      throw error;
    }
    const records = page.Records ?? [];
    if (records.length === 0) {
      if (!page.NextShardIterator) return markFinished(shardId, known);
      iterators.set(shardId, page.NextShardIterator);
      return 'empty';
    }

    const accepted = await deliver(records);
    if (accepted > 0) {
      known[shardId] = records[accepted - 1]?.dynamodb?.SequenceNumber as string;
      await options.checkpoints.save(known);
    }
    if (accepted < records.length) {
      iterators.delete(shardId);
      return 'failed';
    }
    failures = 0;
    if (!page.NextShardIterator) {
      await markFinished(shardId, known);
      return 'closed';
    }
    iterators.set(shardId, page.NextShardIterator);
    return 'delivered';
  }

  async function markFinished(shardId: string, known: StreamPositions): Promise<'closed'> {
    iterators.delete(shardId);
    known[shardId] = SHARD_END;
    await options.checkpoints.save(known);
    return 'closed';
  }

  async function shardIterator(shardId: string, after: string | undefined): Promise<string | undefined> {
    const request = { StreamArn: options.streamArn, ShardId: shardId };
    try {
      const result = await options.streams.send(
        new GetShardIteratorCommand(after ? { ...request, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after } : { ...request, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      return result.ShardIterator;
    } catch (error) {
      // The checkpoint fell off the stream's retention: everything still there is newer, start at the oldest.
      if (!(error instanceof TrimmedDataAccessException) || !after) throw error;
      return (await options.streams.send(new GetShardIteratorCommand({ ...request, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    }
  }

  /** Invokes the consumer with the records the filter lets through; returns how many leading records are done. */
  async function deliver(records: _Record[]): Promise<number> {
    const selected = options.filter ? records.filter(options.filter) : records;
    if (selected.length === 0) return records.length;
    const event: DynamoDBStreamEvent = { Records: selected.map((record) => lambdaRecord(record, options.streamArn, options.region)) };
    let failedAt: number;
    try {
      const handler = await options.handler();
      const result = (await handler(event, lambdaContext(options.name, 60_000, options.region, options.accountId))) as DynamoDBBatchResponse | undefined;
      const reported = result?.batchItemFailures;
      if (!reported || reported.length === 0) return records.length;
      // An identifier that names no record of the batch fails the whole batch, as in Lambda.
      const positions = reported.map((failure) => selected.findIndex((record) => record.dynamodb?.SequenceNumber === failure?.itemIdentifier));
      failedAt = positions.includes(-1) ? 0 : Math.min(...positions);
      options.onError(`${options.name}: consumer reported failed stream record(s); retrying from the first`, undefined);
    } catch (error) {
      options.onError(`${options.name}: batch of ${selected.length} stream record(s) failed; retrying`, error);
      failedAt = 0;
    }
    // Everything before the first failed record (filtered-out records included) is done.
    return records.indexOf(selected[failedAt] as _Record);
  }

  return createPoller(options.name, loop, (error) => options.onError(`${options.name}: reading the stream failed`, error));
}

async function describeShards(streams: DynamoDBStreamsClient, streamArn: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let exclusiveStartShardId: string | undefined;
  do {
    const page = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }));
    shards.push(...(page.StreamDescription?.Shards ?? []));
    exclusiveStartShardId = page.StreamDescription?.LastEvaluatedShardId;
  } while (exclusiveStartShardId);
  return shards;
}

/** A Streams API record as Lambda delivers it: epoch-second timestamps, base64 binaries, the stream ARN. */
export function lambdaRecord(record: _Record, streamArn: string, region: string): DynamoDBRecord {
  const stream = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb: {
      ApproximateCreationDateTime: stream.ApproximateCreationDateTime ? Math.floor(stream.ApproximateCreationDateTime.getTime() / 1000) : undefined,
      Keys: stream.Keys ? attributeMap(stream.Keys) : undefined,
      NewImage: stream.NewImage ? attributeMap(stream.NewImage) : undefined,
      OldImage: stream.OldImage ? attributeMap(stream.OldImage) : undefined,
      SequenceNumber: stream.SequenceNumber,
      SizeBytes: stream.SizeBytes,
      StreamViewType: stream.StreamViewType,
    },
    eventSourceARN: streamArn,
    ...(record.userIdentity ? { userIdentity: record.userIdentity } : {}),
  };
}

function attributeMap(map: Record<string, SdkAttributeValue>): Record<string, AttributeValue> {
  const result: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(map)) result[name] = attributeValue(value);
  return result;
}

function attributeValue(value: SdkAttributeValue): AttributeValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((item) => Buffer.from(item).toString('base64')) };
  if (value.M !== undefined) return { M: attributeMap(value.M) };
  if (value.L !== undefined) return { L: value.L.map(attributeValue) };
  return value as AttributeValue;
}
