// Its row seals or opens: the envelope encryption engine (shared/crypto/envelope.ts).
import '../../shared/crypto/envelope-engine.ts';
// Its row lists MAC purposes: keyed hashes with KMS HMAC keys (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import * as api from '../../shared/contracts/users.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { listUsers } from '../../shared/services/users.ts';

export const handler = operationHandler(api.listUsers, ({ query, auth }) => listUsers(auth.businessId, query));
