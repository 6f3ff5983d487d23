/**
 * The OpenAPI 3.1 description of a stage, generated from the operations' contracts (the same zod
 * schemas that validate requests) by zod-openapi: never written by hand. `npm run openapi` writes
 * the sandbox's to `openapi.json` (a test checks it is current); `GET /v1/openapi.json` serves the
 * stage's own.
 */
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponseObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import * as z from '../zod.ts';
import { EVENT_PAYLOADS, EVENT_TYPES } from '../domain/event-types.ts';
import { ERROR_CATALOGUE, type ErrorCode } from '../errors.ts';
import { errorCodesOf, type Operation } from './operation.ts';
import { errorBody } from './resources.ts';

export interface DescribedStage {
  stage: 'sandbox' | 'production';
  operations: readonly Operation[];
}

const SECURITY_SCHEMES = {
  business: { type: 'http', scheme: 'bearer', description: 'The business API key.' },
  network: { type: 'http', scheme: 'bearer', description: 'The card network credential (`/network/authorizations...`, `/network/3ds/...`).' },
  chain: { type: 'http', scheme: 'bearer', description: 'The chain watcher credential (`/network/deposits`).' },
} as const;

const STATUS_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is malformed.',
  401: 'No valid credential.',
  403: 'A valid credential of another kind, or blocked.',
  404: 'Not found (another business\'s resource is not found either).',
  409: 'The state forbids the action.',
  413: 'The request is too large.',
  422: 'A business rule failed.',
  429: 'Too many requests.',
  500: 'An unexpected error.',
  503: 'A dependency is busy; safe to retry.',
};

export function openApiDocument({ stage, operations }: DescribedStage): Record<string, unknown> {
  const paths: ZodOpenApiPathsObject = {};
  for (const contract of operations) {
    const item = (paths[contract.path] ??= {});
    item[contract.method.toLowerCase() as 'get'] = describe(contract);
  }
  const document = createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Card-issuing platform API',
      version: '2.0.0',
      description: [
        `The ${stage} stage. JSON in and out; money is a decimal string in major units; ids are UUIDs; times are RFC 3339 UTC.`,
        'Every response carries `x-request-id`. Errors are `{"error": {"code", "message", "request_id", "fields"?}}`; each operation lists the codes it may answer.',
        'Every `POST` accepts `Idempotency-Key` (1-255 characters, kept 24 h): the same key and body replay the first answer.',
      ].join('\n\n'),
    },
    servers: [{ url: '/', description: 'This deployment (the stage\'s base URL).' }],
    tags: [...new Set(operations.map((contract) => contract.tag))].map((name) => ({ name })),
    paths,
    webhooks: webhooksOf(),
    components: { securitySchemes: SECURITY_SCHEMES },
  }) as unknown as Record<string, unknown>;
  return document;
}

/**
 * The webhook payloads, one per event type (shared/domain/event-types.ts), as OpenAPI 3.1
 * `webhooks`: what the platform POSTs to the business's URL, signed per Standard Webhooks.
 */
function webhooksOf(): ZodOpenApiPathsObject {
  return Object.fromEntries(
    EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          operationId: `webhook:${type}`,
          summary: type,
          description: `${z.globalRegistry.get(EVENT_PAYLOADS[type])?.description ?? ''} Signed with the \`webhook-id\`, \`webhook-timestamp\` and \`webhook-signature\` headers (Standard Webhooks).`,
          tags: ['Webhooks'],
          requestBody: { required: true, content: { 'application/json': { schema: EVENT_PAYLOADS[type] } } },
          responses: { '200': { description: 'Any 2xx within 10 s is success; anything else is retried for at least 24 h.' } },
        },
      },
    ]),
  );
}

function describe(contract: Operation): ZodOpenApiOperationObject {
  const pathParams = contract.params
    ? z.object(Object.fromEntries(Object.entries(contract.params.resources).map(([name, resource]) => [name, z.uuid().check(z.meta({ description: `The ${resource}'s id.` }))])))
    : undefined;
  const idempotencyHeader =
    contract.method === 'POST' && contract.idempotent !== false
      ? z.object({
          'Idempotency-Key':
            contract.idempotent === 'required'
              ? z.string().check(z.minLength(1), z.maxLength(255), z.meta({ description: 'Required: the id of the network message. Replays the first answer for the same key and body (24 h).' }))
              : z.optional(z.string().check(z.minLength(1), z.maxLength(255))).check(z.meta({ description: 'Replays the first answer for the same key and body (24 h).' })),
        })
      : undefined;
  return {
    operationId: contract.id,
    summary: contract.summary,
    ...(contract.description ? { description: contract.description } : {}),
    tags: [contract.tag],
    security: contract.credential === 'public' ? [] : [{ [contract.credential]: [] }],
    ...(pathParams || contract.query || idempotencyHeader
      ? { requestParams: { ...(pathParams ? { path: pathParams } : {}), ...(contract.query ? { query: contract.query } : {}), ...(idempotencyHeader ? { header: idempotencyHeader } : {}) } }
      : {}),
    ...(contract.body ? { requestBody: { required: true, content: { 'application/json': { schema: contract.body } } } } : {}),
    responses: responsesOf(contract),
  };
}

function responsesOf(contract: Operation): ZodOpenApiResponsesObject {
  const mediaType = contract.contentType ?? 'application/json';
  const success = { content: { [mediaType]: { schema: contract.response } } };
  const responses: Record<string, ZodOpenApiResponseObject> = { [String(contract.status)]: { description: contract.summary, ...success } };
  for (const [status, description] of Object.entries(contract.otherStatuses ?? {})) responses[status] = { description: description ?? '', ...success };
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodesOf(contract)) {
    const status = ERROR_CATALOGUE[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = {
      description: `${STATUS_DESCRIPTIONS[status] ?? 'An error.'} Codes: ${codes.map((code) => `\`${code}\``).join(', ')}.`,
      content: { 'application/json': { schema: errorBody(codes as [ErrorCode, ...ErrorCode[]]) } },
    };
  }
  return responses;
}
