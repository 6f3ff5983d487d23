// Its row lists MAC purposes: keyed hashes with KMS HMAC keys (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { topUpBusiness } from '../../shared/services/topups.ts';

export const handler = operationHandler(api.simulateTopup, ({ body, auth, idempotency }) =>
  topUpBusiness(auth.businessId, body, `simulate:${auth.keyId}`, idempotency),
);
