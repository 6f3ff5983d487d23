/**
 * The DynamoDB clients, created once per cold start. Numbers are read back wrapped (as strings in
 * `NumberValue`) so a minor-unit amount never passes through a JavaScript `number`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { config } from '../config.ts';

let document: DynamoDBDocumentClient | undefined;

export function db(): DynamoDBDocumentClient {
  if (!document) {
    const client = new DynamoDBClient({ maxAttempts: 4 });
    document = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
      unmarshallOptions: { wrapNumbers: true },
    });
  }
  return document;
}

export function tableName(): string {
  return config().TABLE_NAME;
}

/** Reads a number attribute that was unmarshalled with `wrapNumbers`. */
export function bigintAttr(value: unknown): bigint {
  if (value === undefined || value === null) return 0n;
  if (typeof value === 'bigint') return value;
  if (typeof value === 'object' && value !== null && 'value' in value) return BigInt(String((value as { value: string }).value));
  return BigInt(String(value));
}

/** Reads a small integer attribute (counts, epoch seconds) that was unmarshalled with `wrapNumbers`. */
export function intAttr(value: unknown): number {
  return Number(bigintAttr(value));
}

/** Tests swap clients between emulator runs. */
export function resetDbForTests(): void {
  document = undefined;
}
