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
import { MAC_PURPOSES, macKeyVariable } from '../../shared/crypto/keyed-hash.ts';
import { parameterNames, stageConfig } from '../stage-config.ts';

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
  const published = parameterNames(stage);
  // The webhook queues' and the stream DLQ's URLs (published by the stack, see stage-config.ts) are
  // for `dead-letters` and `redrive`. The operator works with every MAC key (credentials, eKYC, ...),
  // as an administrator may.
  const names = [published.tableName, published.kmsKeyArn, published.queueUrl('otp'), published.queueUrl('events'), published.streamDlqUrl, published.defaultUsagePlanId, published.apiId];
  const macNames = MAC_PURPOSES.map((purpose) => published.macKeyArn(purpose));
  const ssm = new SSMClient({});
  await ssm.config.region().catch(() => {
    // The SDK's own words are "Region is missing", which does not say where it is looked for.
    throw new Error(
      `--stage ${stage} needs an AWS region: set AWS_REGION (e.g. \`AWS_REGION=eu-west-1 npm run admin -- … --stage ${stage}\`), ` +
        'or a region in the AWS profile you use (`aws configure set region <region> [--profile P]`, with AWS_PROFILE=P).',
    );
  });
  // GetParameters takes at most 10 names a call.
  const results = await Promise.all([names, macNames].map((batch) => ssm.send(new GetParametersCommand({ Names: batch }))));
  const parameters = results.flatMap((result) => result.Parameters ?? []);
  const value = (name: string) => {
    const found = parameters.find((p) => p.Name === name)?.Value;
    if (!found) throw new Error(`SSM parameter ${name} not found: is the ${stage} stage deployed in this account and region?`);
    return found;
  };
  Object.assign(process.env, {
    STAGE: stage,
    TABLE_NAME: value(names[0]!),
    KEY_SOURCE: 'kms',
    KMS_KEY_ARN: value(names[1]!),
    OTP_QUEUE_URL: value(names[2]!),
    EVENTS_QUEUE_URL: value(names[3]!),
    STREAM_DLQ_URL: value(names[4]!),
    // Per-business throttling (infra/admin/usage-plans.ts): the API and its default business plan.
    USAGE_PLAN_ID: value(names[5]!),
    API_ID: value(names[6]!),
    ...Object.fromEntries(MAC_PURPOSES.map((purpose, i) => [macKeyVariable(purpose), value(macNames[i]!)])),
    // As the deployed functions: a variable left in the operator's shell must not open private
    // addresses when setting a webhook URL.
    WEBHOOK_PRIVATE_ADDRESSES: 'deny',
    // The stage's hold policy, as its functions get it (`index-transactions` dates older holds with it).
    HOLD_EXPIRY_DAYS: JSON.stringify(stageConfig(stage).holdExpiry),
    // The stage's default formats: `release2` and escrow off are safe beside functions deployed with
    // either (a redrive never makes records beside release-2 functions mid-upgrade).
    WRITE_FORMAT: stageConfig(stage).writeFormat,
    ESCROW_HOLDS: stageConfig(stage).escrowHolds,
  });
  return `${stage} stage`;
}
