/**
 * The cold-start reference: only the DynamoDB document client and a handler that answers at once.
 * Every function's bundle is compared with this one, built with the same settings in the same run.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const document = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export async function handler(): Promise<{ statusCode: number; body: string }> {
  return { statusCode: 200, body: document ? '{}' : '' };
}
