// Its row lists MAC purposes: keyed hashes with KMS HMAC keys (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import * as api from '../../shared/contracts/users.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { walletKeys } from '../../shared/services/wallet-keys.ts';
import { createWalletAddress } from '../../shared/services/wallets.ts';

// At cold start: a function without valid account keys (always so in production when unset)
// fails to start with the reason, instead of failing the first partner request.
walletKeys();

export const handler = operationHandler(api.createWalletAddress, ({ params, body, auth, idempotency }) =>
  createWalletAddress(auth.businessId, params.p_user_id, body.chain, idempotency),
);
