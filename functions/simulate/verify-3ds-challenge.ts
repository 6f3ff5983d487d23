import { VerifyOtpBody } from '../../shared/domain/three-ds.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { pathIds } from '../../shared/http/path-ids.ts';
import { simulateVerify } from '../../shared/services/three-ds.ts';

export const handler = httpHandler({ body: VerifyOtpBody, params: pathIds({ verification_id: 'verification' }) }, ({ body, params, auth }) =>
  simulateVerify(auth.businessId, params.verification_id, body.otp_code),
);
