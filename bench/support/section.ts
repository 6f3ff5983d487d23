/**
 * A part of `npm run bench`. Sections run one after another against ONE local stack, each printing
 * its own report and returning a JSON-able result that `bench/run.ts` writes under `.bench/`.
 */
import type { LocalStack } from '../../infra/local/local-stack.ts';

export interface BenchOptions {
  /** Measured seconds per run of one workload (each workload runs more than once, interleaved). */
  seconds: number;
  /** Closed-loop concurrency levels. */
  concurrency: number[];
  /** Fresh Node processes per bundle in the cold-start section. */
  coldStartRuns?: number;
}

export interface BenchContext {
  stack: LocalStack;
  options: BenchOptions;
  /** A progress or report line on stdout. */
  say(line: string): void;
}

export interface BenchSection {
  /** Short id, for `--only` and as the key of the section's result in the JSON file. */
  name: string;
  title: string;
  run(context: BenchContext): Promise<unknown>;
}
