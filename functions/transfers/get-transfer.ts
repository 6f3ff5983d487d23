import { httpHandler } from '../../shared/http/handler.ts';
import { pathIds } from '../../shared/http/path-ids.ts';
import { getTransferView } from '../../shared/services/transfers.ts';

export const handler = httpHandler({ params: pathIds({ id: 'transfer' }) }, ({ params, auth }) => getTransferView(auth.businessId, params.id));
