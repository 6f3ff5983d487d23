/**
 * The deposit credit rule of API.md, the deposit request schema, and the deposit posting.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { depositLegs, posting } from '../../../shared/domain/ledger.ts';
import type { DepositAsset } from '../../../shared/domain/chains.ts';
import { DepositBody } from '../../../shared/domain/deposit-body.ts';
import { DepositAmountError, depositCredit, depositIdentity } from '../../../shared/domain/wallets.ts';

describe('depositCredit', () => {
  it('credits USDT and USDC to USD 1:1, with no fee in the sandbox', () => {
    expect(depositCredit('USDT', '125.5', 0n)).toEqual({ asset: 'USDT', onChainAmount: 125_500_000n, currency: 'USD', gross: 12_550n, fee: 0n, net: 12_550n });
    expect(depositCredit('USDC', '0.01', 0n)).toMatchObject({ currency: 'USD', net: 1n });
  });

  it('never credits the sub-cent rest of a stablecoin amount', () => {
    expect(depositCredit('USDT', '1.239999', 0n)).toMatchObject({ onChainAmount: 1_239_999n, gross: 123n, net: 123n });
  });

  it('takes the configured fee in basis points, rounded up to the cent', () => {
    expect(depositCredit('USDT', '100', 150n)).toMatchObject({ gross: 10_000n, fee: 150n, net: 9_850n });
    expect(depositCredit('USDC', '1.23', 100n)).toMatchObject({ gross: 123n, fee: 2n, net: 121n });
  });

  it('credits BTC and ETH to their own balances in full, to the last satoshi and wei', () => {
    expect(depositCredit('BTC', '0.00000001', 150n)).toEqual({ asset: 'BTC', onChainAmount: 1n, currency: 'BTC', gross: 1n, fee: 0n, net: 1n });
    expect(depositCredit('ETH', '123456789.123456789123456789', 150n)).toMatchObject({ currency: 'ETH', net: 123_456_789_123_456_789_123_456_789n, fee: 0n });
  });

  it.each<[DepositAsset, string, RegExp]>([
    ['USDT', '1.0000001', /at most 6 decimal places for USDT/],
    ['USDC', '0.0000001', /at most 6 decimal places/],
    ['BTC', '0.000000001', /at most 8 decimal places for BTC/],
    ['ETH', '1.0000000000000000001', /at most 18 decimal places for ETH/],
    ['USDT', '0.009999', /at least 0.01 USDT/],
    ['USDT', '0', /greater than zero/],
    ['BTC', '1e-8', /decimal string/],
  ])('refuses %s %s', (asset, amount, message) => {
    expect(() => depositCredit(asset, amount, 0n)).toThrow(DepositAmountError);
    expect(() => depositCredit(asset, amount, 0n)).toThrow(message);
  });

  it('keeps gross = net + fee, never credits more than arrived, and posts a balanced posting', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<DepositAsset>('USDT', 'USDC', 'BTC', 'ETH'),
        fc.bigInt({ min: 1n, max: 10n ** 30n }),
        fc.bigInt({ min: 0n, max: 10_000n }),
        (asset, minor, feeBps) => {
          const decimals = { USDT: 6, USDC: 6, BTC: 8, ETH: 18 }[asset];
          const text = insertPoint(minor, decimals);
          let credit;
          try {
            credit = depositCredit(asset, text, feeBps);
          } catch (error) {
            expect(error).toBeInstanceOf(DepositAmountError);
            expect(asset === 'USDT' || asset === 'USDC').toBe(true);
            expect(minor).toBeLessThan(10_000n);
            return;
          }
          expect(credit.onChainAmount).toBe(minor);
          expect(credit.gross).toBe(credit.net + credit.fee);
          expect(credit.fee >= 0n && credit.net >= 0n).toBe(true);
          const grossInAssetUnits = asset === 'USDT' || asset === 'USDC' ? credit.gross * 10_000n : credit.gross;
          expect(grossInAssetUnits <= minor).toBe(true);
          const legs = depositLegs({ kind: 'user', id: 'u' }, credit.currency, credit.gross, credit.fee);
          expect(() => posting({ postingId: 'p', kind: 'deposit', reference: 'd', legs, createdAt: 't' })).not.toThrow();
        },
      ),
    );
  });
});

/** `minor` units as a decimal string with `decimals` places ("12345", 2 -> "123.45"). */
function insertPoint(minor: bigint, decimals: number): string {
  const digits = minor.toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole;
}

describe('DepositBody', () => {
  const tron = 'TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH';
  const hash = 'ab'.repeat(32);

  it('canonicalizes the address and the hash, and keeps the position', () => {
    expect(
      DepositBody.parse({ chain: 'ETH', address: '0x9858effd232b4033e47d90003d41ec34ecaeda94', asset: 'USDT', amount: '1', tx_hash: `0x${'AB'.repeat(32)}`, log_index: 4 }),
    ).toEqual({ chain: 'ETH', address: '0x9858EfFD232B4033E47d90003D41EC34EcaEda94', asset: 'USDT', amount: '1', txHash: `0x${hash}`, position: 4 });
    expect(DepositBody.parse({ chain: 'BTC', address: 'BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4', asset: 'BTC', amount: '1', tx_hash: hash, vout: 0 })).toMatchObject({
      address: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4',
      position: 0,
    });
    expect(DepositBody.parse({ chain: 'ETH', address: '0x9858effd232b4033e47d90003d41ec34ecaeda94', asset: 'ETH', amount: '1', tx_hash: `0x${hash}` }).position).toBeNull();
  });

  it('reads every case of a hash as the same lower-case hash', () => {
    const variants = [`0x${'ab'.repeat(32)}`, `0x${'AB'.repeat(32)}`, `0X${'aB'.repeat(32)}`];
    const parsed = variants.map((tx_hash) => DepositBody.parse({ chain: 'BSC', address: '0x9858effd232b4033e47d90003d41ec34ecaeda94', asset: 'USDT', amount: '1', tx_hash, log_index: 0 }));
    expect(new Set(parsed.map((body) => depositIdentity(body.chain, body.txHash, body.position)))).toEqual(new Set([`BSC#0x${hash}#0`]));
    expect(DepositBody.parse({ chain: 'TRON', address: tron, asset: 'USDT', amount: '1', tx_hash: hash.toUpperCase(), log_index: 0 }).txHash).toBe(hash);
  });

  const evm = '0x9858effd232b4033e47d90003d41ec34ecaeda94';
  const btc = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4';

  it.each([
    ['USDT on TRON', { chain: 'TRON', address: tron, asset: 'USDT', tx_hash: hash }, 'log_index', /is required for a USDT transfer on TRON/],
    ['USDC on ETH', { chain: 'ETH', address: evm, asset: 'USDC', tx_hash: `0x${hash}` }, 'log_index', /is required for a USDC transfer on ETH/],
    ['USDT on BSC', { chain: 'BSC', address: evm, asset: 'USDT', tx_hash: `0x${hash}` }, 'log_index', /is required/],
    ['USDC on POLYGON', { chain: 'POLYGON', address: evm, asset: 'USDC', tx_hash: `0x${hash}` }, 'log_index', /is required/],
    ['BTC', { chain: 'BTC', address: btc, asset: 'BTC', tx_hash: hash }, 'vout', /is required for BTC/],
  ])('requires the position of a %s deposit, naming the field', (_, body, field, message) => {
    const result = DepositBody.safeParse({ ...body, amount: '1' });
    expect(result.success).toBe(false);
    expect(result.error!.issues).toEqual([expect.objectContaining({ path: [field], message: expect.stringMatching(message) })]);
  });

  it.each([
    ['log_index on native ETH', { chain: 'ETH', address: evm, asset: 'ETH', tx_hash: `0x${hash}`, log_index: 0 }, 'log_index', /native ETH transfer takes neither log_index nor vout/],
    ['vout on native ETH', { chain: 'ETH', address: evm, asset: 'ETH', tx_hash: `0x${hash}`, vout: 0 }, 'vout', /native ETH transfer takes neither/],
    ['vout on a token transfer', { chain: 'TRON', address: tron, asset: 'USDT', tx_hash: hash, log_index: 0, vout: 0 }, 'vout', /USDT transfer on TRON takes log_index/],
    ['log_index on BTC', { chain: 'BTC', address: btc, asset: 'BTC', tx_hash: hash, vout: 0, log_index: 0 }, 'log_index', /BTC deposit takes vout/],
  ])('refuses a position that does not apply (%s), saying which', (_, body, field, message) => {
    const result = DepositBody.safeParse({ ...body, amount: '1' });
    expect(result.success).toBe(false);
    expect(result.error!.issues).toEqual([expect.objectContaining({ path: [field], message: expect.stringMatching(message) })]);
  });

  it.each([
    [{ chain: 'TRON', address: tron, asset: 'ETH', amount: '1', tx_hash: hash }, 'asset'],
    [{ chain: 'POLYGON', address: '0x9858effd232b4033e47d90003d41ec34ecaeda94', asset: 'BTC', amount: '1', tx_hash: `0x${hash}` }, 'asset'],
    [{ chain: 'TRON', address: '0x9858effd232b4033e47d90003d41ec34ecaeda94', asset: 'USDT', amount: '1', tx_hash: hash, log_index: 0 }, 'address'],
    [{ chain: 'TRON', address: tron, asset: 'USDT', amount: '1', tx_hash: `0x${hash}`, log_index: 0 }, 'tx_hash'],
    [{ chain: 'ETH', address: '0x9858effd232b4033e47d90003d41ec34ecaeda94', asset: 'USDT', amount: '1', tx_hash: hash, log_index: 0 }, 'tx_hash'],
    [{ chain: 'ETH', address: '0x9858effd232b4033e47d90003d41ec34ecaeda94', asset: 'USDT', amount: '1', tx_hash: `0x${hash}0`, log_index: 0 }, 'tx_hash'],
    [{ chain: 'BTC', address: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', asset: 'BTC', amount: '1', tx_hash: 'zz'.repeat(32), vout: 0 }, 'tx_hash'],
    [{ chain: 'TRON', address: tron, asset: 'USDT', amount: '1', tx_hash: hash, vout: 1 }, 'vout'],
    [{ chain: 'BTC', address: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', asset: 'BTC', amount: '1', tx_hash: hash, log_index: 1 }, 'log_index'],
    [{ chain: 'ETH', address: '0x9858effd232b4033e47d90003d41ec34ecaeda94', asset: 'ETH', amount: '1', tx_hash: `0x${hash}`, log_index: 1 }, 'log_index'],
    [{ chain: 'TRON', address: tron, asset: 'USDT', amount: '1', tx_hash: hash, log_index: -1 }, 'log_index'],
    [{ chain: 'TRON', address: tron, asset: 'USDT', amount: 1, tx_hash: hash }, 'amount'],
  ])('refuses %j, naming %s', (body, field) => {
    const result = DepositBody.safeParse(body);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((issue) => issue.path.join('.'))).toContain(field);
  });
});

describe('depositIdentity', () => {
  it('tells apart two transfers of one transaction, and a native transfer from a token transfer', () => {
    const ids = [depositIdentity('ETH', '0xaa', null), depositIdentity('ETH', '0xaa', 0), depositIdentity('ETH', '0xaa', 1), depositIdentity('BSC', '0xaa', 0)];
    expect(new Set(ids).size).toBe(4);
  });
});
