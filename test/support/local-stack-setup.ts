/**
 * Vitest global setup of the integration project: one in-memory local stack for the whole run, on
 * ports the OS picks (so it never collides with a developer's `npm start`), torn down at the end.
 * Workers reach it through test/support/stack.ts.
 *
 * Its authorizer cache keeps a verdict for `AUTHORIZER_CACHE_TTL_MS` instead of 60 s, so a spec
 * can watch a revoked key be refused once its cached Allow expires (as it is in AWS after up to
 * 5 minutes) without waiting a minute; re-running an authorizer every few seconds costs the other
 * specs one GetItem now and then.
 */
import type { TestProject } from 'vitest/node';
import { startLocalStack } from '../../infra/local/local-stack.ts';
import { AUTHORIZER_CACHE_TTL_MS, type LocalStackContext } from './stack.ts';
import { cardNumberShapedRuns, exfiltrate } from './table-exfiltration.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startLocalStack({ inMemory: true, port: 0, quiet: true, authorizerCacheTtlMs: AUTHORIZER_CACHE_TTL_MS });
  const context: LocalStackContext = {
    apiBase: stack.apiBase,
    businessId: stack.credentials.business_id,
    apiKey: stack.credentials.api_key,
    webhookSecret: stack.credentials.webhook_secret,
    networkKey: stack.credentials.network_key,
    chainKey: stack.credentials.chain_key,
    env: stack.env,
    queues: stack.queues,
  };
  project.provide('localStack', context);
  return async () => {
    try {
      await noCardNumberLeftBehind(stack.env.TABLE_NAME!);
    } finally {
      await stack.stop();
    }
  };
}

/**
 * After the whole integration run: the table and every record of its stream hold no run of digits
 * shaped like a card number (PCI DSS 3.5; the attacker spec checks the other forms on its own
 * data). A failure here fails the run even though every spec passed.
 */
async function noCardNumberLeftBehind(tableName: string): Promise<void> {
  const copy = await exfiltrate(tableName);
  const runs = cardNumberShapedRuns(copy.strings);
  if (runs.length > 0) {
    throw new Error(`Card-number-shaped digits at rest after the integration run (${runs.length}), e.g. ${runs[0]!.slice(0, 6)}…${runs[0]!.slice(-4)}`);
  }
  process.stdout.write(`integration teardown: scanned ${copy.items.length} items and ${copy.streamImages.length} stream records, no card number at rest\n`);
}
