import { ListTransfersQuery } from '../../shared/domain/transfers.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { listTransfers } from '../../shared/services/transfers.ts';

export const handler = httpHandler({ query: ListTransfersQuery }, ({ query, auth }) => listTransfers(auth.businessId, query));
