// Its row lists MAC purposes: keyed hashes with KMS HMAC keys (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import * as api from '../../shared/contracts/deposits.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { simulateDeposit } from '../../shared/services/deposits.ts';

export const handler = operationHandler(api.simulateDeposit, ({ body, auth, idempotency }) => simulateDeposit(auth.businessId, auth.keyId, body, idempotency));
