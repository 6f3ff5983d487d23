/**
 * `GET /v1/card-reveal?token=` (no API key): the card reveal page, once. Plain HTML and one inline
 * stylesheet (allowed by its hash), no script, nothing fetched; framed only by the session's
 * origin, never cached, never sent on as a referrer. A used, expired or unknown link is a `410`
 * page with no card data.
 */
// Its row seals or opens: the envelope encryption engine (shared/crypto/envelope.ts).
import '../../shared/crypto/envelope-engine.ts';
// Its row lists MAC purposes: keyed hashes with KMS HMAC keys (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import * as api from '../../shared/contracts/card-reveal.ts';
import { REVEAL_PAGE_STYLE, revealGonePage, revealPage } from '../../shared/domain/card-reveal.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { hashSource } from '../../shared/http/page-policy.ts';
import { respond } from '../../shared/http/responses.ts';
import * as reveal from '../../shared/services/card-reveal.ts';

const STYLE_SOURCE = hashSource(REVEAL_PAGE_STYLE);

/** The page's headers: `frameAncestor` is the session's origin, or none at all for an unknown link. */
function pageHeaders(frameAncestor: string | undefined): Record<string, string> {
  const contentSecurityPolicy = [
    "default-src 'none'",
    `style-src ${STYLE_SOURCE}`,
    // The page's favicon is an empty data: URI, so the browser asks this API for nothing else.
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestor ?? "'none'"}`,
  ].join('; ');
  return {
    'content-security-policy': contentSecurityPolicy,
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
  };
}

export const handler = operationHandler(api.getRevealPage, async ({ query }) => {
  const outcome = await reveal.revealBySessionToken(query.token);
  if (!outcome.revealed) return respond(410, revealGonePage(), pageHeaders(outcome.frameAncestor));
  return respond(200, revealPage(outcome.secrets), pageHeaders(outcome.frameAncestor));
});
