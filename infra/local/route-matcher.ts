/**
 * Resolves a request's method and path against the route table the way API Gateway resolves a
 * REST API's resources: `{param}` matches one whole path segment, and a literal segment wins over
 * a parameter at the same position (so `/v1/simulate/3ds` is never captured by `/v1/simulate/{x}`).
 *
 * The table is compiled once at start; a lookup only splits the path and walks the rows with the
 * same number of segments.
 */
export type RouteMatch<R extends RouteLike> =
  | { kind: 'route'; route: R; pathParameters: Record<string, string> | null }
  /** The path names a resource, but not with this method: API.md's `405 method_not_allowed`. */
  | { kind: 'method_not_allowed'; allowed: string[] }
  | { kind: 'not_found' };

/** The part of a route-table row the matcher reads. */
export interface RouteLike {
  method: string;
  path: string;
}

interface CompiledResource<R extends RouteLike> {
  template: string;
  /** A literal segment, or `null` for a `{param}` whose name is in `parameterNames` at that index. */
  segments: (string | null)[];
  parameterNames: (string | null)[];
  byMethod: Map<string, R>;
}

export interface RouteMatcher<R extends RouteLike> {
  match(method: string, path: string): RouteMatch<R>;
}

export function compileRoutes<R extends RouteLike>(rows: readonly R[]): RouteMatcher<R> {
  const resources = new Map<string, CompiledResource<R>>();
  for (const row of rows) {
    let resource = resources.get(row.path);
    if (!resource) {
      const parts = splitPath(row.path);
      resource = {
        template: row.path,
        segments: parts.map((part) => (isParameter(part) ? null : part)),
        parameterNames: parts.map((part) => (isParameter(part) ? part.slice(1, -1) : null)),
        byMethod: new Map(),
      };
      resources.set(row.path, resource);
    }
    if (resource.byMethod.has(row.method)) throw new Error(`Duplicate route ${row.method} ${row.path}`);
    resource.byMethod.set(row.method, row);
  }

  // Most specific first: at the first position where two templates differ in kind, the literal wins.
  const bySegmentCount = new Map<number, CompiledResource<R>[]>();
  for (const resource of resources.values()) {
    const list = bySegmentCount.get(resource.segments.length) ?? [];
    list.push(resource);
    bySegmentCount.set(resource.segments.length, list);
  }
  for (const list of bySegmentCount.values()) list.sort(bySpecificity);

  return {
    match(method, path) {
      const parts = splitPath(path);
      const candidates = bySegmentCount.get(parts.length);
      if (!candidates) return { kind: 'not_found' };
      for (const resource of candidates) {
        const values = matchSegments(resource, parts);
        if (values === undefined) continue;
        const route = resource.byMethod.get(method);
        if (!route) return { kind: 'method_not_allowed', allowed: [...resource.byMethod.keys()] };
        return { kind: 'route', route, pathParameters: values };
      }
      return { kind: 'not_found' };
    },
  };
}

function matchSegments<R extends RouteLike>(resource: CompiledResource<R>, parts: string[]): Record<string, string> | null | undefined {
  let values: Record<string, string> | null = null;
  for (let i = 0; i < parts.length; i++) {
    const literal = resource.segments[i];
    const part = parts[i] as string;
    if (literal !== null) {
      if (literal !== part) return undefined;
      continue;
    }
    if (part === '') return undefined;
    const decoded = decodeSegment(part);
    if (decoded === undefined) return undefined;
    values ??= {};
    values[resource.parameterNames[i] as string] = decoded;
  }
  return values;
}

/** `/v1/users/` and `/v1/users` name the same resource, as in API Gateway. */
function splitPath(path: string): string[] {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed.split('/').slice(1);
}

function isParameter(segment: string): boolean {
  return segment.startsWith('{') && segment.endsWith('}');
}

function decodeSegment(segment: string): string | undefined {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function bySpecificity<R extends RouteLike>(a: CompiledResource<R>, b: CompiledResource<R>): number {
  for (let i = 0; i < a.segments.length; i++) {
    const aLiteral = a.segments[i] !== null;
    const bLiteral = b.segments[i] !== null;
    if (aLiteral !== bLiteral) return aLiteral ? -1 : 1;
  }
  return 0;
}
