import * as api from '../../shared/contracts/api-description.ts';
import { openApiDocument } from '../../shared/contracts/openapi.ts';
import { config } from '../../shared/config.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { operationsForStage } from '../../shared/routes.ts';

/** Built once per container: the description of this function's own stage. */
let document: { openapi: '3.1.0' } | undefined;

export const handler = operationHandler(api.getOpenApiDocument, async () => (document ??= openApiDocument(describedStage(config().STAGE)) as { openapi: '3.1.0' }));

function describedStage(stage: 'sandbox' | 'production') {
  return { stage, operations: operationsForStage(stage) };
}
