/**
 * Which account keys the platform derives from: configured keys everywhere, the labelled sandbox
 * test keys only in the sandbox, and a production that refuses to start without real ones.
 */
import { HDKey } from '@scure/bip32';
import { mnemonicToSeedSync } from '@scure/bip39';
import { afterEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '../../../shared/config.ts';
import { deriveAddress } from '../../../shared/domain/chain-addresses.ts';
import {
  resetWalletKeysForTests,
  resolveWalletKeys,
  SANDBOX_TEST_XPUBS,
  walletKeys,
  WalletKeysConfigError,
} from '../../../shared/services/wallet-keys.ts';

const TEST_MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
/** Another account, standing in for a business's real keys. */
const otherRoot = HDKey.fromMasterSeed(new Uint8Array(32).fill(7));
const REAL = {
  btc: otherRoot.derive("m/84'/0'/0'").publicExtendedKey,
  evm: otherRoot.derive("m/44'/60'/0'").publicExtendedKey,
  tron: otherRoot.derive("m/44'/195'/0'").publicExtendedKey,
};

describe('the sandbox test keys', () => {
  it('are the account keys of the public BIP-39 test mnemonic at m/84\'/0\'/0\', m/44\'/60\'/0\' and m/44\'/195\'/0\'', () => {
    const root = HDKey.fromMasterSeed(mnemonicToSeedSync(TEST_MNEMONIC));
    const zpubRoot = HDKey.fromMasterSeed(mnemonicToSeedSync(TEST_MNEMONIC), { public: 0x04b24746, private: 0x04b2430c });
    expect(SANDBOX_TEST_XPUBS).toEqual({
      btc: zpubRoot.derive("m/84'/0'/0'").publicExtendedKey,
      evm: root.derive("m/44'/60'/0'").publicExtendedKey,
      tron: root.derive("m/44'/195'/0'").publicExtendedKey,
    });
  });
});

describe('resolveWalletKeys', () => {
  it('uses configured keys in any stage', () => {
    for (const stage of ['sandbox', 'production'] as const) {
      const keys = resolveWalletKeys(stage, REAL);
      expect(keys.evm.hdKey.publicExtendedKey).toBe(REAL.evm);
      expect(keys.btc.hdKey.publicExtendedKey).toBe(REAL.btc);
    }
  });

  it('falls back to the sandbox test keys in the sandbox for any key not set (blank counts as not set)', () => {
    const keys = resolveWalletKeys('sandbox', { btc: undefined, evm: '  ', tron: REAL.tron });
    expect(deriveAddress(keys.btc, 0).address).toBe('bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu');
    expect(deriveAddress(keys.evm, 0).address).toBe('0x9858EfFD232B4033E47d90003D41EC34EcaEda94');
    expect(keys.tron.hdKey.publicExtendedKey).toBe(REAL.tron);
  });

  it('refuses to start production without keys, naming every missing variable at once', () => {
    expect(() => resolveWalletKeys('production', { btc: undefined, evm: '', tron: undefined })).toThrow(WalletKeysConfigError);
    expect(() => resolveWalletKeys('production', { btc: undefined, evm: '', tron: undefined })).toThrow(
      /WALLET_XPUB_BTC is not set.*WALLET_XPUB_EVM is not set.*WALLET_XPUB_TRON is not set/,
    );
    expect(() => resolveWalletKeys('production', { ...REAL, tron: undefined })).toThrow(/^Invalid wallet configuration: WALLET_XPUB_TRON is not set[^;]*$/);
  });

  it('refuses the sandbox test keys in production', () => {
    expect(() => resolveWalletKeys('production', { ...REAL, evm: SANDBOX_TEST_XPUBS.evm })).toThrow(/WALLET_XPUB_EVM is the sandbox test key of a public mnemonic/);
  });

  it('refuses a malformed key in any stage, saying what is wrong', () => {
    const xprv = otherRoot.derive("m/44'/60'/0'").privateExtendedKey;
    expect(() => resolveWalletKeys('sandbox', { ...REAL, evm: xprv })).toThrow(/WALLET_XPUB_EVM is a private key/);
    expect(() => resolveWalletKeys('sandbox', { ...REAL, btc: 'not-a-key' })).toThrow(/WALLET_XPUB_BTC must be a mainnet extended public key/);
  });
});

describe('walletKeys (from the environment, once per cold start)', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    resetConfigForTests();
    resetWalletKeysForTests();
  });

  it('reads WALLET_XPUB_* through the configuration', () => {
    process.env.WALLET_XPUB_EVM = REAL.evm;
    resetConfigForTests();
    resetWalletKeysForTests();
    expect(walletKeys().evm.hdKey.publicExtendedKey).toBe(REAL.evm);
  });

  it('fails in production when the keys are missing', () => {
    process.env.STAGE = 'production';
    process.env.KEY_SOURCE = 'kms';
    process.env.KMS_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/x';
    process.env.HMAC_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x';
    delete process.env.WEBHOOK_PRIVATE_ADDRESSES; // the unit environment's `allow` is refused in production
    delete process.env.WALLET_XPUB_BTC;
    delete process.env.WALLET_XPUB_EVM;
    delete process.env.WALLET_XPUB_TRON;
    resetConfigForTests();
    resetWalletKeysForTests();
    expect(() => walletKeys()).toThrow(/production derives deposit addresses only from configured account keys/);
  });
});
