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
import { type Access, authorizers, consumers, routes, schedules } from '../../shared/routes.ts';
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
 * What the bundle-budget test enforces today, in KiB above the reference, for the functions that
 * do not meet their tier's target yet (`extraKiB`): the ceiling, just above today's size, stops
 * them growing, and comes down to the target as they shrink (never up without a reason written
 * here). Every other function is held to its tier's target. Measured sizes and what they are made
 * of: docs/cold-start.md.
 *
 * - `network/create-authorization`: opens the decision endpoint's secret (the Encryption SDK,
 *   ~215 KiB) and reads the FX settings (the SSM client, ~77 KiB); without either it would still
 *   be ~+255 (zod and the contracts, the KMS client for its keyed hashes, the DynamoDB client for
 *   its transaction, logging, the decision call's signing).
 * - the deposit, force-post and refund routes: the SSM client for the deposit fee or the FX
 *   settings (~77 KiB), and the FX domain; the deposit routes also check addresses against their
 *   chain's encoding (chain-addresses.ts: @noble/hashes, @scure/base, ~17 KiB).
 * - `docs/get-docs-page`: serves swagger-ui's assets from its bundle (~1.8 MB of them).
 *
 * Came down to their tier's target: the reversal, settlement and expiry routes (+266..+274 ->
 * +239..+240), once the chain names (chains.ts) and the deposit contract (contracts/deposits.ts)
 * stopped bringing the address code into every transaction contract and event, and their
 * service (authorization-adjustments.ts) stopped importing the approve path's decision-endpoint
 * signing; then the wallet-address route (+290 -> +225) and the API description (+255 -> +239)
 * once every schema moved to zod's mini API (shared/zod.ts), which took ~62 KiB out of every
 * bundle.
 */
export const SIZE_CEILINGS_KIB: { tiers: Partial<Record<BundleTier, number>>; functions: Record<string, number> } = {
  tiers: {},
  functions: {
    'network/create-authorization': 550,
    'network/create-deposit': 262,
    'simulate/create-deposit': 262,
    'network/create-force-post': 275,
    'simulate/create-force-post': 275,
    'network/create-refund': 268,
    'simulate/create-refund': 268,
    'docs/get-docs-page': 1965,
  },
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
