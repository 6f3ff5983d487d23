/**
 * Captures everything the structured logger writes (stdout and stderr) at DEBUG while a test runs,
 * for the specs that prove no secret is ever logged. Call it at the top of a test file; the
 * returned array is emptied before each test.
 */
import { afterEach, beforeEach, vi } from 'vitest';
import { logger } from '../../shared/logger.ts';

export function captureLogs(): string[] {
  const captured: string[] = [];
  beforeEach(() => {
    captured.length = 0;
    startCapture(captured);
  });
  afterEach(stopCapture);
  return captured;
}

/** Everything the logger writes (at DEBUG) while `run` runs: for one spec of a file that otherwise logs nothing. */
export async function logsWhile(run: () => Promise<unknown>): Promise<string> {
  const captured: string[] = [];
  startCapture(captured);
  try {
    await run();
  } finally {
    stopCapture();
  }
  return captured.join('');
}

function startCapture(captured: string[]): void {
  const capture = (chunk: unknown) => {
    captured.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  logger.setLogLevel('DEBUG');
  // The wrappers' `injectLambdaContext` puts the level back to its cold-start value (SILENT in unit
  // tests) at each invocation after the first, to redraw debug sampling: held at DEBUG here.
  vi.spyOn(logger, 'refreshSampleRateCalculation').mockImplementation(() => undefined);
}

function stopCapture(): void {
  vi.restoreAllMocks();
  logger.setLogLevel('SILENT');
}
