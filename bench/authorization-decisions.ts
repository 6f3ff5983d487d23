/**
 * Real-time authorization decisions (issue 15): the network authorization route with the
 * business's authorization endpoint set, against the same route with none, in the same run.
 *
 * A local endpoint (an HTTP server in this process) answers `approved: true` at once, or after
 * 300 ms. Reported per workload: throughput, p50 and p99 of the network route, and the share of
 * stand-ins (calls the platform abandoned at the deadline: the endpoint saw the connection close
 * before it answered). The platform's own overhead is the route's time less the endpoint's: with
 * the 300 ms endpoint, `p99 - 300 ms` against the no-endpoint p99 (target: the authorization
 * section's p99 ratio, 1.25x), and with the immediate endpoint its throughput against the
 * no-endpoint throughput (target: the authorization section's 0.85). A miss is printed, not fatal.
 *
 * The endpoint's 5 s cache on the authorization path is waited out after each change, and the
 * workloads alternate (none, at once, 300 ms, 300 ms, at once, none) so drift weighs on each alike.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFixture, LoadWorker, MAX_REQUESTS_PER_SEGMENT, SEGMENT_WARMUP_MS } from './authorizations.ts';
import type { BenchSection } from './support/section.ts';
import { summarize, type RunSummary } from './support/stats.ts';
import { fixed, formatTable } from './support/table.ts';

const TARGET = { throughputRatio: 0.85, p99Ratio: 1.25 };
const CONCURRENCY = 16;
const SLOW_MS = 300;
const TIMEOUT_MS = 1500;
/** The authorization path caches the endpoint this long (shared/services/authorization-endpoint.ts). */
const ENDPOINT_CACHE_WAIT_MS = 5_200;
const ORDER = ['none', 'immediate', 'slow', 'slow', 'immediate', 'none'] as const;
type Mode = (typeof ORDER)[number];

interface ModeResult extends RunSummary {
  asked: number;
  standIns: number;
  standInShare: number;
}

export const authorizationDecisionsSection: BenchSection = {
  name: 'authorization-decisions',
  title: 'Real-time decisions: the network route with an authorization endpoint',
  async run(context) {
    const { stack, options, say } = context;
    const endpoint = await startEndpoint();
    say('setting up: a business with cards, and a local authorization endpoint');
    const fixture = await createFixture(context);
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${stack.apiBase}${path}`, {
        method,
        headers: { authorization: `Bearer ${fixture.apiKey}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (response.status >= 300 && response.status !== 404) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
    };
    const segmentMs = Math.max(500, Math.round((options.seconds * 1000) / 2));

    await stack.pollers.stream.stop();
    await stack.pollers.queue.stop();
    await stack.pollers.schedule.stop();
    const worker = await LoadWorker.start();
    try {
      await worker.init(stack, fixture, CONCURRENCY);
      say('warming up');
      await worker.run({ kind: 'run', workload: 'api-network', cards: 'all', concurrency: 8, warmupMs: 0, durationMs: 2000, maxRequests: MAX_REQUESTS_PER_SEGMENT });

      const segments: Record<Mode, Parameters<typeof summarize>[0]> = { none: [], immediate: [], slow: [] };
      const counts: Record<Mode, { asked: number; standIns: number }> = { none: { asked: 0, standIns: 0 }, immediate: { asked: 0, standIns: 0 }, slow: { asked: 0, standIns: 0 } };
      let current: Mode | undefined;
      for (const mode of ORDER) {
        if (mode !== current) {
          if (mode === 'none') await call('DELETE', '/v1/authorization-endpoint');
          else await call('PUT', '/v1/authorization-endpoint', { url: endpoint.url, timeout_ms: TIMEOUT_MS, stand_in: 'decline' });
          endpoint.delayMs = mode === 'slow' ? SLOW_MS : 0;
          await new Promise((resolve) => setTimeout(resolve, ENDPOINT_CACHE_WAIT_MS));
          current = mode;
        }
        say(`measuring ${mode} (${segmentMs / 1000} s)`);
        const before = { ...endpoint.counts };
        segments[mode].push(
          await worker.run({ kind: 'run', workload: 'api-network', cards: 'all', concurrency: CONCURRENCY, warmupMs: SEGMENT_WARMUP_MS, durationMs: segmentMs, maxRequests: MAX_REQUESTS_PER_SEGMENT }),
        );
        counts[mode].asked += endpoint.counts.asked - before.asked;
        counts[mode].standIns += endpoint.counts.abandoned - before.abandoned;
      }

      const results = Object.fromEntries(
        (['none', 'immediate', 'slow'] as const).map((mode) => {
          const summary = summarize(segments[mode]);
          const { asked, standIns } = counts[mode];
          return [mode, { ...summary, asked, standIns, standInShare: asked ? standIns / asked : 0 }];
        }),
      ) as Record<Mode, ModeResult>;
      const throughputRatio = results.immediate.requestsPerSecond / results.none.requestsPerSecond;
      const overheadP99Ratio = (results.slow.latencyMs.p99 - SLOW_MS) / results.none.latencyMs.p99;
      const met = { throughput: throughputRatio >= TARGET.throughputRatio, p99: overheadP99Ratio <= TARGET.p99Ratio };

      say('');
      say(
        formatTable(
          ['endpoint', 'req/s', 'p50 ms', 'p99 ms', 'asked', 'stand-ins'],
          (['none', 'immediate', 'slow'] as const).map((mode) => [
            mode === 'slow' ? `answers after ${SLOW_MS} ms` : mode === 'immediate' ? 'answers at once' : 'none (platform alone)',
            fixed(results[mode].requestsPerSecond, 0),
            fixed(results[mode].latencyMs.p50, 1),
            fixed(results[mode].latencyMs.p99, 1),
            String(results[mode].asked),
            `${fixed(results[mode].standInShare * 100, 1)} %`,
          ]),
        ),
      );
      say(`throughput with an endpoint answering at once / without: ${fixed(throughputRatio, 2)} (target >= ${TARGET.throughputRatio})${met.throughput ? '' : '  MISSED'}`);
      say(`(p99 with the 300 ms endpoint - 300 ms) / p99 without: ${fixed(overheadP99Ratio, 2)} (target <= ${TARGET.p99Ratio})${met.p99 ? '' : '  MISSED'}`);
      return { target: TARGET, concurrency: CONCURRENCY, timeoutMs: TIMEOUT_MS, slowMs: SLOW_MS, results, throughputRatio, overheadP99Ratio, met };
    } finally {
      await worker.close();
      await endpoint.close();
      stack.pollers.stream.start();
      stack.pollers.queue.start();
      stack.pollers.schedule.start();
    }
  },
};

/** The local authorization endpoint: approves everything, after `delayMs`; counts what the platform abandoned. */
async function startEndpoint() {
  const counts = { asked: 0, abandoned: 0 };
  const state = { delayMs: 0 };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      counts.asked++;
      const answer = () => {
        if (res.destroyed) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"approved":true}');
      };
      res.on('close', () => {
        if (!res.writableEnded) counts.abandoned++;
      });
      if (state.delayMs) setTimeout(answer, state.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/decide`;
  return {
    url,
    counts,
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(value: number) {
      state.delayMs = value;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
