/**
 * `npm start`: the local stack in the foreground until Ctrl-C.
 *
 *   npm start                      data persists under .local/
 *   npm start -- --in-memory       keeps nothing
 *   PORT=4000 WEBHOOK_URL=http://localhost:9000/hooks npm start
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { JavaUnavailableError } from './dynamodb-local.ts';
import { startLocalStack, type LocalStack } from './local-stack.ts';
import { writeSandboxCredentials } from './sandbox-credentials.ts';

const { values } = parseArgs({ options: { 'in-memory': { type: 'boolean', default: false } } });
const inMemory = values['in-memory'] === true;
const port = process.env.PORT ? Number(process.env.PORT) : 3000;
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT must be a port number, not "${process.env.PORT}"`);

const starting = startLocalStack({ inMemory, port, webhookUrl: process.env.WEBHOOK_URL || undefined });
let stopping = false;

/** Ctrl-C (even during start) stops everything, DynamoDB Local's JVM included, then exits. */
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: stopping the local stack...\n`);
  const stack = await starting.catch(() => undefined);
  await stack?.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGHUP', () => void shutdown('SIGHUP'));

let stack: LocalStack;
try {
  stack = await starting;
} catch (error) {
  fail(error instanceof JavaUnavailableError ? error.message : `The local stack could not start: ${error instanceof Error ? error.message : String(error)}`);
}
if (stopping) await new Promise(() => {});

// `npm run admin` finds a running stack through .local/stack.json, and scripts find the sandbox
// credentials in .local/credentials.json; a persistent stack writes both in its data dir (.local/),
// an in-memory one keeps its data in a temp dir, so publish them here too, and take them away on
// exit: nothing of an in-memory stack outlives it.
const localDir = resolve('.local');
const credentialsFile = join(localDir, 'credentials.json');
if (inMemory) {
  const published = join(localDir, 'stack.json');
  mkdirSync(localDir, { recursive: true, mode: 0o700 });
  // A persistent stack's sandbox keys live in the same file and were shown only once: put them
  // back on exit instead of deleting them.
  const persistentCredentials = existsSync(credentialsFile) ? readFileSync(credentialsFile) : undefined;
  writeFileSync(published, `${JSON.stringify({ api_base: stack.apiBase, env: stack.env }, null, 2)}\n`, { mode: 0o600 });
  await writeSandboxCredentials(credentialsFile, stack.credentials);
  process.on('exit', () => {
    rmSync(published, { force: true });
    if (persistentCredentials) writeFileSync(credentialsFile, persistentCredentials, { mode: 0o600 });
    else rmSync(credentialsFile, { force: true });
  });
}

const c = stack.credentials;
process.stdout.write(
  [
    '',
    `Local stack ready (sandbox${inMemory ? ', in memory: nothing is kept' : `, data in ${stack.dataDir}`})`,
    `  api_base        ${c.api_base}`,
    `  business_id     ${c.business_id}`,
    `  api_key         ${c.api_key}`,
    `  webhook_secret  ${c.webhook_secret}`,
    `  network_key     ${c.network_key}`,
    `  chain_key       ${c.chain_key}`,
    inMemory ? `  (also in ${credentialsFile} until Ctrl-C)` : `  (also in ${join(stack.dataDir, 'credentials.json')})`,
    '',
    `  curl -H "Authorization: Bearer ${c.api_key}" ${c.api_base}/v1/balances`,
    '',
    'Ctrl-C to stop.',
    '',
  ].join('\n'),
);

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
