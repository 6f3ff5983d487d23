/**
 * `GET /docs` (no API key): the API reference, rendered in the browser by swagger-ui from the
 * stage's own OpenAPI description (`GET /v1/openapi.json`).
 *
 * Nothing is fetched from another host: swagger-ui's script and stylesheet are inlined in the page
 * (about 1.9 MB, well under Lambda's 6 MB response and API Gateway's 10 MB), the spec comes from
 * this API, and the online validator is off. A Content-Security-Policy with no external origin
 * holds the page to that: only the page's own inline script and style (by hash) run, and it may
 * connect to its own origin only.
 */
import * as api from '../../shared/contracts/api-description.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { respond } from '../../shared/http/responses.ts';
import { referencePage } from '../../shared/services/reference-page.ts';

export const handler = operationHandler(api.getReferencePage, async () => {
  const { html, contentSecurityPolicy } = await referencePage();
  return respond(200, html, {
    'content-security-policy': contentSecurityPolicy,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'public, max-age=300',
  });
});
