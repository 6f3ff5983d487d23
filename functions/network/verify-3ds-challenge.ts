import { VerifyOtpBody } from '../../shared/domain/three-ds.ts';
import { networkHandler } from '../../shared/http/handler.ts';
import { pathIds } from '../../shared/http/path-ids.ts';
import { networkVerify } from '../../shared/services/three-ds.ts';

export const handler = networkHandler({ body: VerifyOtpBody, params: pathIds({ verification_id: 'verification' }) }, ({ body, params }) =>
  networkVerify(params.verification_id, body.otp_code),
);
