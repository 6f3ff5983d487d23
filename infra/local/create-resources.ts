/**
 * Creates the local stack's table and queues from the same definitions the CDK stack deploys:
 * the table from `TABLE_SCHEMA`, the queues from the route table's `queues` rows.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { TABLE_SCHEMA } from '../../shared/db/table-schema.ts';
import { SERVER_REDRIVE_CEILING } from './sqs-server.ts';

export interface TableResources {
  /** True when the table did not exist before this start (a fresh data directory). */
  created: boolean;
  streamArn: string;
}

/** Creates the table if it is missing, and adds indexes the schema gained since it was created. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<TableResources> {
  let table = await describe(client, tableName);
  const created = !table;
  if (!table) {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: attributeDefinitions(),
        KeySchema: [
          { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: TABLE_SCHEMA.globalIndexes.map(globalIndex),
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
      }),
    );
  } else {
    const existing = new Set((table.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
    for (const index of TABLE_SCHEMA.globalIndexes) {
      if (existing.has(index.indexName)) continue;
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: attributeDefinitions(),
          GlobalSecondaryIndexUpdates: [{ Create: globalIndex(index) }],
        }),
      );
    }
    if (!table.StreamSpecification?.StreamEnabled) {
      await client.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' } }));
    }
  }

  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  if (ttl.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.timeToLiveAttribute, Enabled: true },
      }),
    );
  }

  table = await describe(client, tableName);
  if (!table?.LatestStreamArn) throw new Error(`Table ${tableName} has no stream`);
  return { created, streamArn: table.LatestStreamArn };
}

async function describe(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

function attributeDefinitions() {
  const names = [TABLE_SCHEMA.partitionKey, TABLE_SCHEMA.sortKey, ...TABLE_SCHEMA.globalIndexes.flatMap((index) => [index.partitionKey, index.sortKey])];
  return [...new Set(names)].map((name) => ({ AttributeName: name, AttributeType: 'S' as const }));
}

function globalIndex(index: (typeof TABLE_SCHEMA.globalIndexes)[number]) {
  return {
    IndexName: index.indexName,
    KeySchema: [
      { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'ALL' as const },
  };
}

/** A queue row of the route table, or a test's own queue. */
export interface QueueDefinition {
  name: string;
  consumerTimeoutSeconds: number;
  maxReceiveCount: number;
}

export interface QueueResources {
  url: string;
  arn: string;
  dlqName: string;
  dlqUrl: string;
  dlqArn: string;
  /** Receives before a message moves to the DLQ (enforced by the queue poller, see sqs-server.ts). */
  maxReceiveCount: number;
}

/**
 * One queue per row, each with its DLQ: a message received `maxReceiveCount` times without being
 * deleted is moved there. Visibility timeout is six times the consumer's timeout, as AWS
 * recommends for Lambda event sources. The server's own redrive threshold is set out of reach
 * (see sqs-server.ts); the queue poller applies `maxReceiveCount`.
 */
export async function ensureQueues(client: SQSClient, rows: readonly QueueDefinition[]): Promise<Record<string, QueueResources>> {
  const result: Record<string, QueueResources> = {};
  for (const row of rows) {
    const dlqName = `${row.name}-dlq`;
    const dlq = await createQueue(client, dlqName, { MessageRetentionPeriod: String(14 * 24 * 3600) });
    const queue = await createQueue(client, row.name, {
      VisibilityTimeout: String(6 * row.consumerTimeoutSeconds),
      RedrivePolicy: JSON.stringify({ maxReceiveCount: SERVER_REDRIVE_CEILING, deadLetterTargetArn: dlq.arn }),
    });
    result[row.name] = { url: queue.url, arn: queue.arn, dlqName, dlqUrl: dlq.url, dlqArn: dlq.arn, maxReceiveCount: row.maxReceiveCount };
  }
  return result;
}

/** A queue without a source or DLQ of its own (the stream consumers' dead-letter queue). */
export async function ensureStandaloneQueue(client: SQSClient, name: string): Promise<{ url: string; arn: string }> {
  return createQueue(client, name, { MessageRetentionPeriod: String(14 * 24 * 3600) });
}

async function createQueue(client: SQSClient, name: string, attributes: Record<string, string>): Promise<{ url: string; arn: string }> {
  const created = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const url = created.QueueUrl;
  if (!url) throw new Error(`CreateQueue ${name} returned no URL`);
  const described = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = described.Attributes?.QueueArn;
  if (!arn) throw new Error(`Queue ${name} has no ARN`);
  return { url, arn };
}
