/**
 * CPU time accounting for a benchmark run (Linux `/proc`; elsewhere every figure is absent):
 * this process's main thread, the load generator's thread, this whole process (libuv pool and GC
 * helpers included), the DynamoDB Local JVM, and everything else on the machine. On a small
 * machine the API and DynamoDB Local share the cores, so CPU per request says where time goes.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface CpuSnapshot {
  /** ms of CPU, or undefined when not measurable here. */
  mainThread?: number;
  /** The load generator's thread. */
  loadThread?: number;
  process?: number;
  dynamodbLocal?: number;
  /** Every CPU of the machine: busy and total ms. */
  machineBusy?: number;
  machineTotal?: number;
}

/** CPU ms spent between two snapshots; undefined where not measurable. */
export interface CpuUsage {
  mainThread: number | undefined;
  loadThread: number | undefined;
  process: number | undefined;
  dynamodbLocal: number | undefined;
  machineBusy: number | undefined;
  machineTotal: number | undefined;
}

/** Clock ticks per second of `/proc` times: 100 on every Linux this runs on (USER_HZ). */
const TICK_MS = 10;

/** The JVM serving `port` (DynamoDB Local's command line carries `-port <port>`), if any. */
export function findDynamoDbLocalPid(port: number): number | undefined {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let commandLine: string;
      try {
        commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      const args = commandLine.split('\0');
      // The JVM itself, not the shell watchdog that launched it with the same arguments.
      if (!/(^|\/)java$/.test(args[0] ?? '') || !args.some((arg) => arg.endsWith('DynamoDBLocal.jar'))) continue;
      const portAt = args.indexOf('-port');
      if (portAt >= 0 && args[portAt + 1] === String(port)) return Number(entry);
    }
  } catch {
    // Not Linux: no accounting.
  }
  return undefined;
}

/** This thread's kernel thread id (a worker thread reports it so its parent can account for it). */
export function currentThreadId(): number | undefined {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return undefined;
  }
}

export function cpuSnapshot(dynamodbLocalPid: number | undefined, loadThreadId?: number): CpuSnapshot {
  const snapshot: CpuSnapshot = {
    mainThread: statTime(`/proc/self/task/${process.pid}/stat`),
    loadThread: loadThreadId === undefined ? undefined : statTime(`/proc/self/task/${loadThreadId}/stat`),
    process: statTime('/proc/self/stat'),
    dynamodbLocal: dynamodbLocalPid === undefined ? undefined : statTime(`/proc/${dynamodbLocalPid}/stat`),
    ...machineTimes(),
  };
  return snapshot;
}

/** CPU ms spent between two snapshots. */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): CpuUsage {
  const diff = (key: keyof CpuSnapshot): number | undefined => {
    const [from, to] = [before[key], after[key]];
    return from === undefined || to === undefined ? undefined : to - from;
  };
  return { mainThread: diff('mainThread'), loadThread: diff('loadThread'), process: diff('process'), dynamodbLocal: diff('dynamodbLocal'), machineBusy: diff('machineBusy'), machineTotal: diff('machineTotal') };
}

/** utime + stime of a `/proc/.../stat` line, ms. */
function statTime(path: string): number | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    // The command name (field 2) may contain spaces; fields after its closing parenthesis are fixed.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

function machineTimes(): { machineBusy?: number; machineTotal?: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    const total = ticks.reduce((sum, value) => sum + value, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return { machineBusy: (total - idle) * TICK_MS, machineTotal: total * TICK_MS };
  } catch {
    return {};
  }
}
