import * as api from '../../shared/contracts/controls.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import * as controls from '../../shared/services/controls.ts';

export const handler = operationHandler(api.getControls, ({ auth }) => controls.getControls(auth));
