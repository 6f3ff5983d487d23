// Its row lists MAC purposes: keyed hashes with KMS HMAC keys (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { expireAuthorization } from '../../shared/services/authorization-adjustments.ts';

export const handler = operationHandler(api.simulateExpiry, ({ params, auth, idempotency }) =>
  expireAuthorization({ businessId: auth.businessId }, params.id, idempotency),
);
