/**
 * Wallets over HTTP, the way a partner (and the chain watcher) calls them: deposit addresses on
 * every chain, simulated and network-reported deposits that credit once, the deposits list, and a
 * B2C card spending what a deposit credited.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveAddress, parseAccountKey } from '../../shared/domain/chain-addresses.ts';
import type { KeyFamily } from '../../shared/domain/chains.ts';
import { SANDBOX_TEST_XPUBS } from '../../shared/services/wallet-keys.ts';
import { api, createBusiness, localStack, useStackEnvironment, type ApiClient } from '../support/stack.ts';
import { startWebhookReceiver, verifyWith } from '../support/webhook-receiver.ts';

let partner: ApiClient;
let businessId: string;
let other: ApiClient;
let chainWatcher: ApiClient;

beforeAll(async () => {
  const business = await createBusiness(`wallets-${randomUUID()}`);
  partner = api(business.api_key);
  businessId = business.business_id;
  other = api((await createBusiness(`wallets-other-${randomUUID()}`)).api_key);
  chainWatcher = api(localStack().chainKey);
});

function ekyc() {
  return {
    first_name: 'Mei Ling',
    last_name: 'Chan',
    date_of_birth: '1988-02-29',
    nationality: 'HK',
    id_type: 'national_id',
    id_number: `A${randomBytes(4).readUInt32BE() % 10_000_000}`.padEnd(8, '0'),
    email: `mei.${randomUUID()}@example.com`,
    phone: '+85261234567',
    address: { line1: '2 Nathan Road', city: 'Kowloon', country: 'HK' },
  };
}

async function newUser(client: ApiClient = partner): Promise<string> {
  const created = await client.post('/v1/users', { ekyc: ekyc() });
  expect(created.status).toBe(201);
  return created.body.p_user_id as string;
}

async function address(userId: string, chain: string, client: ApiClient = partner): Promise<string> {
  const response = await client.post(`/v1/users/${userId}/wallet-addresses`, { chain });
  expect([200, 201]).toContain(response.status);
  return response.body.address as string;
}

const evmTx = () => `0x${randomBytes(32).toString('hex')}`;
const bareTx = () => randomBytes(32).toString('hex');

async function balances(userId: string): Promise<Record<string, { available: string; pending: string }>> {
  const response = await partner.get(`/v1/users/${userId}/balances`);
  expect(response.status).toBe(200);
  return Object.fromEntries(response.body.data.map((b: { currency: string; available: string; pending: string }) => [b.currency, b]));
}

/** The family key and child index a derivation path names, e.g. m/44'/60'/0'/0/7 -> evm, 7. */
function derivedFromPath(path: string): { family: KeyFamily; index: number } {
  const match = /^m\/(84|44)'\/(0|60|195)'\/0'\/0\/(\d+)$/.exec(path);
  expect(match, path).not.toBeNull();
  const family: KeyFamily = match![2] === '0' ? 'btc' : match![2] === '60' ? 'evm' : 'tron';
  return { family, index: Number(match![3]) };
}

describe('deposit addresses', () => {
  it('gives a user an address on every chain, each derived from the sandbox keys at the path it states', async () => {
    const userId = await newUser();
    const created: Record<string, any> = {};
    for (const chain of ['BTC', 'ETH', 'BSC', 'POLYGON', 'TRON']) {
      const response = await partner.post(`/v1/users/${userId}/wallet-addresses`, { chain });
      expect(response.status, chain).toBe(201);
      expect(response.body.p_created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
      created[chain] = response.body;
    }
    expect(created.BTC).toMatchObject({ chain: 'BTC', p_user_id: userId, assets: ['BTC'] });
    expect(created.BTC.address).toMatch(/^bc1q[02-9ac-hj-np-z]{38}$/);
    expect(created.ETH.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(created.ETH.assets).toEqual(['ETH', 'USDT', 'USDC']);
    expect(created.TRON.address).toMatch(/^T[1-9A-HJ-NP-Za-km-z]{33}$/);
    expect(created.TRON.assets).toEqual(['USDT', 'USDC']);
    // One EVM account serves the three EVM chains.
    expect(created.BSC.address).toBe(created.ETH.address);
    expect(created.POLYGON.address).toBe(created.ETH.address);
    expect(created.BSC.derivation_path).toBe(created.ETH.derivation_path);

    for (const chain of ['BTC', 'ETH', 'TRON']) {
      const { family, index } = derivedFromPath(created[chain].derivation_path);
      expect(deriveAddress(parseAccountKey(family, SANDBOX_TEST_XPUBS[family]), index).address, chain).toBe(created[chain].address);
    }

    const listed = await partner.get(`/v1/users/${userId}/wallet-addresses`);
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((w: { chain: string }) => w.chain).sort()).toEqual(['BSC', 'BTC', 'ETH', 'POLYGON', 'TRON']);
    expect(listed.body.data.find((w: { chain: string }) => w.chain === 'TRON')).toEqual(created.TRON);
  });

  it('answers the same address with 200 when asked again, even many times at once', async () => {
    const userId = await newUser();
    const responses = await Promise.all(Array.from({ length: 8 }, () => partner.post(`/v1/users/${userId}/wallet-addresses`, { chain: 'TRON' })));
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(7);
    expect(new Set(responses.map((r) => r.body.address)).size).toBe(1);
    const again = await partner.post(`/v1/users/${userId}/wallet-addresses`, { chain: 'TRON' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(responses.find((r) => r.status === 201)!.body);
  });

  it('never gives two users the same address or child index', async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => newUser()));
    const created = await Promise.all(users.map((userId) => partner.post(`/v1/users/${userId}/wallet-addresses`, { chain: 'BTC' })));
    expect(created.every((r) => r.status === 201)).toBe(true);
    expect(new Set(created.map((r) => r.body.address)).size).toBe(6);
    expect(new Set(created.map((r) => r.body.derivation_path)).size).toBe(6);
  });

  it('creates no new address for a suspended user but still shows the ones it has', async () => {
    const userId = await newUser();
    const eth = await address(userId, 'ETH');
    expect((await partner.patch(`/v1/users/${userId}`, { status: 'Suspended' })).status).toBe(200);
    const refused = await partner.post(`/v1/users/${userId}/wallet-addresses`, { chain: 'TRON' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('user_not_active');
    const existing = await partner.post(`/v1/users/${userId}/wallet-addresses`, { chain: 'ETH' });
    expect(existing.status).toBe(200);
    expect(existing.body.address).toBe(eth);
  });

  it('treats another business\'s user as missing, and refuses an unknown chain', async () => {
    const userId = await newUser();
    for (const response of [
      await other.post(`/v1/users/${userId}/wallet-addresses`, { chain: 'ETH' }),
      await other.get(`/v1/users/${userId}/wallet-addresses`),
      await other.get(`/v1/users/${userId}/deposits`),
    ]) {
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('user_not_found');
    }
    const bad = await partner.post(`/v1/users/${userId}/wallet-addresses`, { chain: 'SOL' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields[0].path).toBe('chain');
  });
});

describe('deposits', () => {
  it('credits USDT and USDC to USD 1:1 and BTC and ETH to their own balances, with records the user can list', async () => {
    const userId = await newUser();
    const tron = await address(userId, 'TRON');
    const evm = await address(userId, 'POLYGON');
    const btc = await address(userId, 'BTC');
    await address(userId, 'ETH');

    const usdt = await partner.post('/v1/simulate/deposits', { chain: 'TRON', address: tron, asset: 'USDT', amount: '125.5', tx_hash: bareTx(), log_index: 0 });
    expect(usdt.status).toBe(201);
    expect(usdt.body).toMatchObject({
      p_business_id: businessId,
      p_user_id: userId,
      status: 'Completed',
      chain: 'TRON',
      address: tron,
      asset: 'USDT',
      amount: '125.5',
      log_index: 0,
      vout: null,
      credited_currency: 'USD',
      credited_amount: '125.5',
      fee: '0',
    });
    // The sub-cent rest of a 6-decimal stablecoin amount is not credited (USD has cents).
    const usdc = await partner.post('/v1/simulate/deposits', { chain: 'POLYGON', address: evm.toLowerCase(), asset: 'USDC', amount: '0.019999', tx_hash: evmTx(), log_index: 3 });
    expect(usdc.status).toBe(201);
    expect(usdc.body).toMatchObject({ address: evm, amount: '0.019999', credited_currency: 'USD', credited_amount: '0.01' });
    const sats = await partner.post('/v1/simulate/deposits', { chain: 'BTC', address: btc, asset: 'BTC', amount: '0.00012345', tx_hash: bareTx(), vout: 1 });
    expect(sats.body).toMatchObject({ status: 'Completed', credited_currency: 'BTC', credited_amount: '0.00012345', vout: 1, log_index: null });
    const wei = await partner.post('/v1/simulate/deposits', { chain: 'ETH', address: evm, asset: 'ETH', amount: '1.000000000000000001', tx_hash: evmTx() });
    expect(wei.body).toMatchObject({ credited_currency: 'ETH', credited_amount: '1.000000000000000001' });

    expect(await balances(userId)).toMatchObject({
      USD: { available: '125.51', pending: '0' },
      BTC: { available: '0.00012345', pending: '0' },
      ETH: { available: '1.000000000000000001', pending: '0' },
    });

    const listed = await partner.get(`/v1/users/${userId}/deposits`);
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((d: { id: string }) => d.id)).toEqual([wei.body.id, sats.body.id, usdc.body.id, usdt.body.id]);
    expect(listed.body.next_cursor).toBeNull();
    const first = await partner.get(`/v1/users/${userId}/deposits?limit=3`);
    expect(first.body.data).toHaveLength(3);
    const rest = await partner.get(`/v1/users/${userId}/deposits?limit=3&cursor=${encodeURIComponent(first.body.next_cursor)}`);
    expect(rest.body.data.map((d: { id: string }) => d.id)).toEqual([usdt.body.id]);
    expect(rest.body.next_cursor).toBeNull();
  });

  it('credits a deposit once however often, and however concurrently, it is reported', async () => {
    const userId = await newUser();
    const tron = await address(userId, 'TRON');
    const deposit = { chain: 'TRON', address: tron, asset: 'USDT', amount: '40', tx_hash: bareTx(), log_index: 2 };
    const responses = await Promise.all(Array.from({ length: 10 }, () => partner.post('/v1/simulate/deposits', deposit)));
    const replayed = [...responses, ...(await Promise.all(Array.from({ length: 5 }, () => chainWatcher.post('/network/deposits', deposit))))];
    expect(replayed.filter((r) => r.status === 201)).toHaveLength(1);
    expect(replayed.filter((r) => r.status === 200)).toHaveLength(14);
    expect(new Set(replayed.map((r) => r.body.id)).size).toBe(1);
    // The tx hash is case-insensitive: the same deposit in capitals is still a repeat.
    expect((await partner.post('/v1/simulate/deposits', { ...deposit, tx_hash: deposit.tx_hash.toUpperCase() })).status).toBe(200);
    expect((await balances(userId)).USD).toEqual({ currency: 'USD', available: '40', pending: '0' });
    expect((await partner.get(`/v1/users/${userId}/deposits`)).body.data).toHaveLength(1);

    // Another transfer in the same transaction (another log index) is another deposit.
    expect((await partner.post('/v1/simulate/deposits', { ...deposit, log_index: 3 })).status).toBe(201);
    expect((await balances(userId)).USD!.available).toBe('80');
  });

  it('credits one on-chain transfer once, reported without log_index and then with log_index 0 (the first is a 400)', async () => {
    const userId = await newUser();
    const evm = await address(userId, 'ETH');
    const transfer = { chain: 'ETH', address: evm, asset: 'USDT', amount: '25', tx_hash: evmTx() };

    const without = await chainWatcher.post('/network/deposits', transfer);
    expect(without.status).toBe(400);
    expect(without.body.error.fields).toEqual([{ path: 'log_index', message: expect.stringContaining('is required for a USDT transfer on ETH') }]);
    const withIndex = await chainWatcher.post('/network/deposits', { ...transfer, log_index: 0 });
    expect(withIndex.status).toBe(201);
    // The same transfer with its hash in capitals (0xABC… and 0xabc… are one hash) is a repeat.
    const shouted = await chainWatcher.post('/network/deposits', { ...transfer, log_index: 0, tx_hash: `0x${transfer.tx_hash.slice(2).toUpperCase()}` });
    expect(shouted.status).toBe(200);
    expect(shouted.body).toEqual(withIndex.body);

    expect((await balances(userId)).USD).toEqual({ currency: 'USD', available: '25', pending: '0' });
    expect((await partner.get(`/v1/users/${userId}/deposits`)).body.data).toHaveLength(1);
  });

  it('refuses a repeat that disagrees with the recorded deposit, crediting nothing', async () => {
    const userId = await newUser();
    const tron = await address(userId, 'TRON');
    const deposit = { chain: 'TRON', address: tron, asset: 'USDT', amount: '10', tx_hash: bareTx(), log_index: 0 };
    expect((await partner.post('/v1/simulate/deposits', deposit)).status).toBe(201);
    const conflict = await partner.post('/v1/simulate/deposits', { ...deposit, amount: '11' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('deposit_conflict');
    expect((await balances(userId)).USD!.available).toBe('10');
  });

  it('answers 404 address_not_found for an address that is not one of the business\'s users\'', async () => {
    const foreignUser = await newUser(other);
    const foreign = await address(foreignUser, 'ETH', other);
    const unknown = '0x52908400098527886E0F7030069857D2E4169EE7';
    for (const addressed of [foreign, unknown]) {
      const response = await partner.post('/v1/simulate/deposits', { chain: 'ETH', address: addressed, asset: 'USDT', amount: '5', tx_hash: evmTx(), log_index: 0 });
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('address_not_found');
    }
    const fromWatcher = await chainWatcher.post('/network/deposits', { chain: 'ETH', address: unknown, asset: 'USDT', amount: '5', tx_hash: evmTx(), log_index: 0 });
    expect(fromWatcher.status).toBe(404);
    expect(fromWatcher.body.error.code).toBe('address_not_found');
  });

  it("lets the chain watcher credit any platform address, and only with the chain watcher's key", async () => {
    const foreignUser = await newUser(other);
    const foreign = await address(foreignUser, 'BSC', other);
    const deposit = { chain: 'BSC', address: foreign, asset: 'USDC', amount: '7.25', tx_hash: evmTx(), log_index: 9 };
    for (const key of [localStack().apiKey, localStack().networkKey]) {
      const refused = await api(key).post('/network/deposits', deposit);
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('chain_credential_required');
    }
    const credited = await chainWatcher.post('/network/deposits', deposit);
    expect(credited.status).toBe(201);
    expect(credited.body).toMatchObject({ p_user_id: foreignUser, credited_currency: 'USD', credited_amount: '7.25' });
    const seen = await other.get(`/v1/users/${foreignUser}/balances`);
    expect(seen.body.data).toEqual([{ currency: 'USD', available: '7.25', pending: '0' }]);
  });

  it('rejects amounts beyond the asset\'s precision and malformed chain data, naming the field', async () => {
    const userId = await newUser();
    const tron = await address(userId, 'TRON');
    const btc = await address(userId, 'BTC');
    const evm = await address(userId, 'ETH');
    const cases: [Record<string, unknown>, string][] = [
      [{ chain: 'TRON', address: tron, asset: 'USDT', amount: '1.0000001', tx_hash: bareTx(), log_index: 0 }, 'amount'],
      [{ chain: 'BTC', address: btc, asset: 'BTC', amount: '0.000000001', tx_hash: bareTx(), vout: 0 }, 'amount'],
      [{ chain: 'ETH', address: evm, asset: 'ETH', amount: '0.0000000000000000001', tx_hash: evmTx() }, 'amount'],
      [{ chain: 'TRON', address: tron, asset: 'USDT', amount: '0.009', tx_hash: bareTx(), log_index: 0 }, 'amount'],
      [{ chain: 'TRON', address: tron, asset: 'USDT', amount: '-1', tx_hash: bareTx(), log_index: 0 }, 'amount'],
      [{ chain: 'TRON', address: tron, asset: 'USDT', amount: 5, tx_hash: bareTx(), log_index: 0 }, 'amount'],
      [{ chain: 'TRON', address: tron, asset: 'BTC', amount: '1', tx_hash: bareTx() }, 'asset'],
      [{ chain: 'BSC', address: evm, asset: 'ETH', amount: '1', tx_hash: evmTx() }, 'asset'],
      [{ chain: 'ETH', address: evm.slice(0, -1) + (evm.endsWith('a') ? 'b' : 'a'), asset: 'USDT', amount: '1', tx_hash: evmTx(), log_index: 0 }, 'address'],
      [{ chain: 'TRON', address: tron.slice(0, -1) + (tron.endsWith('A') ? 'B' : 'A'), asset: 'USDT', amount: '1', tx_hash: bareTx(), log_index: 0 }, 'address'],
      [{ chain: 'BTC', address: btc.replace(/.$/, (c) => (c === 'q' ? 'p' : 'q')), asset: 'BTC', amount: '1', tx_hash: bareTx(), vout: 0 }, 'address'],
      [{ chain: 'ETH', address: evm, asset: 'USDT', amount: '1', tx_hash: bareTx(), log_index: 0 }, 'tx_hash'],
      [{ chain: 'TRON', address: tron, asset: 'USDT', amount: '1', tx_hash: `0x${bareTx()}`, log_index: 0 }, 'tx_hash'],
      // Deposit identity (API.md): the position a transfer needs is required, the one it does not is refused.
      [{ chain: 'TRON', address: tron, asset: 'USDT', amount: '1', tx_hash: bareTx() }, 'log_index'],
      [{ chain: 'ETH', address: evm, asset: 'USDC', amount: '1', tx_hash: evmTx() }, 'log_index'],
      [{ chain: 'BTC', address: btc, asset: 'BTC', amount: '1', tx_hash: bareTx() }, 'vout'],
      [{ chain: 'BTC', address: btc, asset: 'BTC', amount: '1', tx_hash: bareTx(), vout: 0, log_index: 1 }, 'log_index'],
      [{ chain: 'ETH', address: evm, asset: 'ETH', amount: '1', tx_hash: evmTx(), log_index: 0 }, 'log_index'],
      [{ chain: 'TRON', address: tron, asset: 'USDT', amount: '1', tx_hash: bareTx(), log_index: 0, vout: 0 }, 'vout'],
    ];
    for (const [body, field] of cases) {
      const response = await partner.post('/v1/simulate/deposits', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.fields.map((f: { path: string }) => f.path), JSON.stringify(body)).toContain(field);
    }
    expect(await balances(userId)).toEqual({});
  });

  it('delivers the Deposit webhook to the partner, signed, carrying the deposit', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const business = await createBusiness(`wallets-webhook-${randomUUID()}`);
      useStackEnvironment();
      const { setWebhookUrl } = await import('../../shared/services/businesses.ts');
      await setWebhookUrl(business.business_id, receiver.url('/deposits'));
      const client = api(business.api_key);
      const userId = await newUser(client);
      const tron = await address(userId, 'TRON', client);
      const deposit = await client.post('/v1/simulate/deposits', { chain: 'TRON', address: tron, asset: 'USDC', amount: '3', tx_hash: bareTx(), log_index: 0 });
      expect(deposit.status).toBe(201);

      const delivered = await receiver.waitFor('/deposits', (request) => request.body.includes(deposit.body.id));
      expect(verifyWith([business.webhook_secret], delivered)).toEqual({ action: 'Deposit', type: 'deposit.completed', deposit: deposit.body });
      // A replay of the deposit commits nothing, so it sends nothing either.
      expect((await client.post('/v1/simulate/deposits', { chain: 'TRON', address: tron, asset: 'USDC', amount: '3', tx_hash: deposit.body.tx_hash, log_index: 0 })).status).toBe(200);
      const events = await client.get('/v1/events');
      expect(events.body.data.filter((event: { type?: string }) => event.type === 'deposit.completed')).toHaveLength(1);
    } finally {
      await receiver.stop();
    }
  });
});

describe('spending a deposit', () => {
  it('lets the user\'s B2C card spend the USD a stablecoin deposit credited', async () => {
    const userId = await newUser();
    const tron = await address(userId, 'TRON');
    const card = await partner.post('/v1/cards', { mode: 'B2C', p_user_id: userId, currency: 'USD' });
    expect(card.status).toBe(201);
    const before = await partner.post('/v1/simulate/authorizations', { card_id: card.body.id, amount: '20', currency: 'USD', merchant_name: 'Bakery' });
    expect(before.body).toMatchObject({ status: 'Declined', decline_reason: 'insufficient_balance' });

    await partner.post('/v1/simulate/deposits', { chain: 'TRON', address: tron, asset: 'USDT', amount: '50', tx_hash: bareTx(), log_index: 0 });
    const spent = await partner.post('/v1/simulate/authorizations', { card_id: card.body.id, amount: '20', currency: 'USD', merchant_name: 'Bakery' });
    expect(spent.status).toBe(201);
    expect(spent.body).toMatchObject({ status: 'Authorized', local_amount: '-20' });
    expect((await balances(userId)).USD).toEqual({ currency: 'USD', available: '30', pending: '20' });
  });
});

describe('ledger', () => {
  it('stays clean: every balance equals the replay of its postings', async () => {
    useStackEnvironment();
    const { runLedgerAudit } = await import('../../shared/services/ledger-audit.ts');
    const report = await runLedgerAudit();
    expect(report.postings).toBeGreaterThan(0);
    expect(report.findings).toEqual([]);
  });
});
