/**
 * Points the admin CLI at a stack by setting the same environment the Lambda functions get:
 * - no `--stage`: the running local stack, found through `.local/runtime.json` (written by `npm start`);
 * - `--stage sandbox|production`: a deployed stage, found through the SSM parameters the CDK stack
 *   publishes under `/card-platform/<stage>/`, using the caller's AWS credentials.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';

export interface LocalRuntime {
  tableName: string;
  region: string;
  keyFile: string;
  endpoints: { dynamodb: string; sqs: string };
  queues?: Record<string, string>;
}

export const LOCAL_RUNTIME_FILE = resolve('.local', 'runtime.json');

export async function useTarget(stage: string | undefined): Promise<string> {
  if (stage === undefined) return useLocalStack();
  if (stage !== 'sandbox' && stage !== 'production') throw new Error(`--stage must be sandbox or production, not "${stage}"`);
  return useDeployedStage(stage);
}

function useLocalStack(): string {
  if (!existsSync(LOCAL_RUNTIME_FILE)) {
    throw new Error('No running local stack (.local/runtime.json is missing): start one with `npm start`, or pass --stage.');
  }
  const runtime = JSON.parse(readFileSync(LOCAL_RUNTIME_FILE, 'utf8')) as LocalRuntime;
  Object.assign(process.env, {
    STAGE: 'sandbox',
    TABLE_NAME: runtime.tableName,
    KEY_SOURCE: 'local',
    LOCAL_KEY_FILE: runtime.keyFile,
    AWS_REGION: runtime.region,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
    AWS_ENDPOINT_URL_DYNAMODB: runtime.endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: runtime.endpoints.sqs,
  });
  return 'local stack';
}

async function useDeployedStage(stage: 'sandbox' | 'production'): Promise<string> {
  const prefix = `/card-platform/${stage}`;
  const names = [`${prefix}/table-name`, `${prefix}/kms-key-arn`, `${prefix}/hmac-secret-arn`];
  const result = await new SSMClient({}).send(new GetParametersCommand({ Names: names }));
  const value = (name: string) => {
    const found = result.Parameters?.find((p) => p.Name === name)?.Value;
    if (!found) throw new Error(`SSM parameter ${name} not found: is the ${stage} stage deployed in this account and region?`);
    return found;
  };
  Object.assign(process.env, {
    STAGE: stage,
    TABLE_NAME: value(names[0]!),
    KEY_SOURCE: 'kms',
    KMS_KEY_ARN: value(names[1]!),
    HMAC_SECRET_ARN: value(names[2]!),
  });
  return `${stage} stage`;
}
