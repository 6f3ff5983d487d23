/**
 * `npm start` as a developer runs it: it prints the sandbox credentials, serves them, writes them
 * to `.local/credentials.json` even in memory, and Ctrl-C leaves nothing running (DynamoDB Local
 * is a JVM: an orphan would hold its port and memory) and no in-memory credentials behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const credentialsFile = join(repoRoot, '.local', 'credentials.json');
const stackFile = join(repoRoot, '.local', 'stack.json');

/** The file's content, or undefined when there is none. */
async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
const started: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Pids of DynamoDB Local JVMs listening on `port`. */
function dynamoDbLocalPids(port: number): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps.stdout
    .split('\n')
    .filter((line) => line.includes('DynamoDBLocal.jar') && line.includes(`-port ${port} `) && /^\s*\d+\s+\S*java\b/.test(line))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every process below `pid` (children of all its threads, recursively), read from /proc. */
function descendants(pid: number): number[] {
  let children: number[];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

/** The command line of a live process ('' once it is gone). */
function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/**
 * `npm start -- --in-memory` on a free port, in its own process group (so that nothing but the
 * signal a spec sends reaches it), resolved once it says it is ready.
 */
async function startStack(): Promise<{ child: ChildProcess; stdout: () => string; exited: Promise<void> }> {
  const port = await freePort();
  const child = spawn('npm', ['start', '--', '--in-memory'], {
    cwd: repoRoot,
    env: { ...process.env, PORT: String(port), WEBHOOK_URL: '' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await vi.waitFor(() => expect(stdout, stderr).toMatch(/Ctrl-C to stop/), { timeout: 90_000, interval: 200 });
  return { child, stdout: () => stdout, exited };
}

afterAll(() => {
  // Whatever a failed assertion left behind.
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
});

describe('npm start', () => {
  it('prints the sandbox credentials and writes them to .local/credentials.json, serves the API with them, and leaves no Java process and no in-memory credentials after Ctrl-C', async () => {
    // A persistent stack's own file (if this checkout has one) must come back untouched.
    const before = await readIfPresent(credentialsFile);
    const port = await freePort();
    // Its own process group, so Ctrl-C can be sent the way a terminal sends it: to the whole group.
    const child = spawn('npm', ['start', '--', '--in-memory'], {
      cwd: repoRoot,
      env: { ...process.env, PORT: String(port), WEBHOOK_URL: '' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

    await vi.waitFor(() => expect(stdout, stderr).toMatch(/Ctrl-C to stop/), { timeout: 90_000, interval: 200 });
    const field = (name: string) => new RegExp(`${name}\\s+(\\S+)`).exec(stdout)?.[1];
    expect(field('api_base')).toBe(`http://localhost:${port}`);
    expect(field('business_id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(field('webhook_secret')).toMatch(/^whsec_/);
    expect(field('network_key')).toMatch(/^cpn_sandbox_/);
    expect(field('chain_key')).toMatch(/^cpc_sandbox_/);
    const names = ['api_base', 'business_id', 'api_key', 'webhook_secret', 'network_key', 'chain_key'];
    expect(JSON.parse((await readIfPresent(credentialsFile)) ?? 'null')).toEqual(Object.fromEntries(names.map((name) => [name, field(name)])));

    const response = await fetch(`http://localhost:${port}/v1/balances`, { headers: { authorization: `Bearer ${field('api_key')}` } });
    expect(response.status).toBe(200);
    const deposit = await fetch(`http://localhost:${port}/network/deposits`, { method: 'POST', headers: { authorization: `Bearer ${field('chain_key')}` }, body: '{}' });
    expect(deposit.status).toBe(400);

    const dynamoDbPort = Number(/DynamoDB Local\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
    const javaPids = dynamoDbLocalPids(dynamoDbPort);
    expect(javaPids).toHaveLength(1);

    process.kill(-(child.pid as number), 'SIGINT');
    await exited;
    await vi.waitFor(() => expect(javaPids.filter(isAlive)).toEqual([]), { timeout: 15_000, interval: 100 });
    expect(await readIfPresent(credentialsFile)).toBe(before);
  }, 120_000);

  it.each(['SIGTERM', 'SIGINT'] as const)('stops the server and DynamoDB Local when %s is sent to the npm process alone (not its group)', async (signal) => {
    const before = await readIfPresent(credentialsFile);
    const { child, exited } = await startStack();
    const tree = descendants(child.pid as number);
    expect(tree.map(commandOf).filter((command) => command.includes('DynamoDBLocal.jar'))).not.toEqual([]);
    expect(tree.map(commandOf).filter((command) => command.includes('infra/local/start.ts'))).not.toEqual([]);

    process.kill(child.pid as number, signal);
    await exited;
    await vi.waitFor(() => expect(tree.filter(isAlive).map((pid) => `${pid} ${commandOf(pid)}`)).toEqual([]), { timeout: 10_000, interval: 100 });
    expect(await readIfPresent(credentialsFile)).toBe(before);
  }, 120_000);

  it('stops DynamoDB Local when the Node process is killed outright (SIGKILL: no handler runs)', async () => {
    const [credentialsBefore, stackBefore] = [await readIfPresent(credentialsFile), await readIfPresent(stackFile)];
    try {
      const { child } = await startStack();
      const tree = descendants(child.pid as number);
      const node = tree.find((pid) => commandOf(pid).includes('infra/local/start.ts'));
      const javas = tree.filter((pid) => commandOf(pid).includes('DynamoDBLocal.jar') && /^\S*java /.test(commandOf(pid)));
      expect(node).toBeDefined();
      expect(javas).toHaveLength(1);

      process.kill(node as number, 'SIGKILL');
      await vi.waitFor(() => expect(javas.filter(isAlive)).toEqual([]), { timeout: 10_000, interval: 100 });
    } finally {
      // A SIGKILLed stack cannot take back what it published: do it for it.
      await restore(credentialsFile, credentialsBefore);
      await restore(stackFile, stackBefore);
    }
  }, 120_000);

  it('says in one line that Java is needed when java is not on PATH, and exits non-zero', async () => {
    // A PATH with node and nothing else.
    const bin = await mkdtemp(join(tmpdir(), 'no-java-'));
    try {
      await symlink(process.execPath, join(bin, 'node'));
      const result = spawnSync(join(bin, 'node'), [join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), 'infra/local/start.ts', '--in-memory'], {
        cwd: repoRoot,
        env: { HOME: process.env.HOME ?? '/tmp', PATH: bin, PORT: '0' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.status).not.toBe(0);
      expect(result.stderr.trim()).toBe('The local stack needs Java 17+ (java not found on PATH)');
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });
});

async function restore(file: string, content: string | undefined): Promise<void> {
  if (content === undefined) await rm(file, { force: true });
  else await writeFile(file, content, { mode: 0o600 });
}
