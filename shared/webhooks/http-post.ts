/**
 * One webhook POST, with the safety rules of a server-side request to a partner-chosen URL:
 * - the connection goes only to addresses the rules allow (public unicast, except on the local
 *   stack), checked on what DNS returned for THIS connection, so a rebinding name cannot slip a
 *   private address in;
 * - redirects are never followed (a 3xx is just a failed attempt);
 * - the whole exchange, up to the response status, must finish within the timeout.
 *
 * Built on node:http(s) rather than fetch: their `lookup` hook is where the resolved address can
 * be checked before connecting, and they never follow redirects.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isAllowedWebhookAddress, type WebhookTargetRules } from '../domain/webhook-addresses.ts';

export interface PostOptions extends WebhookTargetRules {
  timeoutMs: number;
  /**
   * Read the answer's body, up to this many bytes, and wait for it within the timeout (the
   * authorization endpoint's answer). Without it, the status decides and the body is drained.
   */
  answerBytes?: number;
}

export type PostOutcome = { statusCode: number; durationMs: number; body?: string } | { error: string; durationMs: number };

/** Thrown from the lookup hook; reported as the attempt's error. */
class AddressNotAllowedError extends Error {
  readonly code = 'EADDRNOTALLOWED';
}

// Keep-alive pools, so back-to-back deliveries to a partner reuse one TLS connection.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 50 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 50 }),
};

/** POSTs `body` to `url`; never throws: every failure is an outcome with an error. */
export async function postWebhook(url: string, headers: Record<string, string>, body: string, options: PostOptions): Promise<PostOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { error: 'invalid_url', durationMs: 0 };
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return { error: 'unsupported_scheme', durationMs: 0 };
  if (options.requireHttps && target.protocol !== 'https:') return { error: 'https_required', durationMs: 0 };
  // Node skips `lookup` for an IP literal, so such a host is checked here.
  const literal = target.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) !== 0 && !isAllowedWebhookAddress(literal, options.allowPrivateAddresses)) return { error: 'address_not_allowed', durationMs: 0 };

  const transport = target.protocol === 'https:' ? https : http;
  return new Promise<PostOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: PostOutcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const request = transport.request(
      target,
      {
        method: 'POST',
        agent: agents[target.protocol as 'http:' | 'https:'],
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: guardedLookup(options.allowPrivateAddresses),
        signal: AbortSignal.timeout(options.timeoutMs),
      },
      (response) => {
        const statusCode = response.statusCode ?? 0;
        const limit = options.answerBytes;
        if (limit === undefined) {
          // The status decides the attempt; the body is drained (and ignored) so the socket is reused.
          response.resume();
          return finish({ statusCode, durationMs: elapsed() });
        }
        // An answer longer than the limit is cut there (and so does not parse as an answer).
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < limit) chunks.push(chunk.subarray(0, limit - size));
          size += chunk.length;
        });
        response.on('end', () => finish({ statusCode, durationMs: elapsed(), body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', (error: NodeJS.ErrnoException) => finish({ error: describe(error), durationMs: elapsed() }));
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) => finish({ error: describe(error), durationMs: elapsed() }));
    request.end(body);
  });
}

function describe(error: NodeJS.ErrnoException): string {
  if (error.name === 'AbortError' || error.name === 'TimeoutError') return 'timeout';
  if (error instanceof AddressNotAllowedError || error.code === 'EADDRNOTALLOWED') return 'address_not_allowed';
  return error.code ? `connection_error:${error.code}` : 'connection_error';
}

/** A `lookup` that resolves as usual, then refuses if any returned address is not allowed. */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      // Every address must pass: the socket may try any of them (happy eyeballs).
      if (addresses.length === 0 || addresses.some((entry) => !isAllowedWebhookAddress(entry.address, allowPrivate))) {
        return callback(new AddressNotAllowedError(`${hostname} resolves to an address webhooks may not reach`), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}
