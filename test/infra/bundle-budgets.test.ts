/**
 * Bundle budgets: every function's release bundle (the esbuild settings of `cdk synth`) against a
 * reference bundle that holds only the DynamoDB document client, built in the same pass, so size
 * cannot creep back (infra/constructs/bundle-budgets.ts; `npm run bench -- --only cold-start`
 * measures the time side). Also: heavy dependencies only where the function's row uses them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_BUDGETS, bundledFunctions, REFERENCE_ENTRY, sizeCeilingKiB } from '../../infra/constructs/bundle-budgets.ts';
import { entryOf, releaseBundles } from '../../infra/constructs/bundling.ts';

const functions = bundledFunctions();
const CHAIN_ADDRESS_HANDLERS = new Set(['wallets/create-wallet-address', 'wallets/list-wallet-addresses', 'simulate/create-deposit', 'network/create-deposit', 'docs/get-openapi-document']);
const REFERENCE = '(reference)';
let outdir: string;
let metafile: Metafile;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'card-platform-budgets-'));
  const entryPoints: Record<string, string> = { [`${REFERENCE}/index`]: REFERENCE_ENTRY };
  for (const fn of functions) entryPoints[`${fn.handler}/index`] = entryOf(fn.handler);
  metafile = releaseBundles(entryPoints, outdir).metafile;
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

function output(handler: string): Metafile['outputs'][string] {
  const key = Object.keys(metafile.outputs).find((file) => file.endsWith(`${handler}/index.mjs`));
  if (!key) throw new Error(`no bundle for ${handler}`);
  return metafile.outputs[key]!;
}

function holds(handler: string, pkg: string): boolean {
  return Object.entries(output(handler).inputs).some(([file, input]) => file.includes(`node_modules/${pkg}/`) && input.bytesInOutput > 0);
}

describe('bundle sizes', () => {
  it.each(functions.map((fn) => [fn.handler, fn] as const))('%s stays within its ceiling above the reference', (_, fn) => {
    const extraKiB = (output(fn.handler).bytes - output(REFERENCE).bytes) / 1024;
    const ceiling = sizeCeilingKiB(fn);
    expect(extraKiB, `${fn.handler} (${fn.tier}: target +${BUNDLE_BUDGETS[fn.tier].extraKiB} KiB, ceiling +${ceiling} KiB)`).toBeLessThanOrEqual(ceiling);
  });

  it('ceilings never exceed what the tiers allowed before they were set', () => {
    for (const fn of functions) expect(sizeCeilingKiB(fn)).toBeGreaterThanOrEqual(BUNDLE_BUDGETS[fn.tier].extraKiB);
  });
});

describe('heavy dependencies go only where the row uses them', () => {
  it.each(functions.map((fn) => [fn.handler, fn] as const))('%s', (_, fn) => {
    const seals = (fn.access.encrypt?.length ?? 0) + (fn.access.decrypt?.length ?? 0) > 0;
    // The Encryption SDK where the row seals or opens, and there it must be (envelope-engine.ts).
    expect(holds(fn.handler, '@aws-crypto/encrypt-node'), 'envelope encryption').toBe(seals);
    // The KMS client where the row hashes with a KMS HMAC key (keyed-hash-kms.ts), or seals (the keyring).
    const hashes = (fn.access.macs?.length ?? 0) > 0;
    if (hashes) expect(holds(fn.handler, '@aws-sdk/client-kms'), 'KMS client').toBe(true);
    if (!hashes && !seals) expect(holds(fn.handler, '@aws-sdk/client-kms'), 'KMS client').toBe(false);
    if (!fn.access.settings?.length) expect(holds(fn.handler, '@aws-sdk/client-ssm'), 'SSM client').toBe(false);
    if (fn.kind === 'route' || fn.kind === 'authorizer') expect(holds(fn.handler, '@aws-sdk/client-sqs'), 'SQS client').toBe(false);
    expect(holds(fn.handler, '@aws-sdk/client-secrets-manager'), 'Secrets Manager client').toBe(false);
    // Traces are Lambda's and API Gateway's own (active tracing): no X-Ray SDK in any bundle (README "Traces").
    expect(holds(fn.handler, 'aws-xray-sdk-core'), 'X-Ray SDK').toBe(false);
    if (fn.handler !== 'docs/get-docs-page') expect(holds(fn.handler, 'swagger-ui-dist'), 'swagger-ui').toBe(false);
    if (fn.handler !== 'docs/get-openapi-document') expect(holds(fn.handler, 'zod-openapi'), 'zod-openapi').toBe(false);
    // Schemas use zod's mini API (shared/zod.ts); the classic one comes only with zod-openapi.
    if (fn.handler !== 'docs/get-openapi-document') expect(holds(fn.handler, 'zod/v4/classic'), "zod's classic API").toBe(false);
    // The address code (chain-addresses.ts) where addresses are made, listed or checked; elsewhere chains are names (chains.ts).
    if (!CHAIN_ADDRESS_HANDLERS.has(fn.handler)) expect(holds(fn.handler, '@scure/base'), 'chain-address code').toBe(false);
  });
});
