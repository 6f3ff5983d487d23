/**
 * API Gateway's side of a Lambda REQUEST authorizer: evaluating the returned IAM policy against the
 * method ARN, and the result cache keyed on the identity source (the `Authorization` header).
 *
 * Like API Gateway, the cache keeps the *policy*, not a yes/no, and evaluates it again for every
 * request: a policy cached on `GET /v1/users` must also cover `POST /v1/cards` for the same key
 * within the TTL, which is why authorizers return a wildcard resource. It also means a revoked key
 * keeps working until its entry expires, exactly as in AWS.
 */
import type { APIGatewayAuthorizerResult, Statement } from 'aws-lambda';

export interface AuthorizerPolicy {
  principalId: string;
  /** The authorizer's `context`, as API Gateway passes it on: string values only. */
  context: Record<string, string>;
  allows(methodArn: string): boolean;
}

/** Reads an authorizer's result into a policy; a malformed result is the authorizer's bug (a 500 in AWS). */
export function parseAuthorizerResult(result: unknown): AuthorizerPolicy {
  const value = result as Partial<APIGatewayAuthorizerResult> | null | undefined;
  if (!value || typeof value.principalId !== 'string' || !value.policyDocument || !Array.isArray(value.policyDocument.Statement)) {
    throw new Error('Authorizer returned a malformed result (principalId and policyDocument.Statement are required)');
  }
  const statements = value.policyDocument.Statement.map(compileStatement);
  return {
    principalId: value.principalId,
    context: stringContext(value.context ?? {}),
    allows(methodArn) {
      let allowed = false;
      for (const statement of statements) {
        if (!statement.invokes || !statement.resources.some((pattern) => pattern.test(methodArn))) continue;
        if (statement.effect === 'Deny') return false;
        allowed = true;
      }
      return allowed;
    },
  };
}

interface CompiledStatement {
  effect: 'Allow' | 'Deny';
  invokes: boolean;
  resources: RegExp[];
}

function compileStatement(statement: Statement): CompiledStatement {
  const raw = statement as { Effect?: string; Action?: string | string[]; Resource?: string | string[] };
  const actions = toArray(raw.Action);
  return {
    effect: raw.Effect === 'Allow' ? 'Allow' : 'Deny',
    invokes: actions.some((action) => action === '*' || action === 'execute-api:*' || action === 'execute-api:Invoke'),
    resources: toArray(raw.Resource).map(globToRegExp),
  };
}

function toArray(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** IAM resource wildcards: `*` any run of characters, `?` exactly one. */
function globToRegExp(glob: string): RegExp {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`);
}

/** API Gateway hands context values to the integration as strings; objects and arrays are not allowed. */
function stringContext(context: Record<string, unknown>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(context)) {
    if (value === null || value === undefined) continue;
    if (typeof value === 'object') throw new Error(`Authorizer context value "${key}" must be a string, number or boolean`);
    result[key] = String(value);
  }
  return result;
}

export interface AuthorizerCacheOptions {
  ttlMs: number;
  /** Bounds memory under a flood of distinct bad keys; the oldest entry goes first. */
  maxEntries?: number;
  now?: () => number;
}

/** Policies by (credential kind, identity source value), each for `ttlMs`. */
export class AuthorizerCache {
  private readonly entries = new Map<string, { policy: AuthorizerPolicy; expiresAt: number }>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly options: AuthorizerCacheOptions) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get(credential: string, identity: string): AuthorizerPolicy | undefined {
    const key = `${credential}\n${identity}`;
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.policy;
  }

  set(credential: string, identity: string, policy: AuthorizerPolicy): void {
    if (this.options.ttlMs <= 0) return;
    const key = `${credential}\n${identity}`;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { policy, expiresAt: this.now() + this.options.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }
}
