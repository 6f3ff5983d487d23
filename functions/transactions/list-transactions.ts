// Its row lists MAC purposes: keyed hashes with KMS HMAC keys (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { listBusinessTransactions } from '../../shared/services/transactions.ts';

export const handler = operationHandler(api.listTransactions, ({ query, auth }) => listBusinessTransactions(auth.businessId, query));
