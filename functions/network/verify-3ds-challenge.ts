import { VerificationPathParams, VerifyOtpBody } from '../../shared/domain/three-ds.ts';
import { networkHandler } from '../../shared/http/handler.ts';
import { networkVerify } from '../../shared/services/three-ds.ts';

export const handler = networkHandler({ body: VerifyOtpBody, params: VerificationPathParams }, ({ body, params }) =>
  networkVerify(params.verification_id, body.otp_code),
);
