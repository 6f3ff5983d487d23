/**
 * DynamoDB Local (AWS's own emulator, a Java program) as a child process.
 *
 * The jar ships in the npm package `amplify-dynamodb-simulator`; it is launched directly rather
 * than through that package's wrapper, to control the port, the data directory and the lifetime.
 *
 * Lifetime: Java is started under a tiny `sh` watchdog in its own process group. A normal stop
 * signals the group. The watchdog also holds the read end of a pipe whose only writer is this Node
 * process: when Node exits in any way (SIGKILL and crashes included) the kernel closes the pipe, the
 * watchdog's `read` returns and it stops Java, so no orphaned JVM keeps a port and half a gigabyte of
 * memory. (A pipe, not polling the parent's pid: no delay, and no reused pid to be fooled by.)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { freePort } from './free-port.ts';

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  /** The Java process id (for diagnostics and tests that check nothing is left running). */
  javaPid: number | undefined;
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** Directory of the database file; omitted means `-inMemory`. */
  dbPath?: string;
  /** Working directory of the JVM (DynamoDB Local writes a metadata file there). */
  workDir: string;
  /** Credentials and region the readiness probe signs with (any value works with `-sharedDb`). */
  clientConfig: { region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
}

/** Thrown when Java is missing or too old; its message is the one line to show the developer. */
export class JavaUnavailableError extends Error {}

const MIN_JAVA = 17;

/** Fails fast, with one clear line, when the machine cannot run DynamoDB Local. */
export function assertJavaAvailable(): void {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (result.error) {
    throw new JavaUnavailableError(`The local stack needs Java ${MIN_JAVA}+ (java not found on PATH)`);
  }
  // `openjdk version "17.0.15"`, `java version "1.8.0_392"`
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr}${result.stdout}`);
  if (match) {
    const major = match[1] === '1' ? Number(match[2]) : Number(match[1]);
    if (major < MIN_JAVA) throw new JavaUnavailableError(`The local stack needs Java ${MIN_JAVA}+ (found Java ${major})`);
  }
}

/** Where the emulator's jar is, wherever npm put the package. */
export function emulatorDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
}

// Runs "$@" (Java) in the background with stdin from /dev/null, forwards TERM/INT/HUP to it, and
// stops it when its own stdin (the pipe from Node) reaches end of file. The reader is a background
// subshell so that the shell itself waits on Java and exits with it; the pipe is passed to it as fd
// 3 because an asynchronous list's stdin is /dev/null when job control is off (POSIX).
const WATCHDOG = `
exec 3<&0 </dev/null
"$@" 3<&- &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP
{ read _ <&3; kill -TERM "$child" 2>/dev/null; } &
reader=$!
exec 3<&-
status=0
while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done
kill "$reader" 2>/dev/null
exit "$status"
`;

export async function startDynamoDbLocal(options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  assertJavaAvailable();
  await mkdir(options.workDir, { recursive: true });
  if (options.dbPath) await mkdir(options.dbPath, { recursive: true });

  // The port is probed, then handed to Java: another process can take it in between, so retry.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await launch(port, options);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function launch(port: number, options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  const emulator = emulatorDir();
  const javaArgs = [
    `-Djava.library.path=${join(emulator, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(emulator, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
    ...(options.dbPath ? ['-dbPath', options.dbPath] : ['-inMemory']),
  ];
  const child = spawn('sh', ['-c', WATCHDOG, 'dynamodb-local-watchdog', 'java', ...javaArgs], {
    cwd: options.workDir,
    detached: true,
    // stdin: the watchdog's lifeline, never written to; closed by the kernel when this process ends.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin?.on('error', () => {});
  const output: string[] = [];
  const remember = (chunk: Buffer) => {
    output.push(chunk.toString('utf8'));
    if (output.length > 50) output.shift();
  };
  child.stdout?.on('data', remember);
  child.stderr?.on('data', remember);

  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => {
    exited = true;
  });
  // Last resort on any exit of this process, including an uncaught error: no orphaned JVM.
  const killOnExit = () => killGroup(child, 'SIGKILL');
  process.on('exit', killOnExit);

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ ...options.clientConfig, endpoint, maxAttempts: 1 });
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (exited) throw new Error(`DynamoDB Local exited during start:\n${output.join('')}`);
      if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer on port ${port} within 60 s:\n${output.join('')}`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (error) {
    killGroup(child, 'SIGKILL');
    await exitedPromise;
    process.off('exit', killOnExit);
    throw error;
  } finally {
    client.destroy();
  }

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    port,
    javaPid: javaPidOf(child.pid),
    stop() {
      stopping ??= (async () => {
        if (!exited) {
          killGroup(child, 'SIGTERM');
          const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5_000);
          await exitedPromise;
          clearTimeout(timer);
        }
        process.off('exit', killOnExit);
      })();
      return stopping;
    },
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** The JVM is the watchdog shell's only `java` child. */
function javaPidOf(shellPid: number | undefined): number | undefined {
  if (shellPid === undefined) return undefined;
  const result = spawnSync('pgrep', ['-P', String(shellPid), '-x', 'java'], { encoding: 'utf8' });
  const pid = Number(result.stdout?.trim().split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
