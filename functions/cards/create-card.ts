import { CreateCardBody } from '../../shared/domain/cards.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import * as cards from '../../shared/services/cards.ts';

export const handler = httpHandler({ body: CreateCardBody, status: 201 }, ({ body, auth, idempotency }) =>
  cards.createCard(auth, body, idempotency),
);
