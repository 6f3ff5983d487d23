/**
 * The local stack: real emulators of the AWS services (DynamoDB Local, an SQS server), the table
 * and queues the CDK stack would create, the sandbox business, and the glue the Lambda service and
 * API Gateway and EventBridge provide in AWS (the HTTP adapter, stream and queue pollers, schedule
 * timers), all driven by the same route table. `npm start` and the integration tests' global setup both call `startLocalStack`.
 *
 * The handlers run in this process, so the stack sets this process's environment (the same
 * variables the CDK stack sets on each function) before any handler is loaded: one stack per
 * process.
 */
// The local stack runs every handler in this process: the envelope encryption engine (shared/crypto/envelope.ts).
import '../../shared/crypto/envelope-engine.ts';
import { createServer, type Server } from 'node:http';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, type _Record } from '@aws-sdk/client-dynamodb-streams';
import { SQSClient } from '@aws-sdk/client-sqs';
import { authorizers, consumers, queues, routesForStage, schedules, type ConsumerRow, type ScheduleRow } from '../../shared/routes.ts';
import { resetConfigForTests } from '../../shared/config.ts';
import { resetKeyMaterialForTests } from '../../shared/crypto/key-material.ts';
import { resetDbForTests } from '../../shared/db/client.ts';
import { ensureQueues, ensureStandaloneQueue, ensureTable, type QueueDefinition, type QueueResources } from './create-resources.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.ts';
import { HandlerLoader, type HandlerRef } from './handler-loader.ts';
import { createHttpAdapter } from './http-adapter.ts';
import { ensureKeyFile } from './key-file.ts';
import type { Poller } from './poller.ts';
import { createQueuePoller } from './queue-poller.ts';
import { createSchedulePoller } from './schedule-poller.ts';
import { sandboxCredentials, type SandboxCredentials } from './sandbox-credentials.ts';
import { startSqsServer, type SqsServer } from './sqs-server.ts';
import { createStreamPoller, fileCheckpoints, memoryCheckpoints } from './stream-poller.ts';

/** A consumer that is not in the route table (tests register these). */
export interface ExtraConsumer {
  /** Unique; names the poller in `stack.pollers.byName`. */
  name: string;
  handler: HandlerRef;
  source: ConsumerRow['source'] | { kind: 'queue'; queue: string };
  batchSize: number;
  access?: ConsumerRow['access'];
  /** Stream consumers: the longest pause between tries of a failing batch (default 5 s). */
  maxRetryDelayMs?: number;
}

export interface LocalStackOptions {
  /** Keep nothing: DynamoDB Local in memory, keys and credentials in a temporary directory. */
  inMemory: boolean;
  /** API port; `0` lets the OS choose. Default 3000. */
  port?: number;
  /** Where a persistent stack keeps its data; default `.local/` at the repository root. */
  dataDir?: string;
  /** The sandbox business's webhook URL (set at every start). */
  webhookUrl?: string;
  /** No progress lines, and handlers log errors only. */
  quiet?: boolean;
  /** How long the API Gateway stand-in caches an authorizer's verdict per key; default 60 s. */
  authorizerCacheTtlMs?: number;
  /** Tests: consumers beyond the route table's, and queues for them. */
  extraConsumers?: ExtraConsumer[];
  extraQueues?: QueueDefinition[];
  /** Tests: run every scheduled function this often instead of its row's `everyMinutes`. */
  scheduleIntervalMs?: number;
  /** Where the stack's own warnings go (failed batches, crashed handlers); default stderr unless quiet. */
  onError?: (message: string, error: unknown) => void;
}

export interface PollerGroup {
  readonly members: readonly Poller[];
  start(): void;
  stop(): Promise<void>;
}

export interface LocalStack {
  apiBase: string;
  port: number;
  credentials: SandboxCredentials;
  endpoints: { dynamodb: string; sqs: string };
  region: string;
  tableName: string;
  streamArn: string;
  keyFile: string;
  dataDir: string;
  queues: Record<string, QueueResources>;
  /**
   * The stream consumers' dead-letter queue, as the CDK stack has it. The local stream poller
   * never gives up on a record, so nothing lands here; it exists so the operator's commands work
   * alike on both stacks.
   */
  streamDeadLetterQueue: { url: string; arn: string };
  /** The SQS emulator's outage switch (fault-injection tests): its queues and messages survive it. */
  sqsServer: Pick<SqsServer, 'pause' | 'resume'>;
  /** The environment handlers run with; another process can set it to act on this stack's data. */
  env: Record<string, string>;
  /**
   * The emulated event source mappings and schedules, each stoppable on its own (e.g. "stop the
   * dispatcher"), by handler module (or a test consumer's name).
   */
  pollers: { stream: PollerGroup; queue: PollerGroup; schedule: PollerGroup; byName: Record<string, Poller> };
  /** Forget cached authorizer results (as after an API key rotation plus the cache TTL). */
  flushAuthorizerCache(): void;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';
const ACCOUNT_ID = '000000000000';
const TABLE_NAME = 'card-platform-local';
const STREAM_DLQ_NAME = 'stream-dlq';
const FAKE_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const say = options.quiet ? () => {} : (line: string) => process.stdout.write(`${line}\n`);
  const onError = options.onError ?? (options.quiet ? () => {} : reportError);
  const cleanup: (() => Promise<void>)[] = [];
  const runCleanup = async () => {
    for (const step of cleanup.reverse()) await step().catch((error: unknown) => onError('stopping the local stack', error));
  };

  try {
    const dataDir = options.inMemory ? await mkdtemp(join(tmpdir(), 'card-platform-local-')) : (options.dataDir ?? join(REPO_ROOT, '.local'));
    if (options.inMemory) {
      // Also on an unplanned exit: "in memory" must not leave keys or credentials on disk.
      const removeOnExit = () => rmSync(dataDir, { recursive: true, force: true });
      process.on('exit', removeOnExit);
      cleanup.push(async () => {
        process.off('exit', removeOnExit);
        await rm(dataDir, { recursive: true, force: true });
      });
    }
    await mkdir(dataDir, { recursive: true, mode: 0o700 });

    const clientConfig = { region: REGION, credentials: FAKE_CREDENTIALS };
    // Started side by side; whichever started is stopped again if the other failed.
    const [dynamodbStart, sqsStart] = await Promise.allSettled([
      startDynamoDbLocal({ dbPath: options.inMemory ? undefined : join(dataDir, 'dynamodb'), workDir: dataDir, clientConfig }),
      startSqsServer(REGION, ACCOUNT_ID),
    ]);
    if (dynamodbStart.status === 'fulfilled') cleanup.push(() => dynamodbStart.value.stop());
    if (sqsStart.status === 'fulfilled') cleanup.push(() => sqsStart.value.stop());
    if (dynamodbStart.status === 'rejected') throw dynamodbStart.reason;
    if (sqsStart.status === 'rejected') throw sqsStart.reason;
    const dynamodb: DynamoDbLocal = dynamodbStart.value;
    const sqs: SqsServer = sqsStart.value;
    say(`DynamoDB Local  ${dynamodb.endpoint}${options.inMemory ? ' (in memory)' : ` (data in ${join(dataDir, 'dynamodb')})`}`);
    say(`SQS             ${sqs.endpoint}`);

    const keyFile = join(dataDir, 'keys.json');
    await ensureKeyFile(keyFile);

    const dynamoClient = new DynamoDBClient({ ...clientConfig, endpoint: dynamodb.endpoint });
    const streamsClient = new DynamoDBStreamsClient({ ...clientConfig, endpoint: dynamodb.endpoint });
    const sqsClient = new SQSClient({ ...clientConfig, endpoint: sqs.endpoint });
    cleanup.push(async () => {
      dynamoClient.destroy();
      streamsClient.destroy();
      sqsClient.destroy();
    });

    const table = await ensureTable(dynamoClient, TABLE_NAME);
    const queueResources = await ensureQueues(sqsClient, [...queues, ...(options.extraQueues ?? [])]);
    const streamDeadLetterQueue = await ensureStandaloneQueue(sqsClient, STREAM_DLQ_NAME);

    const env: Record<string, string> = {
      STAGE: 'sandbox',
      TABLE_NAME,
      KEY_SOURCE: 'local',
      LOCAL_KEY_FILE: keyFile,
      // Receivers on this machine are the point of a local stack; nothing else may set this.
      WEBHOOK_PRIVATE_ADDRESSES: 'allow',
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB_STREAMS: dynamodb.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      // No EMF lines in the local stack's output: metrics are for AWS.
      POWERTOOLS_METRICS_DISABLED: 'true',
    };
    for (const [name, resources] of Object.entries(queueResources)) env[queueUrlVariable(name)] = resources.url;
    env.STREAM_DLQ_URL = streamDeadLetterQueue.url;
    applyEnvironment(env, options.quiet === true);

    const loader = new HandlerLoader(join(REPO_ROOT, 'functions'));
    const adapter = createHttpAdapter({
      routes: routesForStage('sandbox'),
      authorizers,
      loader,
      api: { region: REGION, accountId: ACCOUNT_ID, apiId: 'local', stage: 'sandbox' },
      authorizerCacheTtlMs: options.authorizerCacheTtlMs,
      onError: (requestId, what, error) => onError(`${what} (request ${requestId})`, error),
    });
    const server = await listen(adapter.listener, options.port ?? 3000);
    cleanup.push(() => closeServer(server));
    const port = (server.address() as { port: number }).port;
    const apiBase = `http://localhost:${port}`;

    const pollers = createPollers({
      rows: [...consumers.map((row) => ({ ...row, name: row.handler })), ...(options.extraConsumers ?? [])],
      schedules,
      scheduleIntervalMs: options.scheduleIntervalMs,
      loader,
      streamsClient,
      sqsClient,
      streamArn: table.streamArn,
      queueResources,
      moveToDeadLetterQueue: sqs.moveToDeadLetterQueue,
      queueTimeouts: Object.fromEntries([...queues, ...(options.extraQueues ?? [])].map((row) => [row.name, row.consumerTimeoutSeconds])),
      positionsDir: options.inMemory ? undefined : join(dataDir, 'stream-positions'),
      freshTable: table.created,
      onError,
    });
    cleanup.push(() => pollers.stop());

    const credentials = await sandboxCredentials({
      file: join(dataDir, 'credentials.json'),
      apiBase,
      freshTable: table.created,
      webhookUrl: options.webhookUrl,
    });
    await pollers.ready;
    pollers.start();

    // For tools (e.g. `npm run admin`) that act on a running local stack.
    const stackFile = join(dataDir, 'stack.json');
    await writeFile(stackFile, `${JSON.stringify({ api_base: apiBase, env }, null, 2)}\n`, { mode: 0o600 });
    cleanup.push(() => rm(stackFile, { force: true }));

    let stopping: Promise<void> | undefined;
    return {
      apiBase,
      port,
      credentials,
      endpoints: { dynamodb: dynamodb.endpoint, sqs: sqs.endpoint },
      region: REGION,
      tableName: TABLE_NAME,
      streamArn: table.streamArn,
      keyFile,
      dataDir,
      queues: queueResources,
      streamDeadLetterQueue,
      sqsServer: { pause: () => sqs.pause(), resume: () => sqs.resume() },
      env,
      pollers: { stream: pollers.stream, queue: pollers.queue, schedule: pollers.schedule, byName: pollers.byName },
      flushAuthorizerCache: () => adapter.flushAuthorizerCache(),
      stop() {
        stopping ??= runCleanup();
        return stopping;
      },
    };
  } catch (error) {
    await runCleanup();
    throw error;
  }
}

/** `otp` -> `OTP_QUEUE_URL`, the variable the functions that send to that queue read. */
export function queueUrlVariable(queueName: string): string {
  return `${queueName.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_QUEUE_URL`;
}

function applyEnvironment(env: Record<string, string>, quiet: boolean): void {
  Object.assign(process.env, env);
  // Static credentials only: a developer's profile or session token must not leak into local calls.
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  if (quiet) process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  // Modules read configuration once; a stack started after another one in this process must not see the old one.
  resetConfigForTests();
  resetDbForTests();
  resetKeyMaterialForTests();
}

interface PollerSetup {
  rows: ExtraConsumer[];
  schedules: readonly ScheduleRow[];
  scheduleIntervalMs: number | undefined;
  loader: HandlerLoader;
  streamsClient: DynamoDBStreamsClient;
  sqsClient: SQSClient;
  streamArn: string;
  queueResources: Record<string, QueueResources>;
  moveToDeadLetterQueue: SqsServer['moveToDeadLetterQueue'];
  queueTimeouts: Record<string, number>;
  positionsDir: string | undefined;
  freshTable: boolean;
  onError: (message: string, error: unknown) => void;
}

function createPollers(setup: PollerSetup) {
  const stream: Poller[] = [];
  const queue: Poller[] = [];
  const byName: Record<string, Poller> = {};
  const ready = (async () => {
    if (!setup.positionsDir) return;
    // Positions in a stream that no longer exists would point nowhere.
    if (setup.freshTable) await rm(setup.positionsDir, { recursive: true, force: true });
    await mkdir(setup.positionsDir, { recursive: true });
  })();

  for (const row of setup.rows) {
    if (byName[row.name]) throw new Error(`Two consumers named ${row.name}`);
    const handler = () => setup.loader.load(row.handler, row.access);
    let poller: Poller;
    if (row.source.kind === 'stream') {
      const filter = row.source.filter;
      poller = createStreamPoller({
        name: row.name,
        streams: setup.streamsClient,
        streamArn: setup.streamArn,
        handler,
        batchSize: row.batchSize,
        filter: filter ? (record: _Record) => insertedWithPrefix(record, filter.attribute, filter.beginsWith) : undefined,
        region: REGION,
        accountId: ACCOUNT_ID,
        checkpoints: setup.positionsDir ? fileCheckpoints(join(setup.positionsDir, `${row.name.replace(/[^A-Za-z0-9-]+/g, '_')}.json`)) : memoryCheckpoints(),
        maxRetryDelayMs: row.maxRetryDelayMs,
        onError: setup.onError,
      });
      stream.push(poller);
    } else {
      const resources = setup.queueResources[row.source.queue];
      if (!resources) throw new Error(`Consumer ${row.name} reads queue ${row.source.queue}, which is not defined`);
      poller = createQueuePoller({
        name: row.name,
        sqs: setup.sqsClient,
        queueUrl: resources.url,
        queueArn: resources.arn,
        handler,
        batchSize: row.batchSize,
        timeoutSeconds: setup.queueTimeouts[row.source.queue] ?? 30,
        maxReceiveCount: resources.maxReceiveCount,
        moveToDeadLetterQueue: (message) => setup.moveToDeadLetterQueue(resources.arn, resources.dlqName, message),
        region: REGION,
        accountId: ACCOUNT_ID,
        onError: setup.onError,
      });
      queue.push(poller);
    }
    byName[row.name] = poller;
  }

  const schedule: Poller[] = [];
  for (const row of setup.schedules) {
    if (byName[row.handler]) throw new Error(`Two pollers named ${row.handler}`);
    const poller = createSchedulePoller({
      name: row.handler,
      handler: () => setup.loader.load(row.handler, row.access),
      everyMs: setup.scheduleIntervalMs ?? row.everyMinutes * 60_000,
      timeoutSeconds: row.timeoutSeconds,
      region: REGION,
      accountId: ACCOUNT_ID,
      onError: setup.onError,
    });
    schedule.push(poller);
    byName[row.handler] = poller;
  }

  const all = group([...stream, ...queue, ...schedule]);
  return { stream: group(stream), queue: group(queue), schedule: group(schedule), byName, ready, start: all.start, stop: all.stop };
}

function group(members: Poller[]): PollerGroup {
  return {
    members,
    start: () => members.forEach((poller) => poller.start()),
    stop: async () => {
      await Promise.all(members.map((poller) => poller.stop()));
    },
  };
}

/** The stream filter of a consumer row, as the CDK stack's FilterCriteria express it. */
function insertedWithPrefix(record: _Record, attribute: string, prefix: string): boolean {
  const value = record.dynamodb?.NewImage?.[attribute];
  return record.eventName === 'INSERT' && typeof value?.S === 'string' && value.S.startsWith(prefix);
}

function listen(listener: Parameters<typeof createServer>[1], port: number): Promise<Server> {
  const server = createServer({ keepAlive: true }, listener);
  // Longer than typical client pools keep idle sockets, so a benchmark never races a server-side close.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new Error(`Port ${port} is in use; set PORT to another port`) : error);
    });
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function reportError(message: string, error: unknown): void {
  const detail = error instanceof Error ? `: ${error.stack ?? error.message}` : error === undefined ? '' : `: ${String(error)}`;
  process.stderr.write(`[local stack] ${message}${detail}\n`);
}
