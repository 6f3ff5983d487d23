/**
 * The API reference page served at `GET /docs`: swagger-ui rendering the stage's own OpenAPI
 * description (`GET /v1/openapi.json`) in the browser.
 *
 * Nothing is fetched from another host: swagger-ui's script and stylesheet are inlined in the page
 * (about 1.9 MB, well under Lambda's 6 MB response and API Gateway's 10 MB), the spec comes from
 * this API, and the online validator is off. A Content-Security-Policy with no external origin
 * holds the page to that: only the page's own inline script and style (by hash) run, and it may
 * connect to its own origin only.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { hashSource, inlineContent } from '../http/page-policy.ts';

interface RendererAssets {
  script: string;
  stylesheet: string;
}

/**
 * swagger-ui-dist's browser bundle and stylesheet. In the Lambda bundle esbuild inlines both files
 * as strings (the `type: 'text'` imports), so the function ships them with no other step; run from
 * source (the local stack, tests), where Node has no text imports, they are read from
 * node_modules.
 */
async function rendererAssets(): Promise<RendererAssets> {
  if (import.meta.url.endsWith('.ts')) {
    const require = createRequire(import.meta.url);
    const read = (file: string) => readFile(require.resolve(`swagger-ui-dist/${file}`), 'utf8');
    const [script, stylesheet] = await Promise.all([read('swagger-ui-bundle.js'), read('swagger-ui.css')]);
    return { script, stylesheet };
  }
  const [script, stylesheet] = await Promise.all([
    import('swagger-ui-dist/swagger-ui-bundle.js', { with: { type: 'text' } }),
    import('swagger-ui-dist/swagger-ui.css', { with: { type: 'text' } }),
  ]);
  return { script: script.default, stylesheet: stylesheet.default };
}

/**
 * Starts swagger-ui on the spec next to the page. The URL is relative to where the page is served:
 * `/docs` locally, `/<stage>/docs` on API Gateway's stage URL, so the spec is the sibling
 * `v1/openapi.json` of whatever prefix precedes `docs`.
 */
const INIT_SCRIPT = `
window.addEventListener('DOMContentLoaded', function () {
  var base = window.location.pathname.replace(/docs\\/?$/, '');
  window.ui = SwaggerUIBundle({
    url: base + 'v1/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

const PAGE_STYLE = 'body { margin: 0; } .swagger-ui .info { margin: 32px 0; }';

export interface ReferencePage {
  html: string;
  contentSecurityPolicy: string;
}

async function buildPage(): Promise<ReferencePage> {
  const assets = await rendererAssets();
  const scripts = [inlineContent(assets.script, 'script'), inlineContent(INIT_SCRIPT, 'script')];
  const styles = [inlineContent(assets.stylesheet, 'style'), PAGE_STYLE];
  const html = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>Card platform API reference</title>',
    // No favicon request: the browser would otherwise ask this API for /favicon.ico.
    '<link rel="icon" href="data:,">',
    ...styles.map((style) => `<style>${style}</style>`),
    '</head>',
    '<body>',
    '<div id="swagger-ui"></div>',
    ...scripts.map((script) => `<script>${script}</script>`),
    '</body>',
    '</html>',
  ].join('\n');
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src ${scripts.map(hashSource).join(' ')}`,
    `style-src ${styles.map(hashSource).join(' ')}`,
    // swagger-ui's icons are data: URIs; "Try it out" calls this API, on the page's own origin.
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy };
}

// Built once per container, on first use: the page is the same for every request.
let page: Promise<ReferencePage> | undefined;

/** The page and its Content-Security-Policy, built on first use and kept (a failed build is retried). */
export function referencePage(): Promise<ReferencePage> {
  page ??= buildPage();
  page.catch(() => (page = undefined));
  return page;
}
