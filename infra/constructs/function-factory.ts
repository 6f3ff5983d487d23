import type { Duration } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { Access } from '../../shared/routes.ts';
import type { PlatformFunction } from './platform-function.ts';

/** What a table row says about its function. */
export interface FunctionSpec {
  /** The module under `functions/` (no `.ts`), e.g. `users/create-user`. */
  handlerModule: string;
  description: string;
  timeout: Duration;
  access: Access;
  /** Concurrency set aside for (and capping) this function; none by default. */
  reservedConcurrency?: number;
}

/**
 * Builds a function for a row with the stack's shared settings (environment, bundling, logs key)
 * and grants it exactly the row's access. Constructs that own rows (API, consumers) call it.
 */
export type FunctionFactory = (scope: Construct, spec: FunctionSpec) => PlatformFunction;
