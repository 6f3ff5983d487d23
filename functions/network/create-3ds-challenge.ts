// Its row seals or opens: the envelope encryption engine (shared/crypto/envelope.ts).
import '../../shared/crypto/envelope-engine.ts';
import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { networkChallenge } from '../../shared/services/three-ds.ts';

export const handler = operationHandler(api.networkThreeDsChallenge, ({ body, idempotency }) => networkChallenge(body, idempotency));
