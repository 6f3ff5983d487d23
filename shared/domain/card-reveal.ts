/**
 * Card reveal sessions (API.md "Card reveal without PCI scope for the partner"): a one-time link to
 * a page that shows a card's number, expiry and CVV inside an iframe of the partner's own page, so
 * card data goes from the platform to the cardholder's browser and never through the partner's
 * servers. Pure: the request schema, the origin rule, the session's lifetime, and the page itself.
 */
import * as z from '../zod.ts';
import type { Stage } from '../config.ts';
import type { CardSecrets } from './cards.ts';

/** How long a link may live, in seconds: long enough to load the iframe, short enough to be useless later. */
export const REVEAL_TTL_SECONDS = { min: 10, max: 300, default: 60 } as const;

export const CreateRevealSessionBody = z.object({
  origin: z.string().check(
    z.minLength(1),
    z.maxLength(256),
    z.meta({
      description: 'The origin of the page that frames the reveal page (`https://app.example.com`): the only one allowed to frame it. `http://localhost` is allowed in sandbox.',
    }),
  ),
  ttl_seconds: z._default(z.int().check(z.gte(REVEAL_TTL_SECONDS.min), z.lte(REVEAL_TTL_SECONDS.max)), REVEAL_TTL_SECONDS.default),
});
export type CreateRevealSessionBody = z.output<typeof CreateRevealSessionBody>;

/** The loopback hosts a sandbox partner develops on. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The origin a reveal page may be framed by, normalised (`scheme://host[:port]`), or undefined when
 * `origin` is not one. The value becomes the page's `frame-ancestors` source, so it must be exactly
 * an origin: no path, query, fragment, credentials or wildcard, nothing that could add a second
 * source or directive to the policy. https only; `http://localhost` (and the loopback addresses)
 * in sandbox only, where partners develop on their own machine.
 */
export function revealOrigin(origin: string, stage: Stage): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return undefined;
  }
  // The URL parser forgives a lot (a trailing slash, upper case); the normalised origin must say
  // the same thing as what was sent, give or take the trailing slash.
  const normalised = parsed.origin;
  if (normalised === 'null' || origin.replace(/\/$/, '').toLowerCase() !== normalised.toLowerCase()) return undefined;
  if (parsed.protocol === 'https:') return normalised;
  if (parsed.protocol === 'http:' && stage === 'sandbox' && LOOPBACK_HOSTS.has(parsed.hostname)) return normalised;
  return undefined;
}

/** When a session created at `nowMs` for `ttlSeconds` stops working. */
export function revealExpiry(nowMs: number, ttlSeconds: number): Date {
  return new Date(nowMs + ttlSeconds * 1000);
}

// ---------------------------------------------------------------------------------------------
// The page

/** The page's only style, allowed by its hash in the page's CSP: the page runs no script at all. */
export const REVEAL_PAGE_STYLE = [
  'html,body{margin:0;padding:0;background:transparent;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111}',
  '.card{box-sizing:border-box;max-width:360px;margin:8px;padding:20px 24px;border-radius:14px;background:linear-gradient(135deg,#1f3b73,#3a6fd8);color:#fff}',
  '.card dl{margin:0;display:grid;grid-template-columns:1fr 1fr;gap:14px 16px}',
  '.card .number{grid-column:1 / -1}',
  '.card dt{font-size:11px;letter-spacing:.08em;text-transform:uppercase;opacity:.75}',
  '.card dd{margin:2px 0 0;font-size:18px;font-variant-numeric:tabular-nums;letter-spacing:.04em;user-select:all}',
  '.card .number dd{font-size:22px}',
  '.gone{margin:8px;padding:16px 20px;border-radius:10px;background:#f4f4f5;color:#333;font-size:14px}',
].join('');

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `3567720000008213` → `3567 7200 0000 8213`, as printed on a card. */
function groupedNumber(number: string): string {
  return number.replace(/(\d{4})(?=\d)/g, '$1 ');
}

function page(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex, nofollow">',
    `<title>${escapeHtml(title)}</title>`,
    // No favicon request: the browser would otherwise ask this API for /favicon.ico.
    '<link rel="icon" href="data:,">',
    `<style>${REVEAL_PAGE_STYLE}</style>`,
    '</head>',
    '<body>',
    body,
    '</body>',
    '</html>',
  ].join('\n');
}

/** The card's number, expiry and CVV, as the cardholder reads them. */
export function revealPage(secrets: CardSecrets): string {
  const expiry = `${secrets.expiry_month.padStart(2, '0')}/${secrets.expiry_year.slice(-2)}`;
  const field = (className: string, label: string, value: string) =>
    `<div class="${className}"><dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd></div>`;
  return page(
    'Card details',
    [
      '<main class="card" aria-label="Card details">',
      '<dl>',
      field('number', 'Card number', groupedNumber(secrets.number)),
      field('expiry', 'Expiry', expiry),
      field('cvv', 'CVV', secrets.cvv),
      '</dl>',
      '</main>',
    ].join(''),
  );
}

/** What a used, expired or unknown link shows: no card data, and nothing that tells which it was. */
export function revealGonePage(): string {
  return page('Link expired', '<p class="gone">This link has expired or was already used. Ask for a new one.</p>');
}
