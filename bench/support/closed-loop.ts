/**
 * A closed-loop load generator: `concurrency` lanes, each sending its next request as soon as the
 * previous one answered (what a pool of partner servers or a network gateway with a fixed number
 * of connections does). A short warm-up is run and discarded; then requests are timed for a fixed
 * window, bounded also in count so a very fast target cannot run away with memory.
 *
 * Throughput counts the successful completions inside the window (unbiased whatever the latency);
 * latency is recorded for every request sent inside the window, including those answered after it.
 */
import { performance } from 'node:perf_hooks';

export interface ClosedLoopOptions {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Upper bound on requests sent in the window, whatever the duration. */
  maxRequests: number;
}

export interface Segment {
  /** Latency of each successful request sent in the window, ms, in completion order. */
  latenciesMs: Float64Array;
  /** Successful requests answered inside the window. */
  completed: number;
  /** Requests sent in the window that failed or answered something unexpected. */
  failed: number;
  /** Length of the window, seconds (shorter than asked only if `maxRequests` ended it). */
  seconds: number;
  /** Every request the segment sent, warm-up included (for costs per request over the whole segment). */
  requests: number;
  /** A few distinct failure descriptions, to say what went wrong. */
  failures: string[];
}

/**
 * Runs `request(sequence)` in a closed loop. `request` resolves true when the answer is the one
 * expected (e.g. 201 Authorized); false or a throw counts as a failure.
 */
export async function closedLoop(options: ClosedLoopOptions, request: (sequence: number) => Promise<boolean>): Promise<Segment> {
  const latencies = new Float64Array(options.maxRequests);
  let measured = 0;
  let sentInWindow = 0;
  let completed = 0;
  let failed = 0;
  let sequence = 0;
  const failures = new Set<string>();
  const windowStart = performance.now() + options.warmupMs;
  let windowEnd = windowStart + options.durationMs;

  async function lane(): Promise<void> {
    for (;;) {
      const sent = performance.now();
      if (sent >= windowEnd) return;
      const inWindow = sent >= windowStart;
      if (inWindow) {
        if (sentInWindow >= options.maxRequests) {
          windowEnd = sent;
          return;
        }
        sentInWindow++;
      }
      let ok: boolean;
      try {
        ok = await request(sequence++);
      } catch (error) {
        ok = false;
        if (failures.size < 5) failures.add(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      }
      const answered = performance.now();
      if (ok && answered >= windowStart && answered < windowEnd) completed++;
      if (!inWindow) continue;
      if (ok) latencies[measured++] = answered - sent;
      else failed++;
    }
  }

  await Promise.all(Array.from({ length: options.concurrency }, lane));
  return {
    latenciesMs: latencies.slice(0, measured),
    completed,
    failed,
    seconds: (windowEnd - windowStart) / 1000,
    requests: sequence,
    failures: [...failures],
  };
}
