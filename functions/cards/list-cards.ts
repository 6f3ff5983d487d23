import { ListCardsQuery } from '../../shared/domain/cards.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import * as cards from '../../shared/services/cards.ts';

export const handler = httpHandler({ query: ListCardsQuery }, ({ query, auth }) => cards.listCards(auth, query));
