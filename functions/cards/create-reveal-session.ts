// Its row lists MAC purposes: keyed hashes with KMS HMAC keys (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import * as api from '../../shared/contracts/card-reveal.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import * as reveal from '../../shared/services/card-reveal.ts';

export const handler = operationHandler(api.createRevealSession, ({ params, body, auth, apiBase }) => reveal.createRevealSession(auth, params.id, body, apiBase));
