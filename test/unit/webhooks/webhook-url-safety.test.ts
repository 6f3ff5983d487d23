/**
 * Webhook URL safety (SSRF): every deployed stage, sandbox included, reaches public addresses only,
 * whatever IPv6 spelling hides an IPv4 address, checked on the addresses a connection actually
 * resolves to, and redirects are never followed. Production also requires https. Only the local
 * stack (WEBHOOK_PRIVATE_ADDRESSES=allow) may reach loopback and private addresses.
 */
import { createServer, type Server } from 'node:http';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { config, resetConfigForTests } from '../../../shared/config.ts';
import { webhookUrlProblem } from '../../../shared/domain/businesses.ts';
import { isPublicAddress, webhookTargetRules } from '../../../shared/domain/webhook-addresses.ts';
import { setWebhookUrl } from '../../../shared/services/businesses.ts';
import { postWebhook } from '../../../shared/webhooks/http-post.ts';
import { propertySeed } from '../../support/property-seed.ts';

const production = { requireHttps: true, allowPrivateAddresses: false };
const deployedSandbox = { requireHttps: false, allowPrivateAddresses: false };
const localStack = { requireHttps: false, allowPrivateAddresses: true };

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
  const privateUrls = [
    'https://localhost/x',
    'https://127.0.0.1/x',
    'https://2130706433/x', // 127.0.0.1 as one number
    'https://0x7f.1/x',
    'https://10.1.2.3/x',
    'https://169.254.169.254/latest',
    'https://[::1]/x',
    'https://[::127.0.0.1]/x',
    'https://[::ffff:7f00:1]/x',
    'https://[0000:0000:0000:0000:0000:FFFF:A9FE:A9FE]/latest',
    'https://[64:ff9b::a9fe:a9fe]/latest',
    'https://[2002:a9fe:a9fe::]/latest',
  ];

  it('needs https in production, and no loopback or private host', () => {
    expect(webhookUrlProblem('https://hooks.example.com/x', production)).toBeUndefined();
    expect(webhookUrlProblem('http://hooks.example.com/x', production)).toMatch(/https/);
    for (const url of privateUrls) expect(webhookUrlProblem(url, production), url).toMatch(/private/);
  });

  it('allows http in a deployed sandbox, but no loopback or private host', () => {
    expect(webhookUrlProblem('http://hooks.example.com/x', deployedSandbox)).toBeUndefined();
    for (const url of privateUrls) expect(webhookUrlProblem(url, deployedSandbox), url).toMatch(/private/);
    expect(webhookUrlProblem('http://192.168.1.20/hooks', deployedSandbox)).toMatch(/private/);
  });

  it('allows local receivers on the local stack', () => {
    expect(webhookUrlProblem('http://localhost:9000/hooks', localStack)).toBeUndefined();
    expect(webhookUrlProblem('http://192.168.1.20/hooks', localStack)).toBeUndefined();
    expect(webhookUrlProblem('https://user:pw@example.com/', localStack)).toMatch(/credentials/);
  });

  it('refuses a zone id, which no URL may carry', () => {
    expect(webhookUrlProblem('http://[fe80::1%25eth0]:9000/hooks', localStack)).toMatch(/absolute URL/);
  });
});

describe('the WEBHOOK_PRIVATE_ADDRESSES setting', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const saved = { ...process.env };
  const withEnvironment = (variables: Record<string, string | undefined>) => {
    process.env = { ...saved, ...variables };
    resetConfigForTests();
  };
  afterEach(() => {
    process.env = { ...saved };
    resetConfigForTests();
    ddb.reset();
  });
  afterAll(() => ddb.restore());
  const written = () => ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input.ExpressionAttributeValues?.[':url']);

  it('denies private addresses unless set, and the stage does not change that', () => {
    withEnvironment({ STAGE: 'sandbox', WEBHOOK_PRIVATE_ADDRESSES: undefined });
    expect(webhookTargetRules(config())).toEqual(deployedSandbox);
    withEnvironment({ STAGE: 'sandbox', WEBHOOK_PRIVATE_ADDRESSES: 'allow' });
    expect(webhookTargetRules(config())).toEqual(localStack);
  });

  it('cannot allow private addresses in production', () => {
    withEnvironment({
      STAGE: 'production',
      KEY_SOURCE: 'kms',
      KMS_KEY_ARN: 'arn:aws:kms:us-east-1:123456789012:key/x',
      HMAC_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x',
      WEBHOOK_PRIVATE_ADDRESSES: 'allow',
    });
    expect(() => config()).toThrow(/production webhooks may not reach private addresses/);
  });

  it('when denied, keeps the operator from setting a loopback or private URL in sandbox', async () => {
    withEnvironment({ STAGE: 'sandbox', WEBHOOK_PRIVATE_ADDRESSES: 'deny' });
    ddb.on(UpdateCommand).resolves({});
    for (const url of ['http://127.0.0.1:9001/2018-06-01/runtime/invocation/next', 'http://localhost:9000/hooks', 'http://169.254.169.254/latest', 'http://[::ffff:a9fe:a9fe]/latest']) {
      await expect(setWebhookUrl('b-1', url), url).rejects.toMatchObject({ code: 'invalid_webhook_url' });
    }
    await setWebhookUrl('b-1', 'http://8.8.8.8/hooks');
    expect(written()).toEqual(['http://8.8.8.8/hooks']);
  });

  it('when allowed, lets the operator point a sandbox business at a local receiver', async () => {
    withEnvironment({ STAGE: 'sandbox', WEBHOOK_PRIVATE_ADDRESSES: 'allow' });
    ddb.on(UpdateCommand).resolves({});
    await setWebhookUrl('b-1', 'http://localhost:9000/hooks');
    expect(written()).toEqual(['http://localhost:9000/hooks']);
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

  const local = { ...localStack, timeoutMs: 5_000 };
  const sandbox = { ...deployedSandbox, timeoutMs: 5_000 };

  it('reaches a local receiver on the local stack and reports its status', async () => {
    expect(await postWebhook(`http://127.0.0.1:${port}/ok`, {}, '{}', local)).toEqual({ statusCode: 204, durationMs: expect.any(Number) });
    expect(await postWebhook(`http://[::ffff:7f00:1]:${port}/ok`, {}, '{}', local)).toMatchObject({ statusCode: 204 });
  });

  it('never connects to loopback from a deployed stage, by IP literal in any spelling or by name', async () => {
    const before = hits.length;
    for (const host of ['127.0.0.1', 'localhost', '[::1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[0:0:0:0:0:FFFF:7F00:0001]', '[::127.0.0.1]', '[::ffff:0:127.0.0.1]', '[64:ff9b::7f00:1]']) {
      expect(await postWebhook(`http://${host}:${port}/ok`, {}, '{}', sandbox), host).toMatchObject({ error: 'address_not_allowed' });
    }
    expect(hits.length).toBe(before);
  });

  it('refuses a zone id as no URL at all', async () => {
    expect(await postWebhook(`http://[fe80::1%25lo]:${port}/ok`, {}, '{}', local)).toMatchObject({ error: 'invalid_url' });
  });

  it('refuses plain http in production', async () => {
    expect(await postWebhook(`http://127.0.0.1:${port}/ok`, {}, '{}', { ...production, timeoutMs: 5_000 })).toMatchObject({ error: 'https_required' });
  });

  it('does not follow a redirect: the 3xx is the outcome', async () => {
    expect(await postWebhook(`http://127.0.0.1:${port}/redirect`, {}, '{}', local)).toMatchObject({ statusCode: 307 });
    expect(hits).not.toContain('/target');
  });

  it('gives up after the timeout', async () => {
    expect(await postWebhook(`http://127.0.0.1:${port}/slow`, {}, '{}', { ...local, timeoutMs: 200 })).toMatchObject({ error: 'timeout' });
  });

  it('reports a refused connection as an error, without throwing', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await postWebhook(`http://127.0.0.1:${closedPort}/`, {}, '{}', local)).toMatchObject({ error: 'connection_error:ECONNREFUSED' });
  });
});
