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
    const capture = (chunk: unknown) => {
      captured.push(String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    logger.setLogLevel('DEBUG');
  });
  afterEach(() => {
    vi.restoreAllMocks();
    logger.setLogLevel('SILENT');
  });
  return captured;
}
