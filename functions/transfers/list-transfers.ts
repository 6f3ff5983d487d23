// Its row lists MAC purposes: keyed hashes with KMS HMAC keys (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import * as api from '../../shared/contracts/transfers.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { listTransfers } from '../../shared/services/transfers.ts';

export const handler = operationHandler(api.listTransfers, ({ query, auth }) => listTransfers(auth.businessId, query));
