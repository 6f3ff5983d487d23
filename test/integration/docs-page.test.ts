/**
 * `GET /docs`: the API reference as a partner's browser shows it. A headless Chromium
 * (test/support/chromium.ts) loads the page with no API key, waits for swagger-ui to render the
 * stage's own OpenAPI description (`GET /v1/openapi.json`), and checks that nothing came from
 * another host and that the page's Content-Security-Policy blocked nothing it needs. The rendered
 * page is kept as docs/api-reference.png, the picture the docs link to.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { withBrowserPage } from '../support/chromium.ts';
import { api, localStack } from '../support/stack.ts';

const SCREENSHOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'api-reference.png');

describe('GET /docs', () => {
  it('is served without an API key, with a CSP that names no other origin', async () => {
    const response = await api().get('/docs');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/https?:|\*|'unsafe-inline'|'unsafe-eval'/);
    expect(response.headers.get('x-request-id')).toBeTruthy();
  });

  it('renders the stage\'s reference in a browser, fetching nothing from another host', { timeout: 120_000 }, async () => {
    const { apiBase } = localStack();
    const apiHost = new URL(apiBase).host;
    // The page renders the stage's spec: without it there is nothing to render.
    expect((await api().get('/v1/openapi.json')).status, 'GET /v1/openapi.json (the spec the page renders)').toBe(200);
    const run = await withBrowserPage(async (page) => {
      await page.goto(`${apiBase}/docs`);
      // An operation's row, titled by its path, once swagger-ui has fetched and rendered the spec.
      await page.locator('.opblock-summary-path', { hasText: '/v1/cards' }).first().waitFor({ state: 'visible', timeout: 30_000 });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    });
    const elsewhere = run.requests.filter((url) => !url.startsWith('data:') && new URL(url).host !== apiHost);
    expect(elsewhere).toEqual([]);
    expect(run.requests).toContain(`${apiBase}/v1/openapi.json`);
    expect(run.consoleErrors.filter((message) => /Content.Security.Policy/i.test(message))).toEqual([]);
  });
});
