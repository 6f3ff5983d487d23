/**
 * The system under test, as a partner, the card network and the chain watcher see it: HTTP calls
 * against a local stack. Every POST carries an `Idempotency-Key`, and a `503` (retryable by
 * contract) is retried with the same key and body until it gets an answer, as a careful client
 * does; so is a `409 idempotency_request_in_progress` ("while the first is still running"), which a
 * faulted first attempt can leave for the length of its lease when even releasing its claim
 * failed. So each command ends with the platform's one true answer, and faults in between may
 * only cost time. Every POST exchange is logged for replays.
 */
import { randomUUID } from 'node:crypto';

export type Caller = 'partner' | 'other' | 'network';

export interface Answer {
  status: number;
  body: any;
  text: string;
}

export interface Exchange {
  caller: Caller;
  path: string;
  body: Record<string, unknown>;
  key: string;
  answer: Answer;
}

export interface Real {
  apiBase: string;
  keys: Record<Caller, string>;
  exchanges: Exchange[];
  /** How many 503s clients retried (faults that surfaced to a caller). */
  retried503: number;
  /** How many `409 idempotency_request_in_progress` answers clients waited out. */
  retriedInProgress: number;
}

const MAX_503_RETRIES = 30;
/** A claim's lease is 35 s (shared/db/idempotency-repository.ts); a little more than that. */
const IN_PROGRESS_PATIENCE_MS = 40_000;

export async function call(real: Real, caller: Caller, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`${real.apiBase}${path}`, {
      method,
      headers: { authorization: `Bearer ${real.keys[caller]}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const answer = { status: response.status, body: text ? JSON.parse(text) : null, text };
    if (answer.status === 409 && answer.body?.error?.code === 'idempotency_request_in_progress' && Date.now() - started < IN_PROGRESS_PATIENCE_MS) {
      real.retriedInProgress++;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      continue;
    }
    if (answer.status !== 503) {
      if (answer.status >= 500) throw new Error(`${method} ${path} answered ${answer.status}: ${text}`);
      return answer;
    }
    if (answer.body?.error?.code !== 'service_unavailable') throw new Error(`${method} ${path}: a 503 without the retryable code: ${text}`);
    real.retried503++;
    if (attempt >= MAX_503_RETRIES) throw new Error(`${method} ${path} still 503 after ${MAX_503_RETRIES} retries`);
    await new Promise((resolve) => setTimeout(resolve, 5 * (attempt + 1)));
  }
}

/** A POST with a fresh Idempotency-Key (or the given one), logged for later replays. */
export async function post(real: Real, caller: Caller, path: string, body: Record<string, unknown>, key: string = randomUUID()): Promise<Answer> {
  const answer = await call(real, caller, 'POST', path, body, { 'idempotency-key': key });
  real.exchanges.push({ caller, path, body, key, answer });
  return answer;
}
