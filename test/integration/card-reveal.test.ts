/**
 * Card reveal links over HTTP, the way a partner and its cardholder's browser use them: the partner
 * asks for a link with its API key; the browser loads the link, with no key, inside an iframe of
 * the partner's page. A headless Chromium (test/support/chromium.ts) checks what only a browser
 * can: the page shows inside an iframe of the session's origin, and is refused inside any other.
 * The page as the cardholder sees it, with a sandbox card, is kept as docs/reveal-page.png.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withBrowserPage } from '../support/chromium.ts';
import { api, createBusiness, localStack, type ApiClient } from '../support/stack.ts';

const SCREENSHOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'reveal-page.png');
const ORIGIN = 'https://app.example.com';

interface CardDetails {
  id: string;
  card_number: string;
  cvv: string;
  expiry_month: string;
  expiry_year: string;
}

let client: ApiClient;
let card: CardDetails;

async function issueCard(caller: ApiClient = client): Promise<CardDetails> {
  const created = await caller.post('/v1/cards', { mode: 'B2B' });
  expect(created.status).toBe(201);
  const full = await caller.get(`/v1/cards/${created.body.id}/full`);
  expect(full.status).toBe(200);
  return full.body;
}

async function revealLink(cardId: string, body: Record<string, unknown> = { origin: ORIGIN }): Promise<{ url: string; expires_at: string }> {
  const session = await client.post(`/v1/cards/${cardId}/reveal-sessions`, body);
  expect(session.status, JSON.stringify(session.body)).toBe(201);
  return session.body;
}

/** The link's path and query, for the contract-checking client (the link is absolute). */
const pathOf = (url: string) => `${new URL(url).pathname}${new URL(url).search}`;

/** What of a card a page shows: number (as printed, in groups of four), CVV, expiry. */
function cardForms(details: CardDetails): string[] {
  return [details.card_number.replace(/(\d{4})(?=\d)/g, '$1 '), details.card_number.slice(-4), `>${details.cvv}<`, `${details.expiry_month}/${details.expiry_year.slice(-2)}`];
}

function expectNoCardData(html: string, details: CardDetails): void {
  for (const form of cardForms(details)) expect(html, form).not.toContain(form);
  expect(html).not.toMatch(/\d{4} \d{4} \d{4} \d{4}/);
}

beforeAll(async () => {
  client = api(localStack().apiKey);
  card = await issueCard();
});

describe('POST /v1/cards/{id}/reveal-sessions', () => {
  it('answers a one-time link on this API, good for 60 seconds by default', async () => {
    const before = Date.now();
    const session = await client.post(`/v1/cards/${card.id}/reveal-sessions`, { origin: ORIGIN });
    expect(session.status).toBe(201);
    expect(session.body).toEqual({ url: expect.stringMatching(/\/v1\/card-reveal\?token=rvl_[A-Za-z0-9_-]{43}$/), expires_at: expect.any(String) });
    expect(session.body.url.startsWith(`${localStack().apiBase}/v1/card-reveal?token=`)).toBe(true);
    expect(Math.round((Date.parse(session.body.expires_at) - before) / 1000)).toBeGreaterThanOrEqual(59);
    expect(Math.round((Date.parse(session.body.expires_at) - before) / 1000)).toBeLessThanOrEqual(61);
  });

  it('refuses an origin that is not an https origin, and a lifetime outside 10-300 seconds', async () => {
    for (const origin of ['http://app.example.com', 'https://app.example.com/wallet', '*', 'app.example.com']) {
      const refused = await client.post(`/v1/cards/${card.id}/reveal-sessions`, { origin });
      expect(refused.status, origin).toBe(400);
      expect(refused.body.error.code, origin).toBe('invalid_reveal_origin');
    }
    for (const ttl_seconds of [0, 9, 301]) {
      const refused = await client.post(`/v1/cards/${card.id}/reveal-sessions`, { origin: ORIGIN, ttl_seconds });
      expect(refused.status, String(ttl_seconds)).toBe(400);
      expect(refused.body.error.code).toBe('validation_error');
    }
    expect((await client.post(`/v1/cards/${card.id}/reveal-sessions`, { origin: 'http://localhost:3000' })).status).toBe(201);
  });

  it("answers another business's card as a missing one, and refuses a terminated card", async () => {
    const other = api((await createBusiness(`reveal-other-${randomUUID()}`)).api_key);
    const refused = await other.post(`/v1/cards/${card.id}/reveal-sessions`, { origin: ORIGIN });
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('card_not_found');

    const doomed = await issueCard();
    const link = await revealLink(doomed.id);
    expect((await client.post(`/v1/cards/${doomed.id}/terminate`)).status).toBe(200);
    const terminated = await client.post(`/v1/cards/${doomed.id}/reveal-sessions`, { origin: ORIGIN });
    expect(terminated.status).toBe(409);
    expect(terminated.body.error.code).toBe('card_terminated');
    // A link made before the card was terminated dies with it.
    const page = await api().get(pathOf(link.url));
    expect(page.status).toBe(410);
    expectNoCardData(page.text, doomed);
  });
});

describe('GET <reveal link>', () => {
  it('shows the card once, with no key, never cached, framed only by the session origin', async () => {
    const link = await revealLink(card.id);
    const page = await api().get(pathOf(link.url));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp.split('; ')).toEqual(expect.arrayContaining(["default-src 'none'", `frame-ancestors ${ORIGIN}`, "base-uri 'none'", "form-action 'none'"]));
    expect(csp).not.toMatch(/script-src|'unsafe-inline'|\*/);
    expect(page.text).not.toMatch(/<script/i);
    for (const form of cardForms(card)) expect(page.text, form).toContain(form);

    const again = await api().get(pathOf(link.url));
    expect(again.status).toBe(410);
    expect(again.headers.get('cache-control')).toBe('no-store');
    expectNoCardData(again.text, card);
  });

  it('records each reveal in the card\'s audit trail, with the origin and the key that made the link', async () => {
    const audited = await issueCard();
    const link = await revealLink(audited.id, { origin: 'https://wallet.example.org' });
    expect((await api().get(pathOf(link.url))).status).toBe(200);
    const trail = await client.get(`/v1/cards/${audited.id}/audit-events`);
    expect(trail.status).toBe(200);
    const [newest, first] = trail.body.data;
    expect(newest).toMatchObject({ action: 'reveal', reveal_origin: 'https://wallet.example.org', p_card_id: audited.id });
    // The same key made the link and read /full: the audit names it both times.
    expect(newest.key_id).toBe(first.key_id);
    expect(first).toMatchObject({ action: 'reveal', reveal_origin: null });
  });

  it('is gone after expires_at, without ever showing the card', { timeout: 30_000 }, async () => {
    const link = await revealLink(card.id, { origin: ORIGIN, ttl_seconds: 10 });
    await new Promise((resolve) => setTimeout(resolve, Date.parse(link.expires_at) - Date.now() + 300));
    const page = await api().get(pathOf(link.url));
    expect(page.status).toBe(410);
    expectNoCardData(page.text, card);
  });

  it('answers a token it never issued like a used one, framed by no one', async () => {
    for (const token of [`rvl_${'A'.repeat(43)}`, 'guess']) {
      const page = await api().get(`/v1/card-reveal?token=${token}`);
      expect(page.status, token).toBe(410);
      expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    }
  });

  it('reveals once under 20 concurrent loads of one link: one 200 with the card, nineteen 410s without', async () => {
    const link = await revealLink(card.id);
    const loads = await Promise.all(Array.from({ length: 20 }, () => fetch(link.url).then(async (response) => ({ status: response.status, html: await response.text() }))));
    const shown = loads.filter((load) => load.status === 200);
    expect(shown).toHaveLength(1);
    for (const form of cardForms(card)) expect(shown[0]!.html).toContain(form);
    const gone = loads.filter((load) => load.status === 410);
    expect(gone).toHaveLength(19);
    for (const load of gone) expectNoCardData(load.html, card);
  });
});

/** A partner's page, served from its own origin, framing whatever link it is given. */
async function partnerSite(): Promise<{ origin: string; pageFor: (link: string) => string; stop: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const link = new URL(request.url ?? '/', 'http://partner.invalid').searchParams.get('link') ?? '';
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      [
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Your card</title>',
        '<style>body{font-family:system-ui,sans-serif;margin:24px;background:#fafafa}h1{font-size:18px}iframe{border:0;width:400px;height:200px}</style>',
        '</head><body><h1>Your virtual card</h1>',
        `<iframe id="reveal" title="Card details" src="${link.replace(/"/g, '&quot;')}" referrerpolicy="no-referrer"></iframe>`,
        '</body></html>',
      ].join(''),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    pageFor: (link) => `${origin}/card?link=${encodeURIComponent(link)}`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('the reveal page in a browser', () => {
  let allowed: Awaited<ReturnType<typeof partnerSite>>;
  let elsewhere: Awaited<ReturnType<typeof partnerSite>>;

  beforeAll(async () => {
    allowed = await partnerSite();
    elsewhere = await partnerSite();
  });
  afterAll(async () => {
    await allowed?.stop();
    await elsewhere?.stop();
  });

  it('shows the card inside an iframe of the session origin, refuses other origins, and shows nothing on a second load', { timeout: 120_000 }, async () => {
    const shown = await revealLink(card.id, { origin: allowed.origin });
    const framedElsewhere = await revealLink(card.id, { origin: allowed.origin });
    const run = await withBrowserPage(async (page) => {
      await page.setViewportSize({ width: 480, height: 300 });

      await page.goto(allowed.pageFor(shown.url));
      const frame = page.frameLocator('#reveal');
      await frame.locator('.number dd').waitFor({ state: 'visible', timeout: 30_000 });
      const number = await frame.locator('.number dd').textContent();
      const cvv = await frame.locator('.cvv dd').textContent();
      const expiry = await frame.locator('.expiry dd').textContent();
      await page.screenshot({ path: SCREENSHOT });

      // Another origin frames a live link: the browser refuses to render it.
      await page.goto(elsewhere.pageFor(framedElsewhere.url));
      await page.waitForLoadState('load');
      const refusedFrame = page.frames().find((candidate) => candidate !== page.mainFrame());
      const refusedText = refusedFrame ? await refusedFrame.locator('body').innerText({ timeout: 5_000 }).catch(() => '') : '';
      const refusedUrl = refusedFrame?.url() ?? '';

      // The allowed origin loads the used link again: the 410 page, no card data.
      await page.goto(allowed.pageFor(shown.url));
      await frame.locator('.gone').waitFor({ state: 'visible', timeout: 30_000 });
      const secondHtml = await frame.locator('html').innerHTML();
      return { number, cvv, expiry, refusedText, refusedUrl, secondHtml };
    });
    const { number, cvv, expiry, refusedText, refusedUrl, secondHtml } = run.result;
    expect(number?.replace(/ /g, '')).toBe(card.card_number);
    expect(cvv).toBe(card.cvv);
    expect(expiry).toBe(`${card.expiry_month}/${card.expiry_year.slice(-2)}`);

    // Chromium refuses the frame (CSP frame-ancestors) and shows its own error page in its place.
    const refusals = run.consoleErrors.filter((message) => /violates .*Content Security Policy/.test(message) && message.includes(`"frame-ancestors ${allowed.origin}"`));
    expect(refusals, run.consoleErrors.join('\n')).toHaveLength(1);
    expect(refusedUrl).not.toContain('/v1/card-reveal');
    // Chromium's page names the refused host: without its address and port, no card digits as a word
    // (a CVV can be a part of a port, or `127`).
    const refusedWords = refusedText.replace(/\b\d{1,3}(\.\d{1,3}){3}(:\d+)?|localhost(:\d+)?/g, ' ');
    expect(refusedWords).not.toContain(card.card_number);
    expect(refusedWords).not.toMatch(/\d{4} \d{4} \d{4} \d{4}/);
    expect(refusedWords).not.toMatch(new RegExp(`\\b${card.card_number.slice(-4)}\\b`));
    expect(refusedWords).not.toMatch(new RegExp(`\\b${card.cvv}\\b`));

    expectNoCardData(secondHtml, card);
    expect(secondHtml).toMatch(/expired or was already used/);
    // The page asked for nothing but itself: no script, font or image from anywhere.
    const fetched = run.requests.filter((url) => !url.startsWith('data:') && !url.startsWith(allowed.origin) && !url.startsWith(elsewhere.origin));
    expect(fetched.sort()).toEqual([framedElsewhere.url, shown.url, shown.url].sort());
  });
});
