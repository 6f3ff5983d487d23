/**
 * `npm run bench`: starts ONE in-memory local stack (DynamoDB Local, SQS server, the API on an
 * OS-chosen port), runs each benchmark section against it in turn, prints each section's report
 * and writes every result to `.bench/results-<time>.json` (and `.bench/latest.json`).
 *
 *   npm run bench                                  every section
 *   npm run bench -- --only authorizations         one section
 *   npm run bench -- --seconds 4 --concurrency 1,8,32
 *   npm run bench -- --only cold-start --runs 7    fresh processes per bundle
 *
 * A missed target is printed, never an exit code: the numbers depend on the machine. The process
 * fails only when a section cannot run at all.
 *
 * Sections are listed in `SECTIONS`; add one by exporting a `BenchSection` from its own file.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchOptions, BenchSection } from './support/section.ts';

// Handlers log per request at INFO; a benchmark measures them as the quiet local stack runs them.
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

const RESULTS_DIR = fileURLToPath(new URL('../.bench/', import.meta.url));

async function sections(): Promise<BenchSection[]> {
  // Imported after the log level is set: shared modules create their logger at import time.
  const { authorizationsSection } = await import('./authorizations.ts');
  const { webhookLatencySection } = await import('./webhook-latency.ts');
  const { authorizationDecisionsSection } = await import('./authorization-decisions.ts');
  const { partitionHeatSection } = await import('./partition-heat.ts');
  const { coldStartSection } = await import('./cold-start.ts');
  return [authorizationsSection, webhookLatencySection, authorizationDecisionsSection, partitionHeatSection, coldStartSection];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      seconds: { type: 'string', default: '6' },
      concurrency: { type: 'string', default: '1,4,16,32' },
      runs: { type: 'string', default: '5' },
    },
  });
  const options: BenchOptions = {
    seconds: positiveNumber(values.seconds!, '--seconds'),
    concurrency: values.concurrency!.split(',').map((level) => positiveNumber(level, '--concurrency')),
    coldStartRuns: positiveNumber(values.runs!, '--runs'),
  };
  const all = await sections();
  const selected = values.only ? all.filter((section) => section.name === values.only) : all;
  if (selected.length === 0) throw new Error(`No section "${values.only}"; sections: ${all.map((section) => section.name).join(', ')}`);

  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB`);
  say('starting the local stack (in memory)');
  const { startLocalStack } = await import('../infra/local/local-stack.ts');
  const stack = await startLocalStack({
    inMemory: true,
    port: 0,
    quiet: true,
    onError: (message, error) => process.stderr.write(`[local stack] ${message}: ${error instanceof Error ? error.message : String(error)}\n`),
  });

  const startedAt = new Date();
  const results: Record<string, unknown> = {};
  try {
    for (const section of selected) {
      say('');
      say(`== ${section.title} ==`);
      results[section.name] = await section.run({ stack, options, say: (line) => say(line) });
    }
  } finally {
    await stack.stop();
  }

  const document = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}` },
    options,
    sections: results,
  };
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `results-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  const text = `${JSON.stringify(document, null, 2)}\n`;
  await writeFile(file, text);
  await writeFile(join(RESULTS_DIR, 'latest.json'), text);
  say('');
  say(`results written to ${file}`);
}

function positiveNumber(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${flag} must be a positive number, got "${text}"`);
  return value;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
