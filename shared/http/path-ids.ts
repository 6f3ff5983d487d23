/**
 * Ids in paths. Every `{param}` of the route table names one resource by its id, and ids are UUIDs
 * (API.md), so a handler declares which resource each of its params names and the wrapper checks
 * the format before anything reads the table:
 *
 *   export const handler = httpHandler({ params: pathIds({ id: 'card' }) }, ({ params }) => ...);
 *
 * A malformed id names no resource: it is answered exactly like a missing one, `404
 * <resource>_not_found` (API.md: another business's resource is indistinguishable from a missing
 * one, and "ids in paths ... not of the id's format are 404"). Checking here, once, also keeps an
 * id that is too long for a DynamoDB key (2 KB partition key) or carries `#` or NUL from ever
 * reaching a key builder, where it used to become a 500.
 */
import { isUuid } from '../domain/ids.ts';
import { notFound, type NamedResource } from '../errors.ts';

/** Which resource each path parameter names. Built with `pathIds`, read by the HTTP wrapper. */
export interface PathIds<N extends string> {
  readonly resources: Readonly<Record<N, NamedResource>>;
}

export function pathIds<const N extends string>(resources: Record<N, NamedResource>): PathIds<N> {
  return { resources };
}

/** The declared path parameters, each a UUID, or the 404 of the first that is not. */
export function parsePathIds<N extends string>(declared: PathIds<N>, given: Record<string, string | undefined> | null): Record<N, string> {
  const ids = {} as Record<N, string>;
  for (const [name, resource] of Object.entries(declared.resources) as [N, NamedResource][]) {
    const id = given?.[name];
    if (id === undefined || !isUuid(id)) throw notFound(resource);
    ids[name] = id;
  }
  return ids;
}
