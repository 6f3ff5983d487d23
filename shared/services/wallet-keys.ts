/**
 * The account-level extended public keys deposit addresses derive from, read once per cold start.
 *
 * - Configured: `WALLET_XPUB_BTC` (xpub or zpub of m/84'/0'/0'), `WALLET_XPUB_EVM` (xpub of
 *   m/44'/60'/0', for ETH, BSC and POLYGON) and `WALLET_XPUB_TRON` (xpub of m/44'/195'/0'); in AWS
 *   they come from the stage's SSM parameters (infra/stage-config.ts). A malformed key stops the
 *   function with a message that says what is wrong with it.
 * - Production refuses to start without all three, and refuses the sandbox test keys.
 * - The sandbox (and the local stack) falls back to `SANDBOX_TEST_XPUBS` for any key not set.
 */
import { config } from '../config.ts';
import { parseAccountKey, XPUB_VARIABLE, type AccountKey } from '../domain/chain-addresses.ts';
import { KEY_FAMILIES, type KeyFamily } from '../domain/chains.ts';
import { logger } from '../logger.ts';

/**
 * SANDBOX TEST KEYS — NEVER FOR REAL FUNDS. Account keys of the public BIP-39 test mnemonic
 * "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
 * (the mnemonic of the BIP-84 test vectors): anyone can derive the private keys, so anything
 * sent on-chain to a sandbox address can be taken by anyone. test/unit/wallets checks that they
 * are exactly these derivations.
 */
export const SANDBOX_TEST_XPUBS: Record<KeyFamily, string> = {
  // m/84'/0'/0' (BIP-84's own test vector account)
  btc: 'zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs',
  // m/44'/60'/0'
  evm: 'xpub6DCoCpSuQZB2jawqnGMEPS63ePKWkwWPH4TU45Q7LPXWuNd8TMtVxRrgjtEshuqpK3mdhaWHPFsBngh5GFZaM6si3yZdUsT8ddYM3PwnATt',
  // m/44'/195'/0'
  tron: 'xpub6D1AabNHCupeiLM65ZR9UStMhJ1vCpyV4XbZdyhMZBiJXALQtmn9p42VTQckoHVn8WNqS7dqnJokZHAHcHGoaQgmv8D45oNUKx6DZMNZBCd',
};

export type WalletKeys = Record<KeyFamily, AccountKey>;

export class WalletKeysConfigError extends Error {}

let cached: WalletKeys | undefined;

/** The parsed account keys; throws `WalletKeysConfigError` (at cold start) when misconfigured. */
export function walletKeys(): WalletKeys {
  if (cached) return cached;
  const settings = config();
  cached = resolveWalletKeys(settings.STAGE, {
    btc: settings.WALLET_XPUB_BTC,
    evm: settings.WALLET_XPUB_EVM,
    tron: settings.WALLET_XPUB_TRON,
  });
  return cached;
}

/**
 * The keys for `stage` from the configured values (undefined or blank = not configured). Every
 * problem is reported at once, so one failed start tells the operator all there is to fix.
 */
export function resolveWalletKeys(stage: 'sandbox' | 'production', configured: Record<KeyFamily, string | undefined>): WalletKeys {
  const problems: string[] = [];
  const keys: Partial<WalletKeys> = {};
  const fallbacks: string[] = [];
  for (const family of KEY_FAMILIES) {
    const value = configured[family]?.trim() || undefined;
    if (value === undefined) {
      if (stage === 'production') {
        problems.push(`${XPUB_VARIABLE[family]} is not set: production derives deposit addresses only from configured account keys`);
        continue;
      }
      fallbacks.push(XPUB_VARIABLE[family]);
      keys[family] = parseAccountKey(family, SANDBOX_TEST_XPUBS[family]);
      continue;
    }
    if (stage === 'production' && value === SANDBOX_TEST_XPUBS[family]) {
      problems.push(`${XPUB_VARIABLE[family]} is the sandbox test key of a public mnemonic: anyone could spend what is deposited to it`);
      continue;
    }
    try {
      keys[family] = parseAccountKey(family, value);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length > 0) throw new WalletKeysConfigError(`Invalid wallet configuration: ${problems.join('; ')}`);
  if (fallbacks.length > 0) {
    logger.warn('wallet keys: using the SANDBOX TEST KEYS of a public mnemonic (never for real funds)', { notConfigured: fallbacks });
  }
  return keys as WalletKeys;
}

/** Tests change the environment between cases; this forgets the parsed keys. */
export function resetWalletKeysForTests(): void {
  cached = undefined;
}
