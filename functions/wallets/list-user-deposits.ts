// Its row lists MAC purposes: keyed hashes with KMS HMAC keys (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import * as api from '../../shared/contracts/users.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { listDeposits } from '../../shared/services/deposits.ts';

export const handler = operationHandler(api.listUserDeposits, ({ params, query, auth }) =>
  listDeposits(auth.businessId, params.p_user_id, query),
);
