// Its row seals or opens: the envelope encryption engine (shared/crypto/envelope.ts).
import '../../shared/crypto/envelope-engine.ts';
import * as api from '../../shared/contracts/cards.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import * as cards from '../../shared/services/cards.ts';

export const handler = operationHandler(api.createCard, ({ body, auth, idempotency }) =>
  cards.createCard(auth, body, idempotency),
);
