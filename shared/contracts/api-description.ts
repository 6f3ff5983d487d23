/** The API's own description: the OpenAPI document and the reference page rendered from it. */
import * as z from '../zod.ts';
import { operation } from './operation.ts';

export const getOpenApiDocument = operation({
  id: 'getOpenApiDocument',
  method: 'GET',
  path: '/v1/openapi.json',
  credential: 'public',
  tag: 'API description',
  summary: 'The OpenAPI 3.1 description of this stage',
  description: 'Generated from the schemas that validate requests. Needs no API key.',
  status: 200,
  response: z.looseObject({ openapi: z.literal('3.1.0') }).check(z.meta({ id: 'OpenApiDocument' })),
  errors: [],
});

export const getReferencePage = operation({
  id: 'getReferencePage',
  method: 'GET',
  path: '/docs',
  credential: 'public',
  tag: 'API description',
  summary: 'The API reference page (HTML)',
  description: 'Rendered in the browser from `/v1/openapi.json`; fetches nothing from another host. Needs no API key.',
  status: 200,
  contentType: 'text/html; charset=utf-8',
  response: z.string(),
  errors: [],
});
