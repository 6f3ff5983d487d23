/**
 * The quick start (docs/quick-start.md) is a script partners paste into a terminal: it must run
 * top to bottom as written. This spec takes its one `bash` block out of the Markdown and runs it
 * with bash against the test stack, once with the settings in the environment (how a deployed
 * sandbox is used) and once from `.local/credentials.json` (how the local stack is used), in a
 * scratch directory so nothing of the repository's own `.local/` is read.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localStack } from '../support/stack.ts';

const QUICK_START = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'quick-start.md');
/** The settings the script reads from the environment (else from the credentials file). */
const SETTINGS = ['API_BASE', 'API_KEY', 'NETWORK_KEY', 'CHAIN_KEY', 'CREDENTIALS_FILE'] as const;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The Markdown's fenced `bash` blocks, in order. */
function bashBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```bash\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
}

function runBash(scriptFile: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [scriptFile], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The test process's environment without any of the script's settings, so only what a test passes counts. */
function baseEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of SETTINGS) delete env[name];
  return env;
}

/** What a failed run says, for the assertion message: the last lines of both streams. */
function tail(run: Run): string {
  const last = (text: string) => text.trimEnd().split('\n').slice(-15).join('\n');
  return `exit ${run.code}\n--- stdout ---\n${last(run.stdout)}\n--- stderr ---\n${last(run.stderr)}`;
}

describe('docs/quick-start.md', () => {
  let workDir: string;
  let scriptFile: string;

  beforeAll(async () => {
    const blocks = bashBlocks(await readFile(QUICK_START, 'utf8'));
    // One block, so "paste the script" has one meaning and nothing of it escapes this spec.
    expect(blocks).toHaveLength(1);
    workDir = await mkdtemp(join(tmpdir(), 'quick-start-'));
    scriptFile = join(workDir, 'quick-start.sh');
    await writeFile(scriptFile, blocks[0]!);
  });

  afterAll(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('runs top to bottom with its settings in the environment', { timeout: 120_000 }, async () => {
    const stack = localStack();
    const run = await runBash(scriptFile, workDir, {
      ...baseEnvironment(),
      API_BASE: stack.apiBase,
      API_KEY: stack.apiKey,
      NETWORK_KEY: stack.networkKey,
      CHAIN_KEY: stack.chainKey,
    });
    expect(run.code, tail(run)).toBe(0);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('Quick start complete.');
    // The last purchase is on the card the script terminated just before.
    expect(run.stdout).toContain('"decline_reason":"card_terminated"');
  });

  it('runs again, reading .local/credentials.json when the environment has no settings', { timeout: 120_000 }, async () => {
    const stack = localStack();
    await mkdir(join(workDir, '.local'), { recursive: true });
    await writeFile(
      join(workDir, '.local', 'credentials.json'),
      JSON.stringify({
        api_base: stack.apiBase,
        business_id: stack.businessId,
        api_key: stack.apiKey,
        webhook_secret: stack.webhookSecret,
        network_key: stack.networkKey,
        chain_key: stack.chainKey,
      }),
    );
    const run = await runBash(scriptFile, workDir, baseEnvironment());
    expect(run.code, tail(run)).toBe(0);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('Quick start complete.');
  });

  it('stops at the first request that fails, with its error body', { timeout: 60_000 }, async () => {
    const stack = localStack();
    const run = await runBash(scriptFile, workDir, {
      ...baseEnvironment(),
      API_BASE: stack.apiBase,
      API_KEY: 'not-a-key',
      NETWORK_KEY: stack.networkKey,
      CHAIN_KEY: stack.chainKey,
    });
    expect(run.code).not.toBe(0);
    // The first request's answer is read for the user's id, so its body is echoed on stderr.
    expect(run.stderr).toContain('"code":"unauthorized"');
    expect(run.stdout).not.toContain('Quick start complete.');
  });
});
