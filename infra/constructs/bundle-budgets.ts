/**
 * What each function's release bundle may cost next to a reference bundle that holds only the
 * DynamoDB document client and an empty handler (bench/cold-start/reference-handler.ts), built with
 * the same settings: a budget per tier, as extra kilobytes and as a ratio of import time.
 *
 * - `fast`: the authorizers and the network authorization route, on the card network's decision
 *   window and every partner's first call.
 * - `plain`: functions whose row neither seals nor opens (no envelope encryption).
 * - `sealing`: the rest.
 *
 * The cold-start bench (`npm run bench -- --only cold-start`) measures both; the bundle-budget test
 * (test/infra/bundle-budgets.test.ts) holds the sizes, so they cannot creep back.
 */
import { join } from 'node:path';
import { type Access, authorizers, consumers, routes, schedules } from '../../functions/routes.ts';
import { REPO_ROOT } from './bundling.ts';

export type BundleTier = 'fast' | 'plain' | 'sealing';

export interface TierBudget {
  /** At most this many KiB above the reference bundle. */
  extraKiB: number;
  /** At most this times the reference's median import + first invocation. */
  timeRatio: number;
}

export const BUNDLE_BUDGETS: Record<BundleTier, TierBudget> = {
  fast: { extraKiB: 150, timeRatio: 1.3 },
  plain: { extraKiB: 250, timeRatio: 1.4 },
  sealing: { extraKiB: 700, timeRatio: 1.9 },
};

/**
 * What the bundle-budget test enforces today, in KiB above the reference, where a tier's bundles
 * do not meet its target yet (`extraKiB`): the ceiling stops them growing, and comes down to the
 * target as they shrink (never up without a reason written here). Per function where one function
 * is far from the rest of its tier.
 *
 * - `plain`: zod (~100 KB, every contract) and the X-Ray tracer (~115 KB with its dependencies)
 *   are in every route; the money routes add the SSM client and the FX domain.
 * - `sealing`: the Encryption SDK is ~300 KB by itself; the authorization routes add SSM and FX.
 * - `network/create-authorization` opens the decision endpoint's secret (the Encryption SDK,
 *   ~300 KB) and reads the FX settings (SSM, ~80 KB).
 * - `docs/get-docs-page` serves swagger-ui's assets from its bundle (~1.8 MB of them).
 */
export const SIZE_CEILINGS_KIB: { tiers: Partial<Record<BundleTier, number>>; functions: Record<string, number> } = {
  tiers: { fast: 290, plain: 480, sealing: 850 },
  functions: { 'network/create-authorization': 850, 'docs/get-docs-page': 2200 },
};

/** The KiB above the reference a function's bundle may not exceed (test/infra/bundle-budgets.test.ts). */
export function sizeCeilingKiB(fn: Pick<BundledFunction, 'handler' | 'tier'>): number {
  return SIZE_CEILINGS_KIB.functions[fn.handler] ?? SIZE_CEILINGS_KIB.tiers[fn.tier] ?? BUNDLE_BUDGETS[fn.tier].extraKiB;
}

/** The route the card network waits on for a decision. */
export const NETWORK_AUTHORIZATION_HANDLER = 'network/create-authorization';

export const REFERENCE_ENTRY = join(REPO_ROOT, 'bench', 'cold-start', 'reference-handler.ts');

export interface BundledFunction {
  handler: string;
  kind: 'authorizer' | 'route' | 'consumer' | 'schedule';
  access: Access;
  tier: BundleTier;
}

function tierOf(kind: BundledFunction['kind'], handler: string, access: Access): BundleTier {
  if (kind === 'authorizer' || handler === NETWORK_AUTHORIZATION_HANDLER) return 'fast';
  return (access.encrypt?.length ?? 0) + (access.decrypt?.length ?? 0) > 0 ? 'sealing' : 'plain';
}

/** Every function of the stack (each handler once, sandbox-only routes included), with its tier. */
export function bundledFunctions(): BundledFunction[] {
  const rows: Omit<BundledFunction, 'tier'>[] = [
    ...Object.values(authorizers).map((row) => ({ handler: row.handler, kind: 'authorizer' as const, access: row.access })),
    ...routes.map((row) => ({ handler: row.handler, kind: 'route' as const, access: row.access })),
    ...consumers.map((row) => ({ handler: row.handler, kind: 'consumer' as const, access: row.access })),
    ...schedules.map((row) => ({ handler: row.handler, kind: 'schedule' as const, access: row.access })),
  ];
  const seen = new Set<string>();
  return rows
    .filter((row) => !seen.has(row.handler) && seen.add(row.handler))
    .map((row) => ({ ...row, tier: tierOf(row.kind, row.handler, row.access) }));
}
