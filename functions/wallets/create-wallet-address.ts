import { WalletAddressBody } from '../../shared/domain/wallets.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { pathIds } from '../../shared/http/path-ids.ts';
import { walletKeys } from '../../shared/services/wallet-keys.ts';
import { createWalletAddress } from '../../shared/services/wallets.ts';

// At cold start: a function without valid account keys (always so in production when unset)
// fails to start with the reason, instead of failing the first partner request.
walletKeys();

export const handler = httpHandler({ params: pathIds({ p_user_id: 'user' }), body: WalletAddressBody }, ({ params, body, auth, idempotency }) =>
  createWalletAddress(auth.businessId, params.p_user_id, body.chain, idempotency),
);
