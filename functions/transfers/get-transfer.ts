import * as api from '../../shared/contracts/transfers.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { getTransferView } from '../../shared/services/transfers.ts';

export const handler = operationHandler(api.getTransfer, ({ params, auth }) => getTransferView(auth.businessId, params.id));
