import * as api from '../../shared/contracts/transfers.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { listTransfers } from '../../shared/services/transfers.ts';

export const handler = operationHandler(api.listTransfers, ({ query, auth }) => listTransfers(auth.businessId, query));
