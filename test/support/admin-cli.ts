/**
 * `npm run admin` as an operator runs it against a local stack: the CLI finds the stack through
 * `.local/stack.json` in its working directory, so each workspace is a temporary directory holding
 * a `.local/stack.json` that points at the integration run's stack (and, when a spec needs one, a
 * `.local/credentials.json` as `npm start` writes it). Nothing touches the repository's own
 * `.local/`.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface AdminResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed, when it is the one JSON object a successful command prints. */
  // Commands print different shapes; specs assert on them.
  json: any;
}

export interface AdminWorkspace {
  /** `.local/credentials.json` of this workspace (written by `writeCredentials`). */
  credentialsFile: string;
  run(...args: string[]): Promise<AdminResult>;
  writeCredentials(credentials: Record<string, string>): Promise<void>;
  readCredentials(): Promise<Record<string, string>>;
  dispose(): Promise<void>;
}

export async function adminWorkspace(): Promise<AdminWorkspace> {
  const { apiBase, env } = inject('localStack');
  const dir = await mkdtemp(join(tmpdir(), 'admin-cli-'));
  const localDir = join(dir, '.local');
  await mkdir(localDir, { mode: 0o700 });
  await writeFile(join(localDir, 'stack.json'), JSON.stringify({ api_base: apiBase, env }), { mode: 0o600 });
  const credentialsFile = join(localDir, 'credentials.json');
  return {
    credentialsFile,
    run: (...args) => runCli(dir, args),
    writeCredentials: (credentials) => writeFile(credentialsFile, JSON.stringify(credentials, null, 2), { mode: 0o600 }),
    readCredentials: async () => JSON.parse(await readFile(credentialsFile, 'utf8')) as Record<string, string>,
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

function runCli(cwd: string, args: string[]): Promise<AdminResult> {
  // What `npm run admin` runs (tsx infra/admin/cli.ts), on this test's Node.
  const child = spawn(process.execPath, [join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), join(repoRoot, 'infra/admin/cli.ts'), ...args], {
    cwd,
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => {
      let json: unknown = null;
      try {
        json = JSON.parse(stdout);
      } catch {
        // A failed command prints nothing on stdout.
      }
      resolve({ exitCode, stdout, stderr, json });
    });
  });
}
