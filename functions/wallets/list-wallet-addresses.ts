import { httpHandler } from '../../shared/http/handler.ts';
import { pathIds } from '../../shared/http/path-ids.ts';
import { listWalletAddresses } from '../../shared/services/wallets.ts';

export const handler = httpHandler({ params: pathIds({ p_user_id: 'user' }) }, ({ params, auth }) => listWalletAddresses(auth.businessId, params.p_user_id));
