/**
 * Authorization throughput and latency through the local HTTP stack, against the bare database
 * round trips of the same approvals on the same DynamoDB Local, in the same run.
 *
 * Target (the compass goals, issue 17): the API keeps at least 90 % of the bare baseline's
 * throughput and a p99 within 1.25x of the baseline's, at every concurrency and on both routes. A
 * missed target is reported, not fatal. The network route's baseline also claims the network's id
 * (bench/bare-authorization.ts): a route that must not approve a resent message twice pays that
 * write whatever its implementation.
 *
 * A third workload, the HTTP floor (bench/http-floor.ts), runs the baseline's database work behind
 * a bare `node:http` server on the API's thread: what being an HTTP service at all costs on this
 * machine. It is not a target; it splits a miss into HTTP's share (floor/bare) and the API's own
 * pipeline's (api/floor).
 *
 * Method:
 * - one business, funded far beyond what the run spends, with many B2B cards (limits off,
 *   spending controls on at both levels: the approve path's budget holds with them), so
 *   concurrent approvals hit different spend counters (the business balance is shared, as in
 *   production); one scenario puts every request on a single hot card;
 * - closed loops at each concurrency; the API, the floor and the baseline take turns in a balanced
 *   order (each in every position equally often), so a drift of DynamoDB Local over the run (its
 *   table grows by three items per approval) weighs on all three equally;
 * - the load generator runs in its own thread (bench/authorizations-worker.ts) for both workloads;
 * - the stack's stream, queue and schedule pollers are paused during the section: in AWS the
 *   dispatcher, the deliveries and the sweepers (whose runs query every shard of their indexes)
 *   run in their own Lambdas, while here they would share the API's event loop (and not the
 *   baseline's).
 */
import { Worker } from 'node:worker_threads';
import type { BenchCard, Command, InitCommand, RunCommand, Workload } from './authorizations-worker.ts';
import type { Segment } from './support/closed-loop.ts';
import { cpuBetween, cpuSnapshot, findDynamoDbLocalPid, type CpuUsage } from './support/cpu.ts';
import type { BenchContext, BenchSection } from './support/section.ts';
import { summarize, type RunSummary } from './support/stats.ts';
import { fixed, formatTable } from './support/table.ts';
import { partnerCall } from './support/partner-call.ts';
import { businessTimezone } from './bare-authorization.ts';
import { startHttpFloor } from './http-floor.ts';

const TARGET = { throughputRatio: 0.9, p99Ratio: 1.25 };
const CARD_COUNT = 128;
/** The daily count is on (its condition is in every approval) yet never reached by a run, even on the hot card. */
const BENCH_DAILY_COUNT = 100_000;
const AMOUNT = '1.00';
const AMOUNT_MINOR = '100';
/** Far more than any run can hold at 1.00 per approval. */
const FUNDING = '100000000';
/** Discarded at the start of every segment (the closed loop's ramp-up after switching workloads). */
export const SEGMENT_WARMUP_MS = 200;
/**
 * The order of a scenario's segments: the six orders of the three sides in turn (a Williams
 * design), so each side gets the same share of early and late slots and follows each other side
 * equally often, and a change of the machine's load mid-scenario (other processes, DynamoDB
 * Local's growing table) weighs on all alike.
 */
const ORDER = [
  ...['bare', 'floor', 'api'],
  ...['floor', 'api', 'bare'],
  ...['api', 'bare', 'floor'],
  ...['api', 'floor', 'bare'],
  ...['floor', 'bare', 'api'],
  ...['bare', 'api', 'floor'],
] as const;
const SIDES = ['bare', 'floor', 'api'] as const;
type Side = (typeof SIDES)[number];
/** Other processes using more of the machine than this make a scenario's comparison unreliable. */
const NOISY_OTHERS_PERCENT = 15;
export const MAX_REQUESTS_PER_SEGMENT = 50_000;

interface Scenario {
  label: string;
  workload: Exclude<Workload, 'bare' | 'bare-network'>;
  cards: 'all' | 'hot';
  concurrency: number;
}

/** CPU time per request, µs, over a workload's segments. */
export interface CpuPerRequest {
  /** The main thread: the API's HTTP server, authorizer cache, handlers and their SDK calls (nothing, for the baseline). */
  mainThread?: number;
  /** The load generator's thread: the HTTP client (API), or the SDK calls themselves (baseline). */
  loadThread?: number;
  /** This whole process: the main thread, the load generator thread, GC and libuv helpers. */
  node?: number;
  dynamodbLocal?: number;
  /** Everything else running on the machine meanwhile (not caused by the benchmark). */
  otherProcesses?: number;
  /** Busy share of all the machine's CPUs during the segments, %. */
  machineBusyPercent?: number;
  /** Share of all the machine's CPUs used by other processes during the segments, %. */
  otherProcessesPercent?: number;
}

export interface ScenarioResult {
  label: string;
  route: string;
  cards: number;
  concurrency: number;
  api: RunSummary & { cpuPerRequestUs: CpuPerRequest };
  bare: RunSummary & { cpuPerRequestUs: CpuPerRequest };
  /** The HTTP floor: the baseline's database work behind a bare HTTP server (not a target). */
  floor: RunSummary & { cpuPerRequestUs: CpuPerRequest };
  throughputRatio: number;
  p99Ratio: number;
  /** floor/bare throughput: what HTTP alone costs; api/floor: what the API's pipeline costs on top. */
  floorRatios: { floorToBare: number; apiToFloor: number; floorP99ToBare: number };
  met: { throughput: boolean; p99: boolean };
  failures: string[];
}

export const authorizationsSection: BenchSection = {
  name: 'authorizations',
  title: 'Authorization engine: API vs bare DynamoDB Local',
  async run(context) {
    const { stack, options, say } = context;
    say(`setting up: a business, ${CARD_COUNT} B2B cards (limits off), funding ${FUNDING} USD`);
    const fixture = await createFixture(context);

    const scenarios: Scenario[] = [
      ...options.concurrency.map((concurrency) => ({ label: 'simulate', workload: 'api-simulate' as const, cards: 'all' as const, concurrency })),
      { label: 'simulate, 1 hot card', workload: 'api-simulate', cards: 'hot', concurrency: 16 },
      { label: 'network', workload: 'api-network', cards: 'all', concurrency: 16 },
    ];
    const segmentMs = Math.max(250, Math.round((options.seconds * 1000) / (ORDER.length / SIDES.length)));

    await stack.pollers.stream.stop();
    await stack.pollers.queue.stop();
    await stack.pollers.schedule.stop();
    const floor = await startHttpFloor(await businessTimezone(fixture.businessId), BigInt(AMOUNT_MINOR));
    const worker = await LoadWorker.start();
    try {
      const { threadId: loadThreadId } = await worker.init(stack, fixture, Math.max(...scenarios.map((scenario) => scenario.concurrency)), floor.base);

      // Warms the JIT of both processes, loads the handlers and fills the per-container caches
      // (authorizer policy, business timezone, every card number's index entry).
      say('warming up');
      const warm = (workload: Workload, durationMs: number) =>
        worker.run({ kind: 'run', workload, cards: 'all', concurrency: 8, warmupMs: 0, durationMs, maxRequests: MAX_REQUESTS_PER_SEGMENT });
      await warm('api-simulate', 2000);
      await warm('api-network', 1500);
      await warm('bare', 2000);
      await warm('bare-network', 1000);
      await warm('floor', 1500);
      await warm('floor-network', 1000);

      const dynamodbLocalPid = findDynamoDbLocalPid(Number(new URL(stack.endpoints.dynamodb).port));
      const results: ScenarioResult[] = [];
      for (const scenario of scenarios) {
        say(`measuring ${scenario.label} at concurrency ${scenario.concurrency} (${(ORDER.length * (segmentMs + SEGMENT_WARMUP_MS)) / 1000} s)`);
        const measured: Record<Side, Measured[]> = { api: [], bare: [], floor: [] };
        for (const side of ORDER) {
          const before = cpuSnapshot(dynamodbLocalPid, loadThreadId);
          const segment = await worker.run({
            kind: 'run',
            workload: workloadOf(side, scenario),
            cards: scenario.cards,
            concurrency: scenario.concurrency,
            warmupMs: SEGMENT_WARMUP_MS,
            durationMs: segmentMs,
            maxRequests: MAX_REQUESTS_PER_SEGMENT,
          });
          measured[side].push({ segment, cpu: cpuBetween(before, cpuSnapshot(dynamodbLocalPid, loadThreadId)) });
        }
        results.push(compare(scenario, measured));
      }

      say('');
      say(report(results));
      return {
        target: TARGET,
        method: {
          amount: `${AMOUNT} USD per approval`,
          cards: CARD_COUNT,
          measuredSecondsPerWorkload: ((ORDER.length / SIDES.length) * segmentMs) / 1000,
          order: ORDER.join(', '),
          baseline: 'GetItem (consistent) of the card + commitApproval TransactWriteItems (10 items), same document client config',
          floor: 'the baseline behind a bare node:http server on the API thread (bench/http-floor.ts)',
          pollers: 'paused during the section',
          logLevel: process.env.POWERTOOLS_LOG_LEVEL ?? 'default',
        },
        scenarios: results,
      };
    } finally {
      await worker.close();
      await floor.close();
      stack.pollers.stream.start();
      stack.pollers.queue.start();
      stack.pollers.schedule.start();
    }
  },
};

/** A funded business with `CARD_COUNT` B2B cards (limits off) and their numbers (other sections use it too). */
type Fixture = { businessId: string; apiKey: string; cards: BenchCard[] };

export async function createFixture({ stack, say }: BenchContext): Promise<Fixture> {
  // The operator's way of creating a business (as `npm run admin -- create-business` does): the
  // stack has already pointed this process's configuration at its table and key file.
  const { createBusiness } = await import('../shared/services/businesses.ts');
  const business = await createBusiness({ name: 'Bench business' });
  const call = partnerCall(stack.apiBase, business.api_key);
  await call('POST', '/v1/simulate/topups', { currency: 'USD', amount: FUNDING });
  // Controls that the bench merchant passes, so every request is still an approval.
  await call('PUT', '/v1/controls', { blocked_countries: ['KP'], blocked_mccs: ['7995'] });
  const cards: BenchCard[] = [];
  await inBatches(CARD_COUNT, 8, async () => {
    const controls = { blocked_mccs: ['7995'], blocked_countries: ['KP'], max_daily_count: BENCH_DAILY_COUNT };
    const card = await call('POST', '/v1/cards', { mode: 'B2B', currency: 'USD', nickname: 'bench', controls });
    const full = await call('GET', `/v1/cards/${String(card.id)}/full`);
    cards.push({ id: String(card.id), number: String(full.card_number) });
  });
  say(`  business ${business.business_id}, ${cards.length} cards`);
  return { businessId: business.business_id, apiKey: business.api_key, cards };
}

async function inBatches(count: number, parallel: number, task: () => Promise<void>): Promise<void> {
  let remaining = count;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (remaining > 0) {
        remaining--;
        await task();
      }
    }),
  );
}

interface Measured {
  segment: Segment;
  cpu: CpuUsage;
}

/**
 * What a side runs in a scenario: the API's route, or the baseline's database work its route must
 * do (the network route's also claims the network's id), bare or behind the floor's server.
 */
function workloadOf(side: Side, scenario: Scenario): Workload {
  const network = scenario.workload === 'api-network';
  if (side === 'bare') return network ? 'bare-network' : 'bare';
  if (side === 'floor') return network ? 'floor-network' : 'floor';
  return scenario.workload;
}

function compare(scenario: Scenario, measured: Record<Side, Measured[]>): ScenarioResult {
  const side = (runs: Measured[]) => ({ ...summarize(runs.map((run) => run.segment)), cpuPerRequestUs: cpuPerRequest(runs) });
  const api = side(measured.api);
  const bare = side(measured.bare);
  const floor = side(measured.floor);
  const throughputRatio = api.requestsPerSecond / bare.requestsPerSecond;
  const p99Ratio = api.latencyMs.p99 / bare.latencyMs.p99;
  return {
    label: scenario.label,
    route: scenario.workload === 'api-network' ? 'POST /network/authorizations' : 'POST /v1/simulate/authorizations',
    cards: scenario.cards === 'hot' ? 1 : CARD_COUNT,
    concurrency: scenario.concurrency,
    api,
    bare,
    floor,
    throughputRatio,
    p99Ratio,
    floorRatios: {
      floorToBare: floor.requestsPerSecond / bare.requestsPerSecond,
      apiToFloor: api.requestsPerSecond / floor.requestsPerSecond,
      floorP99ToBare: floor.latencyMs.p99 / bare.latencyMs.p99,
    },
    met: { throughput: throughputRatio >= TARGET.throughputRatio, p99: p99Ratio <= TARGET.p99Ratio },
    failures: SIDES.flatMap((name) => measured[name].flatMap((run) => run.segment.failures)),
  };
}

function cpuPerRequest(runs: Measured[]): CpuPerRequest {
  const requests = runs.reduce((sum, run) => sum + run.segment.requests, 0);
  const total = (key: keyof CpuUsage) => {
    let sum = 0;
    for (const run of runs) {
      const value = run.cpu[key];
      if (value === undefined) return undefined;
      sum += value;
    }
    return sum;
  };
  const perRequest = (ms: number | undefined) => (ms === undefined || requests === 0 ? undefined : (ms * 1000) / requests);
  const node = total('process');
  const java = total('dynamodbLocal');
  const busy = total('machineBusy');
  const machine = total('machineTotal');
  const others = busy === undefined || node === undefined || java === undefined ? undefined : Math.max(0, busy - node - java);
  return {
    mainThread: perRequest(total('mainThread')),
    loadThread: perRequest(total('loadThread')),
    node: perRequest(node),
    dynamodbLocal: perRequest(java),
    otherProcesses: perRequest(others),
    machineBusyPercent: busy === undefined || !machine ? undefined : (100 * busy) / machine,
    otherProcessesPercent: others === undefined || !machine ? undefined : (100 * others) / machine,
  };
}

function othersPercent(result: ScenarioResult): string {
  const values = SIDES.map((side) => result[side].cpuPerRequestUs.otherProcessesPercent);
  if (values.some((value) => value === undefined)) return '-';
  const worst = Math.max(...(values as number[]));
  return `${fixed(worst, 0)}%${worst > NOISY_OTHERS_PERCENT ? '*' : ''}`;
}

function report(results: ScenarioResult[]): string {
  const ms = (value: number) => `${fixed(value, 1)} ms`;
  const rows = results.map((result) => [
    result.label,
    String(result.concurrency),
    fixed(result.api.requestsPerSecond, 0),
    ms(result.api.latencyMs.p50),
    ms(result.api.latencyMs.p99),
    fixed(result.bare.requestsPerSecond, 0),
    ms(result.bare.latencyMs.p50),
    ms(result.bare.latencyMs.p99),
    fixed(result.throughputRatio, 2),
    fixed(result.p99Ratio, 2),
    fixed(result.floor.requestsPerSecond, 0),
    ms(result.floor.latencyMs.p99),
    fixed(result.floorRatios.floorToBare, 2),
    fixed(result.floorRatios.apiToFloor, 2),
    othersPercent(result),
    result.met.throughput && result.met.p99 ? 'met' : `MISSED (${[!result.met.throughput && 'throughput', !result.met.p99 && 'p99'].filter(Boolean).join(', ')})`,
  ]);
  const lines = [
    formatTable(
      ['scenario', 'conc', 'api req/s', 'api p50', 'api p99', 'bare req/s', 'bare p50', 'bare p99', 'thr ratio', 'p99 ratio', 'floor req/s', 'floor p99', 'floor/bare', 'api/floor', 'others', 'target'],
      rows,
    ),
    '',
    `target: throughput ratio (api/bare) >= ${TARGET.throughputRatio} and p99 ratio (api/bare) <= ${TARGET.p99Ratio}`,
    'floor: the bare database work behind a bare node:http server (not a target); floor/bare is what HTTP alone costs, api/floor what the',
    "API's own pipeline (gateway emulation, authorizer cache, middleware, validation, decision) costs on top",
    `others: share of the machine's CPUs used by other processes meanwhile; above ${NOISY_OTHERS_PERCENT}% (*) the comparison is unreliable`,
  ];
  const met = results.filter((result) => result.met.throughput && result.met.p99).length;
  lines.push(met === results.length ? `all ${results.length} scenarios meet the target` : `TARGET MISSED in ${results.length - met} of ${results.length} scenarios`);
  const us = (value: number | undefined) => (value === undefined ? '-' : fixed(value, 0));
  lines.push(
    '',
    'CPU per approval, µs, over every segment (10 ms ticks): main = the API or the floor (server, handler, its SDK calls); load = the load',
    'generator (the HTTP client for the API and the floor; the SDK calls themselves for the baseline); node = this whole process;',
    'ddb = DynamoDB Local; other = the rest of the machine, not the benchmark.',
    formatTable(
      ['scenario', 'conc', 'api main', 'api load', 'api node', 'api ddb', 'api other', 'floor main', 'floor node', 'floor ddb', 'bare load', 'bare node', 'bare ddb', 'bare other'],
      results.map((result) => {
        const api = result.api.cpuPerRequestUs;
        const floor = result.floor.cpuPerRequestUs;
        const bare = result.bare.cpuPerRequestUs;
        return [
          result.label,
          String(result.concurrency),
          us(api.mainThread),
          us(api.loadThread),
          us(api.node),
          us(api.dynamodbLocal),
          us(api.otherProcesses),
          us(floor.mainThread),
          us(floor.node),
          us(floor.dynamodbLocal),
          us(bare.loadThread),
          us(bare.node),
          us(bare.dynamodbLocal),
          us(bare.otherProcesses),
        ];
      }),
    ),
  );
  const failed = results.filter((result) => result.api.failed + result.bare.failed + result.floor.failed > 0);
  for (const result of failed) {
    lines.push(
      `  ${result.label} @${result.concurrency}: ${result.api.failed} api, ${result.floor.failed} floor and ${result.bare.failed} bare requests failed: ${result.failures.join(' | ')}`,
    );
  }
  return lines.join('\n');
}

/** The load generator thread, with a promise per command. */
export class LoadWorker {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: { id: number; result?: unknown; error?: string }) => {
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error !== undefined) waiting?.reject(new Error(`load worker: ${message.error}`));
      else waiting?.resolve(message.result);
    });
    worker.on('error', (error) => {
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    });
  }

  /** Starts the thread with this process's environment as it is now (the stack's). */
  static async start(): Promise<LoadWorker> {
    const worker = new Worker(new URL('./authorizations-worker.ts', import.meta.url), { env: { ...process.env } });
    await new Promise<void>((resolve, reject) => {
      worker.once('online', resolve);
      worker.once('error', reject);
    });
    return new LoadWorker(worker);
  }

  /** Points the thread at the stack and the fixture's cards; answers the thread's id. */
  async init(stack: BenchContext['stack'], fixture: Fixture, maxConcurrency: number, floorBase?: string): Promise<{ threadId: number | undefined }> {
    const command: InitCommand = {
      kind: 'init',
      apiBase: stack.apiBase,
      ...(floorBase === undefined ? {} : { floorBase }),
      apiKey: fixture.apiKey,
      networkKey: stack.credentials.network_key,
      businessId: fixture.businessId,
      cards: fixture.cards,
      amount: AMOUNT,
      amountMinor: AMOUNT_MINOR,
      maxConcurrency,
    };
    return (await this.call(command)) as { threadId: number | undefined };
  }

  call(command: Command): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, command });
    });
  }

  run(command: RunCommand): Promise<Segment> {
    return this.call(command) as Promise<Segment>;
  }

  async close(): Promise<void> {
    await this.call({ kind: 'close' }).catch(() => undefined);
    await this.worker.terminate();
  }
}
