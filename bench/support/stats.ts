/**
 * Latency and throughput summaries of a closed-loop run. Percentiles are nearest-rank over every
 * sample (no histogram buckets): a few thousand samples per run sort in well under a millisecond.
 */

/** What one run of one workload measured. */
export interface RunSummary {
  /** Successful requests answered inside the measured windows. */
  completed: number;
  /** Latency samples: successful requests sent inside the windows. */
  sampled: number;
  /** Requests that failed or answered something else (they count in no latency). */
  failed: number;
  /** Length of the measured window, seconds. */
  seconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
}

/** Nearest-rank percentile of ascending `sorted` (q in 0..100). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((q / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** Pools several measured segments of the same workload: throughput over their windows, latency over all samples. */
export function summarize(segments: { latenciesMs: ArrayLike<number>; completed: number; failed: number; seconds: number }[]): RunSummary {
  const total = segments.reduce((sum, segment) => sum + segment.latenciesMs.length, 0);
  const all = new Float64Array(total);
  let offset = 0;
  for (const segment of segments) {
    all.set(segment.latenciesMs, offset);
    offset += segment.latenciesMs.length;
  }
  all.sort();
  const seconds = segments.reduce((sum, segment) => sum + segment.seconds, 0);
  const completed = segments.reduce((sum, segment) => sum + segment.completed, 0);
  const mean = total === 0 ? Number.NaN : all.reduce((sum, value) => sum + value, 0) / total;
  return {
    completed,
    sampled: total,
    failed: segments.reduce((sum, segment) => sum + segment.failed, 0),
    seconds,
    requestsPerSecond: seconds > 0 ? completed / seconds : 0,
    latencyMs: {
      p50: percentile(all, 50),
      p90: percentile(all, 90),
      p99: percentile(all, 99),
      max: total === 0 ? Number.NaN : (all[total - 1] as number),
      mean,
    },
  };
}
