/**
 * What integration tests get from the local stack that the global setup
 * (test/support/local-stack-setup.ts) started for the run:
 *
 * - `localStack()`: the sandbox business's credentials, the card network's and the chain
 *   watcher's keys, and the API's base URL;
 * - `api(key)`: a small HTTP client that calls the API the way a partner does;
 * - `createBusiness(name)`: another business, for "another business's resource is a 404" tests;
 * - `useStackEnvironment()` / `scanAllItems()`: direct access to the stack's table, for tests that
 *   check what is stored (e.g. nothing secret in the clear).
 *
 * Nothing here is reachable through the API: extra businesses are created the way the operator's
 * admin command creates them, by calling the businesses service against the stack's table.
 */
// Tests seed and read sealed records in the test process: the envelope encryption engine (shared/crypto/envelope.ts).
import '../../shared/crypto/envelope-engine.ts';
import { inject } from 'vitest';
import { contractProblems } from './contract-check.ts';
import { resetConfigForTests } from '../../shared/config.ts';
import { resetKeyMaterialForTests } from '../../shared/crypto/key-material.ts';
import { resetDbForTests } from '../../shared/db/client.ts';

/** How long the test stack's API Gateway stand-in caches an authorizer's verdict (see local-stack-setup.ts). */
export const AUTHORIZER_CACHE_TTL_MS = 2_000;

/** What the global setup provides to every test worker. */
export interface LocalStackContext {
  apiBase: string;
  businessId: string;
  apiKey: string;
  webhookSecret: string;
  /** The card network's key (`/network/authorizations...`, `/network/3ds/...`). */
  networkKey: string;
  /** The chain watcher's key (`/network/deposits`). */
  chainKey: string;
  /** The environment the stack's handlers run with (table, key file, emulator endpoints, queue URLs). */
  env: Record<string, string>;
  /** Queue URLs and ARNs by queue name, each with its DLQ. */
  queues: Record<string, { url: string; arn: string; dlqUrl: string; dlqArn: string }>;
}

declare module 'vitest' {
  interface ProvidedContext {
    localStack: LocalStackContext;
  }
}

export interface SandboxBusiness {
  apiBase: string;
  businessId: string;
  apiKey: string;
  webhookSecret: string;
  networkKey: string;
  chainKey: string;
}

/** The sandbox business the stack created at start, the network's and watcher's keys, and where its API is. */
export function localStack(): SandboxBusiness {
  const { apiBase, businessId, apiKey, webhookSecret, networkKey, chainKey } = context();
  return { apiBase, businessId, apiKey, webhookSecret, networkKey, chainKey };
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or null when the response has none (or is not JSON). */
  // Tests read arbitrary response shapes; typing each would only restate the assertions.
  body: any;
  text: string;
}

export interface ApiClient {
  get(path: string, headers?: Record<string, string>): Promise<ApiResponse>;
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  put(path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  patch(path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  delete(path: string, headers?: Record<string, string>): Promise<ApiResponse>;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
}

/**
 * A client sending `Authorization: Bearer <key>` (none when `key` is undefined). A body that is a
 * string is sent as is (e.g. to send malformed JSON); anything else is sent as JSON.
 */
export function api(key?: string): ApiClient {
  const base = context().apiBase;
  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> => {
    const sent: Record<string, string> = { ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) };
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      sent['content-type'] = 'application/json';
    }
    const response = await fetch(`${base}${path}`, { method, headers: { ...sent, ...headers }, body: payload });
    const text = await response.text();
    let parsed: unknown = null;
    if (text && response.headers.get('content-type')?.includes('json')) parsed = JSON.parse(text);
    assertConforms(method, path, body, response, parsed);
    return { status: response.status, headers: response.headers, body: parsed, text };
  };
  return {
    get: (path, headers) => request('GET', path, undefined, headers),
    post: (path, body, headers) => request('POST', path, body, headers),
    put: (path, body, headers) => request('PUT', path, body, headers),
    patch: (path, body, headers) => request('PATCH', path, body, headers),
    delete: (path, headers) => request('DELETE', path, undefined, headers),
    request,
  };
}

/**
 * A `fetch` that checks every exchange against the description like `api()` does: for clients
 * that bring their own transport (the typed client's `fetch` option).
 */
export const conformingFetch: typeof fetch = async (input, init) => {
  const request = new Request(input, init);
  const sentBody = request.body ? await request.clone().text() : undefined;
  const response = await fetch(request);
  const text = await response.clone().text();
  const parsed: unknown = text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null;
  assertConforms(request.method, request.url, sentBody, response, parsed);
  return response;
};

/**
 * Fails the test when an exchange does not conform to the committed OpenAPI description
 * (test/support/contract-check.ts): every call through `api()` is a contract check.
 */
function assertConforms(method: string, pathAndQuery: string, body: unknown, response: Response, parsed: unknown): void {
  const url = new URL(pathAndQuery, 'http://api.invalid');
  let requestBody = body;
  if (typeof body === 'string') {
    try {
      requestBody = JSON.parse(body);
    } catch {
      requestBody = body;
    }
  }
  const problems = contractProblems({
    method,
    path: url.pathname,
    query: url.searchParams,
    requestBody: requestBody ?? {},
    status: response.status,
    contentType: response.headers.get('content-type'),
    responseBody: parsed,
  });
  if (problems.length) throw new Error(`The exchange does not conform to openapi.json:\n- ${problems.join('\n- ')}`);
}

/** A second (third, ...) business on the running stack, created as the operator would. */
export async function createBusiness(name: string): Promise<{ business_id: string; api_key: string; webhook_secret: string }> {
  useStackEnvironment();
  const businesses = await import('../../shared/services/businesses.ts');
  return businesses.createBusiness({ name });
}

/**
 * Points this worker's AWS SDK clients and shared modules at the stack's emulators, table and key
 * file. Call it before importing anything that reads configuration.
 */
export function useStackEnvironment(): void {
  const { env } = context();
  if (process.env.TABLE_NAME === env.TABLE_NAME && process.env.AWS_ENDPOINT_URL_DYNAMODB === env.AWS_ENDPOINT_URL_DYNAMODB) return;
  Object.assign(process.env, env);
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  resetConfigForTests();
  resetDbForTests();
  resetKeyMaterialForTests();
}

/** Every item of the stack's table (a Scan: for tests only, never on a request path). */
export async function scanAllItems(): Promise<Record<string, unknown>[]> {
  useStackEnvironment();
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { DynamoDBDocumentClient, ScanCommand } = await import('@aws-sdk/lib-dynamodb');
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({}), { unmarshallOptions: { wrapNumbers: true } });
  const items: Record<string, unknown>[] = [];
  try {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: context().env.TABLE_NAME, ExclusiveStartKey: startKey }));
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  } finally {
    client.destroy();
  }
  return items;
}

function context(): LocalStackContext {
  const provided = inject('localStack');
  if (!provided) throw new Error('No local stack: run integration tests through the "integration" vitest project (its global setup starts the stack)');
  return provided;
}
