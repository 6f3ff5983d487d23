import { VerificationPathParams, VerifyOtpBody } from '../../shared/domain/three-ds.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { simulateVerify } from '../../shared/services/three-ds.ts';

export const handler = httpHandler({ body: VerifyOtpBody, params: VerificationPathParams }, ({ body, params, auth }) =>
  simulateVerify(auth.businessId, params.verification_id, body.otp_code),
);
