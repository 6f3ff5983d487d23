/**
 * Cold starts (`npm run bench -- --only cold-start`): every function's release bundle (the esbuild
 * settings of `cdk synth`, infra/constructs/bundling.ts `releaseBuildOptions`) and a reference
 * bundle that holds only the DynamoDB document client and an empty handler, built in the same run.
 *
 * For each bundle: its size, and the median over `--runs` fresh Node processes of the time to
 * import it and answer a first invocation, with the SDK pointed at the bench's local stack (DynamoDB
 * Local, the SQS server, local keys). The first invocation is a minimal event of the function's
 * kind: an authorizer gets an unknown key (a MAC and a table read, then 401), a route gets its
 * row's credential in the authorizer context, placeholder path ids, an Idempotency-Key and an
 * empty JSON body (a 4xx from validation or a missing item, after what the handler does first),
 * a consumer an empty batch, a schedule one run over the (empty) table. Node's own start-up is not
 * counted: the clock starts at the `import()`.
 *
 * Ratios are to the reference. A miss is a bundle over its tier's budget (infra/constructs/bundle-budgets.ts):
 * KiB above the reference, or import time over the reference's times the tier's ratio (the import
 * is what the bundle decides; the first invocation's own calls are the same work in any bundle,
 * and the reference makes none, so that ratio is printed but not held to the target).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { routes } from '../shared/routes.ts';
import { BUNDLE_BUDGETS, type BundledFunction, bundledFunctions, REFERENCE_ENTRY } from '../infra/constructs/bundle-budgets.ts';
import { entryOf, releaseBundles } from '../infra/constructs/bundling.ts';
import type { BenchSection } from './support/section.ts';
import { percentile } from './support/stats.ts';
import { fixed, formatTable } from './support/table.ts';

const CHILD = fileURLToPath(new URL('./cold-start/child.mjs', import.meta.url));
const REFERENCE = '(reference)';

interface Sample {
  importMs: number;
  totalMs: number;
  outcome: string;
}

interface Measured {
  handler: string;
  tier: BundledFunction['tier'] | 'reference';
  kib: number;
  importMs: number;
  medianMs: number;
  outcome: string;
}

export const coldStartSection: BenchSection = {
  name: 'cold-start',
  title: 'Cold start: bundle size and import + first invocation, per function, next to the reference bundle',
  async run({ stack, options, say }) {
    const runs = Math.max(1, Math.round(options.coldStartRuns ?? 5));
    const functions = bundledFunctions();
    const dir = await mkdtemp(join(tmpdir(), 'card-platform-cold-start-'));
    try {
      say(`bundling ${functions.length} functions and the reference (release settings)`);
      const entryPoints: Record<string, string> = { [`${REFERENCE}/index`]: REFERENCE_ENTRY };
      for (const fn of functions) entryPoints[`${fn.handler}/index`] = entryOf(fn.handler);
      releaseBundles(entryPoints, dir);

      const targets = [{ handler: REFERENCE, tier: 'reference' as const }, ...functions];
      const samples = new Map<string, Sample[]>(targets.map((target) => [target.handler, []]));
      const env: NodeJS.ProcessEnv = { ...process.env, ...stack.env, POWERTOOLS_LOG_LEVEL: 'ERROR' };
      delete env.NODE_OPTIONS;
      say(`${runs} fresh Node processes per bundle, each paired with one of the reference's`);
      // On a shared machine the load drifts within a run; each sample is paired with a reference
      // sample taken just before it, and a function's ratios are the medians of its pairs' ratios.
      const pairs = new Map<string, { importRatio: number; ratio: number }[]>(functions.map((fn) => [fn.handler, []]));
      const referenceEvent = join(dir, 'event-reference.json');
      await writeFile(referenceEvent, JSON.stringify(eventFor(REFERENCE, 0)));
      for (let run = 0; run < runs; run++) {
        for (const [index, fn] of functions.entries()) {
          const eventFile = join(dir, `event-${index}.json`);
          await writeFile(eventFile, JSON.stringify(eventFor(fn.handler, run)));
          const reference = await coldStart(join(dir, REFERENCE, 'index.mjs'), referenceEvent, env);
          const sample = await coldStart(join(dir, fn.handler, 'index.mjs'), eventFile, env);
          samples.get(REFERENCE)!.push(reference);
          samples.get(fn.handler)!.push(sample);
          pairs.get(fn.handler)!.push({ importRatio: sample.importMs / reference.importMs, ratio: sample.totalMs / reference.totalMs });
        }
      }

      const measured: Measured[] = [];
      for (const target of targets) {
        const list = samples.get(target.handler)!;
        measured.push({
          handler: target.handler,
          tier: target.tier,
          kib: (await stat(join(dir, target.handler, 'index.mjs'))).size / 1024,
          importMs: median(list.map((sample) => sample.importMs)),
          medianMs: median(list.map((sample) => sample.totalMs)),
          outcome: list[0]!.outcome,
        });
      }
      const reference = measured[0]!;
      const rows = measured.map((entry) => {
        const extraKiB = entry.kib - reference.kib;
        const paired = pairs.get(entry.handler) ?? [{ importRatio: 1, ratio: 1 }];
        const ratio = median(paired.map((pair) => pair.ratio));
        const importRatio = median(paired.map((pair) => pair.importRatio));
        const budget = entry.tier === 'reference' ? undefined : BUNDLE_BUDGETS[entry.tier];
        const misses = budget
          ? [extraKiB > budget.extraKiB ? `size +${Math.round(extraKiB)}>${budget.extraKiB}` : '', importRatio > budget.timeRatio ? `import ${fixed(importRatio, 2)}>${budget.timeRatio}` : '']
              .filter(Boolean)
              .join(', ')
          : '';
        return { ...entry, extraKiB, ratio, importRatio, misses };
      });
      say(
        formatTable(
          ['function', 'tier', 'KiB', '+KiB', 'import ms', 'x ref', 'import+1st ms', 'x ref', 'first answer', 'miss'],
          rows.map((row) => [
            row.handler,
            row.tier,
            fixed(row.kib, 0),
            row.tier === 'reference' ? '' : fixed(row.extraKiB, 0),
            fixed(row.importMs),
            fixed(row.importRatio, 2),
            fixed(row.medianMs),
            fixed(row.ratio, 2),
            row.outcome,
            row.misses,
          ]),
        ),
      );
      const missed = rows.filter((row) => row.misses);
      say(missed.length === 0 ? 'every function within its tier budget' : `MISSED: ${missed.length} of ${functions.length} functions over their tier budget`);
      return { runs, reference: { kib: reference.kib, medianMs: reference.medianMs, importMs: reference.importMs }, budgets: BUNDLE_BUDGETS, functions: rows.slice(1) };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 0.5);
}

function coldStart(bundle: string, eventFile: string, env: NodeJS.ProcessEnv): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, bundle, eventFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').findLast((text) => text.startsWith('{"importMs"'));
      if (code !== 0 || !line) return reject(new Error(`cold start of ${bundle} failed (exit ${code}): ${err.slice(-500)}`));
      resolve(JSON.parse(line) as Sample);
    });
  });
}

/** A minimal first event for the function (see the module comment). */
function eventFor(handler: string, run: number): unknown {
  if (handler.startsWith('auth/')) {
    return {
      type: 'REQUEST',
      methodArn: 'arn:aws:execute-api:us-east-1:000000000000:local/sandbox/GET/v1/cards',
      resource: '/v1/cards',
      path: '/v1/cards',
      httpMethod: 'GET',
      headers: { Authorization: `Bearer sk_bench_unknown_key_${run}_0123456789` },
      requestContext: { requestId: `cold-start-${run}` },
    };
  }
  const route = routes.find((row) => row.handler === handler);
  if (!route) return handler.startsWith('webhooks/sweep') || handler.startsWith('transactions/') ? {} : { Records: [] };
  const path = route.path.replace(/\{[^}]+\}/g, 'bench');
  const authorizer =
    route.credential === 'business'
      ? { credential: 'business', businessId: 'biz_cold_start_bench', keyId: 'key_cold_start_bench' }
      : route.credential === 'network' || route.credential === 'chain'
        ? { credential: route.credential, principal: 'cold-start-bench' }
        : undefined;
  return {
    resource: route.path,
    path,
    httpMethod: route.method,
    headers: { 'content-type': 'application/json', 'Idempotency-Key': `cold-start-${handler}-${run}-${Date.now()}` },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: Object.fromEntries([...route.path.matchAll(/\{([^}]+)\}/g)].map((match) => [match[1]!, 'bench'])),
    stageVariables: null,
    requestContext: { accountId: '000000000000', apiId: 'local', stage: 'sandbox', requestId: `cold-start-${run}`, httpMethod: route.method, path, resourcePath: route.path, authorizer, identity: { sourceIp: '127.0.0.1' } },
    body: route.method === 'GET' || route.method === 'DELETE' ? null : '{}',
    isBase64Encoded: false,
  };
}
