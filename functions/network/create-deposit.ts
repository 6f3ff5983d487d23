// Its row lists MAC purposes: keyed hashes with KMS HMAC keys (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import * as api from '../../shared/contracts/deposits.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { networkDeposit } from '../../shared/services/deposits.ts';

export const handler = operationHandler(api.chainDeposit, ({ body, auth, idempotency }) => networkDeposit(auth.principal, body, idempotency));
