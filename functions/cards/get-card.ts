import { CardPathParams } from '../../shared/domain/cards.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import * as cards from '../../shared/services/cards.ts';

export const handler = httpHandler({ params: CardPathParams }, ({ params, auth }) => cards.getCard(auth, params.id));
