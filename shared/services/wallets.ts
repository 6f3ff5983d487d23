/**
 * Deposit addresses (API.md "Wallets"): a user gets one address per chain, derived from the
 * platform's account-level public keys. The EVM chains (ETH, BSC, POLYGON) share one key family,
 * and a user's address there is one EVM account, the same on all three: asking for BSC after ETH
 * answers the ETH address. The n-th address a family hands out is child n-1 of its external
 * chain, taken from an atomic counter; the same user and chain always get the same address.
 */
import { deriveAddress } from '../domain/chain-addresses.ts';
import { FAMILY_OF, type Chain } from '../domain/chains.ts';
import { nowIso } from '../domain/time.ts';
import { walletAddressView, type WalletAddress, type WalletAddressView } from '../domain/wallets.ts';
import { ApiError } from '../errors.ts';
import { respond, type HttpResult } from '../http/responses.ts';
import type { IdempotencyScope } from '../db/idempotency-repository.ts';
import { commitWalletAddress, nextAddressIndex, queryUserWallets, type FamilyAddress } from '../db/wallets-repository.ts';
import { requireUser } from './users.ts';
import { walletKeys } from './wallet-keys.ts';

/** Concurrent first requests for one user: the loser re-reads and answers with the winner's. */
const MAX_ATTEMPTS = 3;

/**
 * `POST /v1/users/{p_user_id}/wallet-addresses`: `201` with a new address, or `200` with the one
 * the user already has on that chain. Only an Active user of the business gets a new address.
 */
export async function createWalletAddress(
  businessId: string,
  userId: string,
  chain: Chain,
  idempotency?: IdempotencyScope,
): Promise<HttpResult<WalletAddressView>> {
  const family = FAMILY_OF[chain];
  const user = await requireUser(businessId, userId);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const wallets = await queryUserWallets(userId);
    const existing = wallets.chains.find((wallet) => wallet.chain === chain);
    if (existing) return respond(200, walletAddressView(existing));
    if (user.status !== 'Active') {
      throw new ApiError('user_not_active');
    }

    const createdAt = nowIso();
    let familyAddress = wallets.families.get(family);
    let newFamilyAddress: FamilyAddress | undefined;
    if (!familyAddress) {
      // The index is spent even if this request then loses a race: an index is never reused.
      const derived = deriveAddress(walletKeys()[family], await nextAddressIndex(family));
      familyAddress = newFamilyAddress = { userId, businessId, family, createdAt, ...derived };
    }
    const wallet: WalletAddress = { userId, businessId, chain, address: familyAddress.address, derivationPath: familyAddress.derivationPath, createdAt };
    const view = walletAddressView(wallet);
    const outcome = await commitWalletAddress({ wallet, newFamilyAddress, idempotencyCompletion: idempotency?.completionItem(view) });
    if (outcome === 'created') return respond(201, view);
    idempotency?.discardCompletion();
  }
  throw new ApiError('service_unavailable');
}

/** `GET /v1/users/{p_user_id}/wallet-addresses`: the user's addresses, newest first (at most one per chain). */
export async function listWalletAddresses(businessId: string, userId: string): Promise<{ data: WalletAddressView[]; next_cursor: null }> {
  await requireUser(businessId, userId);
  const wallets = await queryUserWallets(userId);
  return { data: wallets.chains.map(walletAddressView), next_cursor: null };
}
