// Its row lists MAC purposes: keyed hashes with KMS HMAC keys (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { networkForcePost } from '../../shared/services/network-postings.ts';

export const handler = operationHandler(api.networkForcePost, ({ body, idempotency }) => networkForcePost(body, idempotency));
