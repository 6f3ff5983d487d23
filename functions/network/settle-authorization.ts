// Its row lists MAC purposes: keyed hashes with KMS HMAC keys (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { settleAuthorization } from '../../shared/services/authorization-adjustments.ts';

export const handler = operationHandler(api.networkSettlement, ({ body, params, idempotency }) =>
  settleAuthorization({ network: true }, params.id, body, idempotency),
);
