/**
 * Card reveal links (API.md "Card reveal without PCI scope for the partner"). The partner's backend
 * asks for a link for one card and one framing origin; the cardholder's browser loads it, once,
 * inside an iframe of that origin, and sees the number, expiry and CVV. The partner's servers never
 * receive card data, only a link that stops working after its first load or its short lifetime.
 *
 * - The link's token is shown once, in the 201, and stored only as its keyed hash (so the POST is
 *   not idempotent: no stored answer may hold it).
 * - The load that reveals consumes the session with a conditional write: concurrent loads reveal
 *   once. It writes the card's audit event (with the origin) before it decrypts, like `/full`.
 */
import { config } from '../config.ts';
import { isRevealTokenShaped, newRevealToken, revealTokenHash } from '../crypto/reveal-tokens.ts';
import { revealExpiry, revealOrigin, type CreateRevealSessionBody } from '../domain/card-reveal.ts';
import type { CardSecrets } from '../domain/cards.ts';
import { newId } from '../domain/ids.ts';
import { nowIso } from '../domain/time.ts';
import { ApiError } from '../errors.ts';
import type { BusinessAuth } from '../http/handler.ts';
import { findCard, recordAuditEvent } from '../db/cards-repository.ts';
import { consumeRevealSession, insertRevealSession } from '../db/reveal-sessions-repository.ts';
import { openCardSecrets, requireCard } from './cards.ts';

/** The path of the reveal page, relative to the API's base URL. */
export const REVEAL_PAGE_PATH = '/v1/card-reveal';

export interface RevealSessionView {
  url: string;
  expires_at: string;
}

/** `POST /v1/cards/{id}/reveal-sessions` */
export async function createRevealSession(auth: BusinessAuth, cardId: string, body: CreateRevealSessionBody, apiBase: string): Promise<RevealSessionView> {
  const origin = revealOrigin(body.origin, config().STAGE);
  if (!origin) throw new ApiError('invalid_reveal_origin');
  const card = await requireCard(auth.businessId, cardId);
  if (card.status === 'Terminated') throw new ApiError('card_terminated');

  const now = new Date();
  const revealUntil = revealExpiry(now.getTime(), body.ttl_seconds).toISOString();
  const token = newRevealToken();
  await insertRevealSession(await revealTokenHash(token), {
    businessId: card.businessId,
    cardId: card.cardId,
    keyId: auth.keyId,
    origin,
    createdAt: now.toISOString(),
    revealUntil,
  });
  return { url: `${apiBase}${REVEAL_PAGE_PATH}?token=${token}`, expires_at: revealUntil };
}

/**
 * What a load of a link shows: the card (once), or nothing. `frameAncestor` is the origin the
 * session allows to frame the answer, when the token names a session at all.
 */
export type RevealOutcome = { revealed: true; secrets: CardSecrets; frameAncestor: string } | { revealed: false; frameAncestor?: string };

/** `GET /v1/card-reveal?token=` */
export async function revealBySessionToken(token: string): Promise<RevealOutcome> {
  // Not of the issued shape: never a session, and not worth a KMS call.
  if (!isRevealTokenShaped(token)) return { revealed: false };
  const claim = await consumeRevealSession(await revealTokenHash(token), new Date());
  if (!claim.revealed) return { revealed: false, ...(claim.session ? { frameAncestor: claim.session.origin } : {}) };

  const { session } = claim;
  const card = await findCard(session.businessId, session.cardId);
  // Terminated since the link was made: the link dies with the card.
  if (!card || card.status === 'Terminated') return { revealed: false, frameAncestor: session.origin };
  await recordAuditEvent({
    eventId: newId(),
    cardId: card.cardId,
    businessId: card.businessId,
    keyId: session.keyId,
    action: 'reveal',
    fromStatus: null,
    toStatus: null,
    origin: session.origin,
    at: nowIso(),
  });
  return { revealed: true, secrets: await openCardSecrets(card), frameAncestor: session.origin };
}
