// Its row seals or opens: the envelope encryption engine (shared/crypto/envelope.ts).
import '../../shared/crypto/envelope-engine.ts';
// Its row lists MAC purposes: keyed hashes with KMS HMAC keys (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { networkAuthorization } from '../../shared/services/authorizations.ts';

export const handler = operationHandler(api.networkAuthorization, ({ body }) => networkAuthorization(body));
