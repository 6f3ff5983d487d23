/**
 * The request body of a deposit report: its own module because checking an address against its
 * chain's encoding needs the address code (chain-addresses.ts and its hash libraries), which only
 * the deposit routes should carry.
 */
import * as z from '../zod.ts';
import { normalizeAddress } from './chain-addresses.ts';
import { CHAINS, DEPOSIT_ASSETS, FAMILY_OF } from './chains.ts';
import { PositiveDecimal } from './transactions.ts';
import { CHAIN_ASSETS, depositPositionOf, normalizeTxHash } from './wallets.ts';

const Position = z.number().check(z.int(), z.gte(0), z.lte(2 ** 31 - 1));

/**
 * A deposit, as the chain watcher (`/network/deposits`) or a sandbox partner
 * (`/v1/simulate/deposits`) reports it. Addresses and hashes are checked against the chain and
 * canonicalized (hashes in lower case, so `0xABC…` and `0xabc…` are one deposit). The position
 * the transfer needs (`depositPositionOf`) is required, and the one it does not is refused:
 * without it, one on-chain transfer reported once without a log index and once with
 * `log_index: 0` would be two deposits and be credited twice; two transfers of one transaction
 * would be one.
 */
export const DepositBody = z.pipe(
  z.object({
    chain: z.enum(CHAINS),
    address: z.string().check(z.minLength(1), z.maxLength(128)),
    asset: z.enum(DEPOSIT_ASSETS),
    amount: PositiveDecimal,
    tx_hash: z.string().check(z.minLength(1), z.maxLength(130)),
    log_index: z.optional(Position),
    vout: z.optional(Position),
  }),
  z.transform((body, ctx) => {
    // The issue as the classic API's `ctx.addIssue` built it (mini's payload has no `addIssue`):
    // `input` is the value being transformed.
    const issue = (path: string, message: string) => {
      ctx.issues.push({ code: 'custom', path: [path], message, input: body });
    };
    const address = normalizeAddress(body.chain, body.address);
    if (address === undefined) issue('address', `is not a valid ${body.chain} address`);
    const txHash = normalizeTxHash(body.chain, body.tx_hash);
    if (txHash === undefined) {
      issue('tx_hash', FAMILY_OF[body.chain] === 'evm' ? 'must be 0x followed by 64 hex digits' : 'must be 64 hex digits, without 0x');
    }
    const accepted = CHAIN_ASSETS[body.chain].includes(body.asset);
    if (!accepted) issue('asset', `is not accepted on ${body.chain} (accepted: ${CHAIN_ASSETS[body.chain].join(', ')})`);
    const position = depositPositionOf(body.chain, body.asset);
    // An asset the chain does not take has no position rule to check against.
    if (accepted) {
      const transfer = position === 'none' ? 'a native ETH transfer' : position === 'vout' ? 'a BTC deposit' : `a ${body.asset} transfer on ${body.chain}`;
      const takes = position === 'none' ? 'takes neither log_index nor vout' : `takes ${position}`;
      if (position === 'log_index' && body.log_index === undefined) {
        issue('log_index', `is required for ${transfer}: the index of its Transfer event log in the transaction`);
      }
      if (position === 'vout' && body.vout === undefined) issue('vout', 'is required for BTC: the index of the output that paid the address');
      if (position !== 'log_index' && body.log_index !== undefined) issue('log_index', `does not apply: ${transfer} ${takes}`);
      if (position !== 'vout' && body.vout !== undefined) issue('vout', `does not apply: ${transfer} ${takes}`);
    }
    return {
      chain: body.chain,
      address: address ?? body.address,
      asset: body.asset,
      amount: body.amount,
      txHash: txHash ?? body.tx_hash,
      position: body.vout ?? body.log_index ?? null,
    };
  }),
);
export type DepositBody = z.output<typeof DepositBody>;
