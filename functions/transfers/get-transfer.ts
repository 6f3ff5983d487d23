import { TransferPathParams } from '../../shared/domain/transfers.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { getTransferView } from '../../shared/services/transfers.ts';

export const handler = httpHandler({ params: TransferPathParams }, ({ params, auth }) => getTransferView(auth.businessId, params.id));
