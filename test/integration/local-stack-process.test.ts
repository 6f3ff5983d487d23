/**
 * `npm start` as a developer runs it: it prints the sandbox credentials, serves them, and Ctrl-C
 * leaves nothing running (DynamoDB Local is a JVM: an orphan would hold its port and memory).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
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
  it('prints the sandbox credentials, serves the API with them, and leaves no Java process after Ctrl-C', async () => {
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

    await vi.waitFor(() => expect(stdout, stderr).toMatch(/network_key\s+\S+/), { timeout: 90_000, interval: 200 });
    const field = (name: string) => new RegExp(`${name}\\s+(\\S+)`).exec(stdout)?.[1];
    expect(field('api_base')).toBe(`http://localhost:${port}`);
    expect(field('business_id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(field('webhook_secret')).toMatch(/^whsec_/);

    const response = await fetch(`http://localhost:${port}/v1/balances`, { headers: { authorization: `Bearer ${field('api_key')}` } });
    expect(response.status).toBe(200);

    const dynamoDbPort = Number(/DynamoDB Local\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
    const javaPids = dynamoDbLocalPids(dynamoDbPort);
    expect(javaPids).toHaveLength(1);

    process.kill(-(child.pid as number), 'SIGINT');
    await exited;
    await vi.waitFor(() => expect(javaPids.filter(isAlive)).toEqual([]), { timeout: 15_000, interval: 100 });
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
