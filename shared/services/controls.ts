/**
 * The business's default spending controls (`GET`/`PUT /v1/controls`), and how the authorization
 * path reads them without a read per authorization.
 *
 * The card's own controls are on the card item, which the approve path reads anyway. The
 * business's are one item for all its cards; reading it on every authorization would break the
 * approve path's budget of one read and one transaction, and pinning its version in the
 * transaction (a ConditionCheck) would make every authorization of the business contend on one
 * item. Copying them onto every card would turn one PUT into a write per card, unbounded and not
 * atomic. So a warm container caches them per business for `BUSINESS_CONTROLS_CACHE_SECONDS`
 * (30 s by default): a change reaches every authorization within that, which is stated in the
 * API documentation. A card's own controls apply from the very next authorization.
 */
import { config } from '../config.ts';
import { controlsView, parseControls, type ControlsBody, type ControlsView, type SpendingControls } from '../domain/controls.ts';
import { nowIso } from '../domain/time.ts';
import { getBusinessControls, putBusinessControls } from '../db/controls-repository.ts';
import type { BusinessAuth } from '../http/handler.ts';

export interface BusinessControlsView {
  controls: ControlsView;
  p_updated_at: string | null;
}

/** `GET /v1/controls` (strongly consistent: what the partner just set). */
export async function getControls(auth: BusinessAuth): Promise<BusinessControlsView> {
  const stored = await getBusinessControls(auth.businessId, true);
  return { controls: controlsView(stored.controls), p_updated_at: stored.updatedAt };
}

/** `PUT /v1/controls`: replaces the whole set (a missing field is cleared). */
export async function updateControls(auth: BusinessAuth, body: ControlsBody): Promise<BusinessControlsView> {
  const controls = parseControls(body);
  const now = nowIso();
  await putBusinessControls(auth.businessId, controls, now, auth.keyId);
  return { controls: controlsView(controls), p_updated_at: now };
}

const cache = new Map<string, { controls: SpendingControls; until: number }>();
/** A container serves few businesses; the bound only keeps a misuse from growing it without end. */
const MAX_CACHED = 10_000;

/** The business's default controls as the authorization path sees them: cached per warm container. */
export async function businessControlsFor(businessId: string): Promise<SpendingControls> {
  const now = Date.now();
  const hit = cache.get(businessId);
  if (hit && hit.until > now) return hit.controls;
  const { controls } = await getBusinessControls(businessId);
  const ttlMs = config().BUSINESS_CONTROLS_CACHE_SECONDS * 1000;
  if (ttlMs > 0) {
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(businessId, { controls, until: now + ttlMs });
  }
  return controls;
}
