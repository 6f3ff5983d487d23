/**
 * A real HTTP webhook receiver for integration tests, like a partner's: it records every request
 * (headers, raw body) and answers each path as the test scripts it (a status, a slow answer, a
 * redirect), defaulting to 200. Signatures are checked by the tests with `standardwebhooks`, the
 * way a partner would, via `verifyWith`.
 *
 * Every webhook it receives is also checked against the published schema of its `type`, fetched
 * from `GET /v1/event-types` when the receiver starts and applied with a JSON Schema validator, as
 * a partner could: a payload without a known `type`, or one its schema refuses, is recorded on the
 * request (`problems`), makes `verifyWith` throw, and makes `stop()` fail, so every suite that
 * receives webhooks checks the catalogue against what the platform really sends.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { verifyWebhook, type WebhookEvent } from '../../client/index.ts';
import { localStack } from './stack.ts';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** `performance.timeOrigin + performance.now()` when the request's body had arrived. */
  receivedAtMs: number;
  /** Why the body is not a valid payload of its `type` per `GET /v1/event-types` (empty: it is). */
  problems: string[];
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
  /** Stops the server; rejects if any webhook received did not match the schema of its type. */
  stop(): Promise<void>;
}

export interface ReceiverOptions {
  /**
   * Where to read the event-type catalogue: an API and a business key. Default: the run's local
   * stack (test/support/stack.ts); a suite that runs its own stack may name it.
   */
  eventTypesFrom?: { apiBase: string; apiKey: string };
}

export async function startWebhookReceiver(options: ReceiverOptions = {}): Promise<WebhookReceiver> {
  const validators = await payloadValidators(options.eventTypesFrom ?? localStack());
  const invalid: ReceivedWebhook[] = [];
  const log = new Map<string, ReceivedWebhook[]>();
  const scripts = new Map<string, Script>();
  const waiters = new Set<() => void>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://receiver').pathname;
      const body = Buffer.concat(chunks).toString('utf8');
      const request: ReceivedWebhook = { path, headers: req.headers, body, receivedAtMs: performance.timeOrigin + performance.now(), problems: [] };
      if (req.headers['webhook-id'] !== undefined) request.problems = payloadProblems(validators, body);
      if (request.problems.length > 0) invalid.push(request);
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
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (invalid.length > 0) {
        throw new Error(`${invalid.length} webhook(s) did not match the schema of their type: ${invalid.map(describeProblems).join('; ')}`);
      }
    },
  };
}

/** One validator per event type, compiled from the schemas `GET /v1/event-types` serves. */
async function payloadValidators(source: { apiBase: string; apiKey: string }): Promise<Map<string, ValidateFunction>> {
  const response = await fetch(`${source.apiBase}/v1/event-types`, { headers: { authorization: `Bearer ${source.apiKey}` } });
  if (response.status !== 200) throw new Error(`GET /v1/event-types answered ${response.status}: ${await response.text()}`);
  const catalogue = (await response.json()) as { data: { type: string; schema: Record<string, unknown> }[] };
  const ajv = new Ajv2020({ allErrors: true });
  addFormats.default(ajv);
  return new Map(catalogue.data.map((entry) => [entry.type, ajv.compile(entry.schema)]));
}

function payloadProblems(validators: Map<string, ValidateFunction>, body: string): string[] {
  let payload: unknown;
  try {
    payload = JSON.parse(body);
  } catch {
    return ['the body is not JSON'];
  }
  const type = (payload as { type?: unknown } | null)?.type;
  const validate = typeof type === 'string' ? validators.get(type) : undefined;
  if (!validate) return [`no event type in the catalogue for "type": ${JSON.stringify(type)}`];
  if (validate(payload)) return [];
  return (validate.errors ?? []).map((error) => `${String(type)}: ${error.instancePath || '/'} ${error.message ?? 'is invalid'}`);
}

function describeProblems(request: ReceivedWebhook): string {
  return `${String(request.headers['webhook-id'])} on ${request.path}: ${request.problems.join(', ')}`;
}

/**
 * Verifies a received webhook with each secret as a partner would, with the typed client's
 * `verifyWebhook` (client/index.ts: the signature and the timestamp's freshness), and returns the
 * parsed body. Throws if any fails, or if the body is not a valid payload of its `type`.
 */
export function verifyWith(secrets: readonly string[], request: ReceivedWebhook): any {
  if (request.problems.length > 0) throw new Error(`The webhook does not match the schema of its type: ${describeProblems(request)}`);
  let parsed: WebhookEvent | undefined;
  for (const secret of secrets) parsed = verifyWebhook(secret, request.body, request.headers);
  return parsed;
}

export function webhookId(request: ReceivedWebhook): string {
  return String(request.headers['webhook-id']);
}
