// Its row lists MAC purposes: keyed hashes with KMS HMAC keys (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import * as api from '../../shared/contracts/cards.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import * as cards from '../../shared/services/cards.ts';

export const handler = operationHandler(api.listCards, ({ query, auth }) => cards.listCards(auth, query));
