/**
 * Points the admin CLI at a stack by setting the same environment the Lambda functions get:
 * - no `--stage`: the running local stack, found through `.local/stack.json` (written by `npm start`
 *   while it runs, with the environment its handlers get);
 * - `--stage sandbox|production`: a deployed stage, found through the SSM parameters the CDK stack
 *   publishes under `/card-platform/<stage>/`, using the caller's AWS credentials.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';

export const LOCAL_STACK_FILE = resolve('.local', 'stack.json');

export async function useTarget(stage: string | undefined): Promise<string> {
  if (stage === undefined) return useLocalStack();
  if (stage !== 'sandbox' && stage !== 'production') throw new Error(`--stage must be sandbox or production, not "${stage}"`);
  return useDeployedStage(stage);
}

function useLocalStack(): string {
  if (!existsSync(LOCAL_STACK_FILE)) {
    throw new Error('No running local stack (.local/stack.json is missing): start one with `npm start`, or pass --stage.');
  }
  const { env } = JSON.parse(readFileSync(LOCAL_STACK_FILE, 'utf8')) as { env: Record<string, string> };
  Object.assign(process.env, env);
  return 'local stack';
}

async function useDeployedStage(stage: 'sandbox' | 'production'): Promise<string> {
  const prefix = `/card-platform/${stage}`;
  // The webhook queues' URLs (published by the stack, see stage-config.ts) are for `redrive`.
  const names = [`${prefix}/table-name`, `${prefix}/kms-key-arn`, `${prefix}/hmac-secret-arn`, `${prefix}/queues/otp/url`, `${prefix}/queues/events/url`];
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
    OTP_QUEUE_URL: value(names[3]!),
    EVENTS_QUEUE_URL: value(names[4]!),
    // As the deployed functions: a variable left in the operator's shell must not open private
    // addresses when setting a webhook URL.
    WEBHOOK_PRIVATE_ADDRESSES: 'deny',
  });
  return `${stage} stage`;
}
