/**
 * Webhook URL safety (SSRF): in production, only https to public addresses, checked on the
 * addresses a connection actually resolves to, and redirects never followed. Sandbox and the local
 * stack may reach loopback and private addresses.
 */
import { createServer, type Server } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookUrlProblem } from '../../../shared/domain/businesses.ts';
import { isPublicAddress } from '../../../shared/domain/webhook-addresses.ts';
import { postWebhook } from '../../../shared/webhooks/http-post.ts';
import { propertySeed } from '../../support/property-seed.ts';

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

  it.each([
    ['::127.0.0.1', 'IPv4-compatible loopback'],
    ['::7f00:1', 'IPv4-compatible loopback, hex'],
    ['::a9fe:a9fe', 'IPv4-compatible metadata service'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex'],
    ['::FFFF:7F00:1', 'IPv4-mapped loopback, uppercase'],
    ['0000:0000:0000:0000:0000:ffff:7f00:0001', 'IPv4-mapped loopback, spelled out'],
    ['::ffff:0:127.0.0.1', 'IPv4-translated loopback'],
    ['::ffff:0:a9fe:a9fe', 'IPv4-translated metadata service'],
    ['64:ff9b::127.0.0.1', 'NAT64 of loopback'],
    ['64:ff9b::7f00:1', 'NAT64 of loopback, hex'],
    ['64:ff9b:1::a00:1', 'local-use NAT64 of 10.0.0.1'],
    ['2002:7f00:1::1', '6to4 of loopback'],
    ['2002:a9fe:a9fe::', '6to4 of the metadata service'],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'Teredo, client 127.0.0.1'],
    ['fd00:ec2::254', 'the EC2 IPv6 metadata service'],
    ['[::1]', 'a bracketed literal (URL text, not an address)'],
    ['fe80::1%eth0', 'a zone id'],
    ['2606:4700:4700::1111%eth0', 'a public address with a zone id'],
  ])('%s is not (%s)', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    ['::ffff:8.8.8.8', 'IPv4-mapped'],
    ['::ffff:808:808', 'IPv4-mapped, hex'],
    ['::8.8.8.8', 'IPv4-compatible'],
    ['::ffff:0:8.8.8.8', 'IPv4-translated'],
  ])('%s is judged as 8.8.8.8, so public (%s)', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it.each([
    ['64:ff9b::8.8.8.8', 'NAT64'],
    ['2002:808:808::1', '6to4'],
    ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', 'Teredo, client 8.8.8.8'],
  ])('%s is never public, even embedding a public address (%s)', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  describe('every IPv6 form of an IPv4 address', () => {
    const hex = (v4: string) => {
      const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
      return `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
    };
    const standsFor: Record<string, (v4: string) => string> = {
      mapped: (v4) => `::ffff:${v4}`,
      'mapped, hex': (v4) => `::ffff:${hex(v4)}`,
      'mapped, spelled out in uppercase': (v4) => `0:0:0:0:0:FFFF:${hex(v4).toUpperCase()}`,
      compatible: (v4) => `::${v4}`,
      'compatible, hex': (v4) => `::${hex(v4)}`,
      translated: (v4) => `::ffff:0:${v4}`,
    };
    const translation: Record<string, (v4: string) => string> = {
      NAT64: (v4) => `64:ff9b::${v4}`,
      'NAT64, hex': (v4) => `64:ff9b::${hex(v4)}`,
      'local-use NAT64': (v4) => `64:ff9b:1::${hex(v4)}`,
      '6to4': (v4) => `2002:${hex(v4)}::1`,
    };
    // Random addresses are mostly public, so half start in a special-purpose range.
    const ipv4 = fc.oneof(
      fc.ipV4(),
      fc.tuple(fc.constantFrom(0, 10, 100, 127, 169, 172, 192, 198, 203, 224, 240, 255), fc.nat(255), fc.nat(255), fc.nat(255)).map((octets) => octets.join('.')),
    );

    it('is public exactly when the IPv4 address is, and a translation prefix never is', () => {
      fc.assert(
        fc.property(ipv4, (v4) => {
          for (const [form, spell] of Object.entries(standsFor)) expect(isPublicAddress(spell(v4)), `${form}: ${spell(v4)}`).toBe(isPublicAddress(v4));
          for (const [form, spell] of Object.entries(translation)) expect(isPublicAddress(spell(v4)), `${form}: ${spell(v4)}`).toBe(false);
        }),
        { seed: propertySeed },
      );
    });
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
