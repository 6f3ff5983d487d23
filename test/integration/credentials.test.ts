/**
 * Credentials over HTTP, the way their holders call, and through the operator CLI (API.md
 * "Credentials"): a business API key works on `/v1/...` only, the card network's key on
 * `/network/authorizations...` and `/network/3ds/...` only, the chain watcher's key on
 * `/network/deposits` only. A valid key of another kind is `403` with a code naming the kind the
 * route needs; an unknown or revoked key is `401`. Operators create, list and revoke keys.
 *
 * A request body of `{}` is a `400 validation_error` on every route used here: a key that got that
 * far was let in, and nothing is written.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminWorkspace, type AdminWorkspace } from '../support/admin-cli.ts';
import { api, AUTHORIZER_CACHE_TTL_MS, createBusiness, localStack, useStackEnvironment, type ApiResponse } from '../support/stack.ts';

function expectRefused(response: ApiResponse, status: 401 | 403, code: string) {
  expect(response.status, response.text).toBe(status);
  expect(response.body).toEqual({ error: { code, message: expect.any(String), request_id: response.headers.get('x-request-id') } });
}

function expectLetIn(response: ApiResponse) {
  expect(response.status, response.text).toBe(400);
  expect(response.body.error.code).toBe('validation_error');
}

const CARD_NETWORK_ROUTES = ['/network/authorizations', '/network/3ds/challenges', `/network/3ds/challenges/${randomUUID()}/verify`];
const CHAIN_WATCHER_ROUTE = '/network/deposits';

describe('each credential on its own routes only', () => {
  it('lets each kind in on its own routes', async () => {
    const { apiKey, networkKey, chainKey } = localStack();
    expect((await api(apiKey).get('/v1/balances')).status).toBe(200);
    for (const path of CARD_NETWORK_ROUTES) expectLetIn(await api(networkKey).post(path, {}));
    expectLetIn(await api(chainKey).post(CHAIN_WATCHER_ROUTE, {}));
  });

  it('refuses the card network key on /network/deposits with 403 chain_credential_required: the network cannot mint money', async () => {
    expectRefused(await api(localStack().networkKey).post(CHAIN_WATCHER_ROUTE, {}), 403, 'chain_credential_required');
  });

  it('refuses the chain watcher key on the card network routes with 403 network_credential_required: the watcher cannot authorize a purchase', async () => {
    for (const path of CARD_NETWORK_ROUTES) expectRefused(await api(localStack().chainKey).post(path, {}), 403, 'network_credential_required');
  });

  it('refuses a business API key on every /network/... route with 403 naming the kind the route needs', async () => {
    const { apiKey } = localStack();
    for (const path of CARD_NETWORK_ROUTES) expectRefused(await api(apiKey).post(path, {}), 403, 'network_credential_required');
    expectRefused(await api(apiKey).post(CHAIN_WATCHER_ROUTE, {}), 403, 'chain_credential_required');
  });

  it('refuses the card network and chain watcher keys on /v1/... with 403 api_key_required', async () => {
    for (const key of [localStack().networkKey, localStack().chainKey]) {
      expectRefused(await api(key).get('/v1/balances'), 403, 'api_key_required');
      expectRefused(await api(key).post('/v1/users', {}), 403, 'api_key_required');
    }
  });

  it('answers an unknown key of any prefix with 401 unauthorized everywhere', async () => {
    for (const key of ['cpk_sandbox_', 'cpn_sandbox_', 'cpc_sandbox_'].map((prefix) => `${prefix}${'x'.repeat(43)}`)) {
      expectRefused(await api(key).get('/v1/balances'), 401, 'unauthorized');
      expectRefused(await api(key).post('/network/authorizations', {}), 401, 'unauthorized');
      expectRefused(await api(key).post(CHAIN_WATCHER_ROUTE, {}), 401, 'unauthorized');
    }
  });
});

describe('npm run admin: credentials', () => {
  let admin: AdminWorkspace;

  beforeAll(async () => {
    admin = await adminWorkspace();
  });
  afterAll(() => admin?.dispose());

  it('creates a card network key and a chain watcher key, each shown once, each working on its own routes only', async () => {
    const network = await admin.run('create-network-key');
    const chain = await admin.run('create-chain-key');
    expect(network.json).toEqual({ id: expect.any(String), kind: 'network', key: expect.stringMatching(/^cpn_sandbox_[A-Za-z0-9_-]{43}$/) });
    expect(chain.json).toEqual({ id: expect.any(String), kind: 'chain', key: expect.stringMatching(/^cpc_sandbox_[A-Za-z0-9_-]{43}$/) });

    expectLetIn(await api(network.json.key).post('/network/authorizations', {}));
    expectRefused(await api(network.json.key).post(CHAIN_WATCHER_ROUTE, {}), 403, 'chain_credential_required');
    expectLetIn(await api(chain.json.key).post(CHAIN_WATCHER_ROUTE, {}));
    expectRefused(await api(chain.json.key).post('/network/authorizations', {}), 403, 'network_credential_required');
  });

  it("lists every credential, businesses' API keys too, with id, kind, business and times, never a key or its hash", async () => {
    const business = await createBusiness(`credentials-${randomUUID()}`);
    const network = await admin.run('create-network-key');
    const listed = await admin.run('list-credentials');

    const data = listed.json.data as Record<string, unknown>[];
    const ofBusiness = data.filter((credential) => credential.business_id === business.business_id);
    expect(ofBusiness).toEqual([{ id: expect.any(String), kind: 'business', business_id: business.business_id, created_at: expect.any(String), revoked_at: null }]);
    expect(data.find((credential) => credential.id === network.json.id)).toEqual({ id: network.json.id, kind: 'network', created_at: expect.any(String), revoked_at: null });
    expect(new Set(data.map((credential) => credential.kind))).toEqual(new Set(['business', 'network', 'chain']));
    // Newest first: the key just created comes before the business key created just before it.
    expect(data.findIndex((credential) => credential.id === network.json.id)).toBeLessThan(data.indexOf(ofBusiness[0]!));

    useStackEnvironment();
    const { keyedHash } = await import('../../shared/crypto/keyed-hash.ts');
    const { apiKey, networkKey, chainKey } = localStack();
    for (const key of [business.api_key, network.json.key, apiKey, networkKey, chainKey]) {
      expect(listed.stdout).not.toContain(key);
      expect(listed.stdout).not.toContain(await keyedHash('credential', key));
    }
    expect(listed.stdout).not.toMatch(/CREDENTIAL#|cp[knc]_sandbox_/);
  });

  it('revokes a key by id: refused with 401 at once where no verdict is cached, and everywhere once the cached verdict expires', async () => {
    const created = await admin.run('create-network-key');
    const key = created.json.key as string;
    // Its Allow is now cached by the card network authorizer, as API Gateway would.
    expectLetIn(await api(key).post('/network/authorizations', {}));

    const revoked = await admin.run('revoke-credential', '--id', created.json.id);
    expect(revoked.json).toEqual({ id: created.json.id, revoked_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });

    // The other authorizers have no verdict on it cached: a revoked key is a 401, not "wrong kind".
    expectRefused(await api(key).post(CHAIN_WATCHER_ROUTE, {}), 401, 'unauthorized');
    expectRefused(await api(key).get('/v1/balances'), 401, 'unauthorized');
    // The route it used is refused once its cached Allow expires (5 min in AWS, 60 s by default locally).
    await vi.waitFor(async () => expectRefused(await api(key).post('/network/authorizations', {}), 401, 'unauthorized'), {
      timeout: AUTHORIZER_CACHE_TTL_MS + 5_000,
      interval: 250,
    });

    const listed = await admin.run('list-credentials');
    expect(listed.json.data.find((credential: { id: string }) => credential.id === created.json.id).revoked_at).toBe(revoked.json.revoked_at);
  });

  it("revokes a business's API key the same way", async () => {
    const business = await createBusiness(`credentials-revoked-${randomUUID()}`);
    const listed = await admin.run('list-credentials');
    const credential = listed.json.data.find((entry: { business_id?: string }) => entry.business_id === business.business_id);
    expect((await admin.run('revoke-credential', '--id', credential.id)).exitCode).toBe(0);
    expectRefused(await api(business.api_key).get('/v1/balances'), 401, 'unauthorized');
  });

  it('refuses to revoke an unknown id, or a key already revoked, saying so', async () => {
    const unknown = randomUUID();
    const missing = await admin.run('revoke-credential', '--id', unknown);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('credential_not_found: No such credential.');

    const created = await admin.run('create-chain-key');
    const first = await admin.run('revoke-credential', '--id', created.json.id);
    const again = await admin.run('revoke-credential', '--id', created.json.id);
    expect(again.exitCode).toBe(1);
    expect(again.stdout).toBe('');
    expect(first.exitCode).toBe(0);
    expect(again.stderr).toContain('credential_already_revoked: The credential was already revoked.');

    const noId = await admin.run('revoke-credential');
    expect(noId.exitCode).toBe(2);
    expect(noId.stderr).toContain('--id is required');
  });

  it("keeps .local/credentials.json current when the sandbox business's key or webhook secret rotates, and leaves it alone for another business", async () => {
    const sandbox = await createBusiness(`credentials-sandbox-${randomUUID()}`);
    const file = { api_base: localStack().apiBase, ...sandbox, network_key: localStack().networkKey, chain_key: localStack().chainKey };
    await admin.writeCredentials(file);

    const rotated = await admin.run('rotate-key', '--business-id', sandbox.business_id);
    expect(rotated.json).toEqual({ business_id: sandbox.business_id, api_key: expect.stringMatching(/^cpk_sandbox_/) });
    expect(await admin.readCredentials()).toEqual({ ...file, api_key: rotated.json.api_key });
    expect((await api(rotated.json.api_key).get('/v1/balances')).status).toBe(200);
    // The old key was revoked in the same transaction (never used, so nothing is cached for it).
    expectRefused(await api(sandbox.api_key).get('/v1/balances'), 401, 'unauthorized');

    const secret = await admin.run('rotate-webhook-secret', '--business-id', sandbox.business_id);
    expect(await admin.readCredentials()).toEqual({ ...file, api_key: rotated.json.api_key, webhook_secret: secret.json.webhook_secret });

    const other = await createBusiness(`credentials-other-${randomUUID()}`);
    expect((await admin.run('rotate-key', '--business-id', other.business_id)).exitCode).toBe(0);
    expect((await admin.readCredentials()).api_key).toBe(rotated.json.api_key);
  });
});
