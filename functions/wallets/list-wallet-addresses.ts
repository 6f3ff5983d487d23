import { UserPathParams } from '../../shared/domain/users.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { listWalletAddresses } from '../../shared/services/wallets.ts';

export const handler = httpHandler({ params: UserPathParams }, ({ params, auth }) => listWalletAddresses(auth.businessId, params.p_user_id));
