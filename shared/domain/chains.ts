/**
 * The chains deposits arrive on and the assets they carry: names only, so schemas, events and
 * repositories can name a chain without the address code (chain-addresses.ts, whose hash and
 * curve libraries only the wallet and deposit routes need).
 */
export const CHAINS = ['BTC', 'ETH', 'TRON', 'BSC', 'POLYGON'] as const;
export type Chain = (typeof CHAINS)[number];

/** Chains that derive from the same account key share a family (and an address per user). */
export const KEY_FAMILIES = ['btc', 'evm', 'tron'] as const;
export type KeyFamily = (typeof KEY_FAMILIES)[number];

export const FAMILY_OF: Record<Chain, KeyFamily> = { BTC: 'btc', ETH: 'evm', BSC: 'evm', POLYGON: 'evm', TRON: 'tron' };

export const DEPOSIT_ASSETS = ['BTC', 'ETH', 'USDT', 'USDC'] as const;
export type DepositAsset = (typeof DEPOSIT_ASSETS)[number];
