import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { networkVerify } from '../../shared/services/three-ds.ts';

export const handler = operationHandler(api.networkThreeDsVerification, ({ body, params }) =>
  networkVerify(params.verification_id, body.otp_code),
);
