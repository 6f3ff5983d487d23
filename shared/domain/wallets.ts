/**
 * Wallets: which assets each chain accepts, their on-chain precision, how a deposit is credited
 * (API.md "Wallets"), what identifies a deposit on its chain, and the API views and request
 * schemas of addresses and deposit lists (a deposit report's body: deposit-body.ts).
 *
 * Pure: no AWS, no configuration (the deposit fee is passed in).
 */
import * as z from '../zod.ts';
// Types only: nothing of event-types.ts is loaded for them.
import type { DepositView, EventPayload } from './event-types.ts';
import { CHAINS, FAMILY_OF, type Chain, type DepositAsset } from './chains.ts';
import { formatAmount, formatMoney, MAX_BASIS_POINTS, MoneyFormatError, parseAmount, type Currency } from './money.ts';

/**
 * Decimals of each deposit asset as the API accepts it (API.md: 8 for BTC, 18 for ETH, 6 for
 * USDT and USDC). Not currency exponents: no balance holds USDT; stablecoins credit USD.
 */
export const ASSET_PRECISION: Record<DepositAsset, number> = { BTC: 8, ETH: 18, USDT: 6, USDC: 6 };

/** What each chain accepts. BSC's and Polygon's native coins (BNB, POL) are not deposit assets. */
export const CHAIN_ASSETS: Record<Chain, readonly DepositAsset[]> = {
  BTC: ['BTC'],
  ETH: ['ETH', 'USDT', 'USDC'],
  BSC: ['USDT', 'USDC'],
  POLYGON: ['USDT', 'USDC'],
  TRON: ['USDT', 'USDC'],
};

/** The balance each asset credits: stablecoins fund USD 1:1, BTC and ETH their own balances. */
export const CREDITED_CURRENCY: Record<DepositAsset, Currency> = { BTC: 'BTC', ETH: 'ETH', USDT: 'USD', USDC: 'USD' };

export const MAX_DEPOSIT_FEE_BPS = MAX_BASIS_POINTS;

/** Whether the deposit fee applies to `asset`: stablecoins only; BTC and ETH credit in full. */
export function chargesDepositFee(asset: DepositAsset): boolean {
  return CREDITED_CURRENCY[asset] === 'USD';
}

export class DepositAmountError extends Error {}

/** A deposit's amounts: on-chain in the asset's units, credited in the balance currency's. */
export interface DepositCredit {
  asset: DepositAsset;
  /** Minor units of the asset (6 decimals for USDT). */
  onChainAmount: bigint;
  currency: Currency;
  /** What the chain delivered, in minor units of `currency`: net + fee. */
  gross: bigint;
  fee: bigint;
  /** What the user's balance receives. */
  net: bigint;
}

/**
 * The credit rule of API.md. A stablecoin converts 1:1 into USD, truncated to the cent (USD has 2
 * decimals; the sub-cent rest of a 6-decimal amount is never credited, so the platform never
 * credits more than arrived); the deposit fee (basis points of that, rounded up like the FX fee so
 * the platform never under-charges) comes off it. BTC and ETH credit their own balance in full.
 * An amount that would credit nothing (under a cent of USDT) is refused, as a deposit that moves
 * no money has nothing to record.
 */
export function depositCredit(asset: DepositAsset, amountText: string, feeBps: bigint): DepositCredit {
  if (feeBps < 0n || feeBps > MAX_DEPOSIT_FEE_BPS) throw new RangeError(`deposit fee of ${feeBps} bps is outside 0..${MAX_DEPOSIT_FEE_BPS}`);
  let onChainAmount: bigint;
  try {
    onChainAmount = parseAmount(amountText, ASSET_PRECISION[asset]);
  } catch (error) {
    if (error instanceof MoneyFormatError) throw new DepositAmountError(`${error.message} for ${asset}`);
    throw error;
  }
  if (onChainAmount <= 0n) throw new DepositAmountError('must be greater than zero');
  const currency = CREDITED_CURRENCY[asset];
  if (!chargesDepositFee(asset)) {
    return { asset, onChainAmount, currency, gross: onChainAmount, fee: 0n, net: onChainAmount };
  }
  const gross = onChainAmount / 10n ** BigInt(ASSET_PRECISION[asset] - 2);
  if (gross === 0n) throw new DepositAmountError(`must be at least 0.01 ${asset} (it credits USD, which has cents)`);
  const fee = (gross * feeBps + MAX_DEPOSIT_FEE_BPS - 1n) / MAX_DEPOSIT_FEE_BPS;
  return { asset, onChainAmount, currency, gross, fee, net: gross - fee };
}

/**
 * What identifies a deposit on its chain, and so makes it credit once: the transaction hash plus,
 * where one transaction can pay several deposits, their position in it — the event log index of
 * a token transfer (EVM, TRON) or the output index (`vout`) of a BTC transaction, which can pay
 * several of the platform's addresses at once. A native ETH transfer has no position (null).
 * `txHash` is the canonical lower-case hash (`normalizeTxHash`), so the case a watcher reports it
 * in never makes a second deposit.
 */
export function depositIdentity(chain: Chain, txHash: string, position: number | null): string {
  return `${chain}#${txHash}#${position ?? '-'}`;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The canonical (lower-case) transaction hash, or undefined when it is not one of `chain`'s. */
export function normalizeTxHash(chain: Chain, text: string): string | undefined {
  const lower = text.toLowerCase();
  if (FAMILY_OF[chain] === 'evm') return /^0x[0-9a-f]{64}$/.test(lower) ? lower : undefined;
  // BTC txids and TRON transaction ids are 32 bytes of bare hex.
  return HEX64.test(lower) ? lower : undefined;
}

// ---------------------------------------------------------------------------------------------
// Requests

export const WalletAddressBody = z.object({ chain: z.enum(CHAINS) });
export type WalletAddressBody = z.output<typeof WalletAddressBody>;

/**
 * Where a deposit sits inside its transaction, by what was transferred (API.md "Deposit identity"):
 * a token transfer (USDT, USDC on the EVM chains and TRON) by the index of its Transfer event log,
 * a BTC deposit by the index of the output (`vout`) that paid the address, and a native ETH
 * transfer by nothing (a transaction moves ETH to one recipient).
 */
export type DepositPosition = 'log_index' | 'vout' | 'none';

export function depositPositionOf(chain: Chain, asset: DepositAsset): DepositPosition {
  if (chain === 'BTC') return 'vout';
  if (chain === 'ETH' && asset === 'ETH') return 'none';
  return 'log_index';
}

export const ListDepositsQuery = z.object({
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 20),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
});
export type ListDepositsQuery = z.output<typeof ListDepositsQuery>;

// ---------------------------------------------------------------------------------------------
// Records and views

/** A user's address on one chain (EVM chains of a user share one address). */
export interface WalletAddress {
  userId: string;
  businessId: string;
  chain: Chain;
  address: string;
  derivationPath: string;
  createdAt: string;
}

export interface WalletAddressView {
  chain: Chain;
  address: string;
  derivation_path: string;
  assets: DepositAsset[];
  p_user_id: string;
  p_created_at: string;
}

export function walletAddressView(wallet: WalletAddress): WalletAddressView {
  return {
    chain: wallet.chain,
    address: wallet.address,
    derivation_path: wallet.derivationPath,
    assets: [...CHAIN_ASSETS[wallet.chain]],
    p_user_id: wallet.userId,
    p_created_at: wallet.createdAt,
  };
}

export interface Deposit {
  depositId: string;
  businessId: string;
  userId: string;
  chain: Chain;
  address: string;
  txHash: string;
  /** Log index (EVM, TRON) or output index (BTC) inside the transaction. */
  position: number | null;
  credit: DepositCredit;
  /** Who reported it: `network:<principal>` (chain watcher) or `simulate:<api key id>`. */
  source: string;
  createdAt: string;
}

/** A deposit as the API and the `deposit.completed` webhook show it (schema in event-types.ts). */
export type { DepositView };

export function depositView(deposit: Deposit): DepositView {
  const { credit } = deposit;
  return {
    id: deposit.depositId,
    p_business_id: deposit.businessId,
    p_user_id: deposit.userId,
    status: 'Completed',
    chain: deposit.chain,
    address: deposit.address,
    asset: credit.asset,
    amount: formatAmount(credit.onChainAmount, ASSET_PRECISION[credit.asset]),
    tx_hash: deposit.txHash,
    log_index: deposit.chain === 'BTC' ? null : deposit.position,
    vout: deposit.chain === 'BTC' ? deposit.position : null,
    credited_currency: credit.currency,
    credited_amount: formatMoney(credit.net, credit.currency),
    fee: formatMoney(credit.fee, credit.currency),
    p_created_at: deposit.createdAt,
  };
}

/** The Deposit webhook body, in the shape of the transaction webhook (`action`, `type` + the resource). */
export function depositWebhookBody(deposit: Deposit): EventPayload<'deposit.completed'> {
  return { action: 'Deposit', type: 'deposit.completed', deposit: depositView(deposit) };
}

/** Whether a repeated report describes the deposit already recorded under its identity. */
export function sameDeposit(recorded: Deposit, reported: { address: string; credit: DepositCredit }): boolean {
  return (
    recorded.address === reported.address &&
    recorded.credit.asset === reported.credit.asset &&
    recorded.credit.onChainAmount === reported.credit.onChainAmount
  );
}
