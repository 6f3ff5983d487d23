/**
 * A real HTTP webhook receiver for integration tests, like a partner's: it records every request
 * (headers, raw body) and answers each path as the test scripts it (a status, a slow answer, a
 * redirect), defaulting to 200. Signatures are checked by the tests with `standardwebhooks`, the
 * way a partner would, via `verifyWith`.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** `performance.timeOrigin + performance.now()` when the request's body had arrived. */
  receivedAtMs: number;
}

/** What the receiver answers to the n-th request (1-based) on a path. */
export type Reply = number | { status: number; delayMs?: number; headers?: Record<string, string> };
export type Script = (n: number, request: ReceivedWebhook) => Reply;

export interface WebhookReceiver {
  /** The receiver's URL for `path` (each business gets its own path, so its script and log). */
  url(path: string): string;
  /** Requests on `path`, in arrival order. */
  received(path: string): ReceivedWebhook[];
  script(path: string, script: Script): void;
  /** Resolves with the first request on `path` that satisfies `match` (already received or not). */
  waitFor(path: string, match: (request: ReceivedWebhook) => boolean, timeoutMs?: number): Promise<ReceivedWebhook>;
  stop(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const log = new Map<string, ReceivedWebhook[]>();
  const scripts = new Map<string, Script>();
  const waiters = new Set<() => void>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://receiver').pathname;
      const request: ReceivedWebhook = { path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), receivedAtMs: performance.timeOrigin + performance.now() };
      const requests = log.get(path) ?? [];
      requests.push(request);
      log.set(path, requests);
      for (const wake of [...waiters]) wake();
      const reply = scripts.get(path)?.(requests.length, request) ?? 200;
      const { status, delayMs = 0, headers = {} } = typeof reply === 'number' ? { status: reply } : reply;
      const answer = () => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'text/plain', ...headers });
        res.end('ok');
      };
      if (delayMs > 0) setTimeout(answer, delayMs).unref();
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;

  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received: (path) => [...(log.get(path) ?? [])],
    script: (path, script) => {
      scripts.set(path, script);
    },
    waitFor(path, match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = (log.get(path) ?? []).find(match);
          if (!found) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`No matching webhook on ${path} within ${timeoutMs} ms (got ${(log.get(path) ?? []).length})`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Verifies a received webhook with each secret as a partner would (standardwebhooks checks the
 * signature and the timestamp's freshness) and returns the parsed body. Throws if any fails.
 */
export function verifyWith(secrets: readonly string[], request: ReceivedWebhook): any {
  const headers = {
    'webhook-id': String(request.headers['webhook-id'] ?? ''),
    'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
    'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
  };
  let parsed: unknown;
  for (const secret of secrets) parsed = new Webhook(secret).verify(request.body, headers);
  return parsed;
}

export function webhookId(request: ReceivedWebhook): string {
  return String(request.headers['webhook-id']);
}
