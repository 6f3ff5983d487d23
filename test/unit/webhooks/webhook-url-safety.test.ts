/**
 * Webhook URL safety (SSRF): in production, only https to public addresses, checked on the
 * addresses a connection actually resolves to, and redirects never followed. Sandbox and the local
 * stack may reach loopback and private addresses.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookUrlProblem } from '../../../shared/domain/businesses.ts';
import { isPublicAddress } from '../../../shared/domain/webhook-addresses.ts';
import { postWebhook } from '../../../shared/webhooks/http-post.ts';

describe('public addresses', () => {
  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('%s is public', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it.each([
    '127.0.0.1', '10.0.0.8', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255',
    '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '64:ff9b::a00:1', 'not-an-address',
  ])('%s is not', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });
});

describe('setting a webhook URL', () => {
  it('needs https in production, and no loopback or private host', () => {
    expect(webhookUrlProblem('https://hooks.example.com/x', 'production')).toBeUndefined();
    expect(webhookUrlProblem('http://hooks.example.com/x', 'production')).toMatch(/https/);
    for (const url of ['https://localhost/x', 'https://127.0.0.1/x', 'https://10.1.2.3/x', 'https://[::1]/x', 'https://169.254.169.254/latest']) {
      expect(webhookUrlProblem(url, 'production'), url).toMatch(/private/);
    }
  });

  it('allows http and local receivers in sandbox', () => {
    expect(webhookUrlProblem('http://localhost:9000/hooks', 'sandbox')).toBeUndefined();
    expect(webhookUrlProblem('http://192.168.1.20/hooks', 'sandbox')).toBeUndefined();
    expect(webhookUrlProblem('https://user:pw@example.com/', 'sandbox')).toMatch(/credentials/);
  });
});

describe('a webhook POST', () => {
  let server: Server;
  let port: number;
  const hits: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/redirect') res.writeHead(307, { location: '/target' }).end();
      else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end(), 2_000).unref();
      else res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));

  const sandbox = { allowPrivateAddresses: true, requireHttps: false, timeoutMs: 5_000 };
  const production = { allowPrivateAddresses: false, requireHttps: true, timeoutMs: 5_000 };

  it('reaches a local receiver in sandbox and reports its status', async () => {
    expect(await postWebhook(`http://127.0.0.1:${port}/ok`, {}, '{}', sandbox)).toEqual({ statusCode: 204, durationMs: expect.any(Number) });
  });

  it('never connects to loopback in production, by IP literal or by name', async () => {
    const before = hits.length;
    const httpsOnly = { ...production, requireHttps: false };
    expect(await postWebhook(`http://127.0.0.1:${port}/ok`, {}, '{}', httpsOnly)).toMatchObject({ error: 'address_not_allowed' });
    expect(await postWebhook(`http://localhost:${port}/ok`, {}, '{}', httpsOnly)).toMatchObject({ error: 'address_not_allowed' });
    expect(await postWebhook(`http://[::1]:${port}/ok`, {}, '{}', httpsOnly)).toMatchObject({ error: 'address_not_allowed' });
    expect(hits.length).toBe(before);
  });

  it('refuses plain http in production', async () => {
    expect(await postWebhook(`http://127.0.0.1:${port}/ok`, {}, '{}', production)).toMatchObject({ error: 'https_required' });
  });

  it('does not follow a redirect: the 3xx is the outcome', async () => {
    expect(await postWebhook(`http://127.0.0.1:${port}/redirect`, {}, '{}', sandbox)).toMatchObject({ statusCode: 307 });
    expect(hits).not.toContain('/target');
  });

  it('gives up after the timeout', async () => {
    expect(await postWebhook(`http://127.0.0.1:${port}/slow`, {}, '{}', { ...sandbox, timeoutMs: 200 })).toMatchObject({ error: 'timeout' });
  });

  it('reports a refused connection as an error, without throwing', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await postWebhook(`http://127.0.0.1:${closedPort}/`, {}, '{}', sandbox)).toMatchObject({ error: 'connection_error:ECONNREFUSED' });
  });
});
