/**
 * Every HTTP exchange of the integration tests, checked against the committed `openapi.json`, so
 * the description and the code cannot drift apart:
 *
 * - the answered status is one the operation declares;
 * - the body matches that status's schema (for an error: the error body, with a code the operation
 *   lists for that status);
 * - a request the platform accepted (`2xx`) is one the description accepts too (path parameters,
 *   query and body).
 *
 * Requests to routes the description does not have (the tests' deliberate `/v1/nope`) are checked
 * to be answered `404 route_not_found` or `405 method_not_allowed`, like API Gateway answers them.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

type Json = Record<string, any>;

const DOCUMENT_ID = 'openapi.json';
const document = JSON.parse(readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8')) as Json;

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
(addFormats as unknown as (ajv: Ajv2020) => void)(ajv);
ajv.addSchema(document, DOCUMENT_ID);

const compiled = new Map<string, ValidateFunction>();
function validatorAt(pointer: string): ValidateFunction {
  let validate = compiled.get(pointer);
  if (!validate) {
    validate = ajv.getSchema(`${DOCUMENT_ID}#${pointer}`);
    if (!validate) throw new Error(`No schema at ${pointer}`);
    compiled.set(pointer, validate);
  }
  return validate;
}

const escapeToken = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');

interface Route {
  template: string;
  pattern: RegExp;
  names: string[];
}

const routes: Route[] = Object.keys(document.paths as Json).map((template) => {
  const names: string[] = [];
  const pattern = new RegExp(`^${template.replace(/[.]/g, '\\.').replace(/\{([^}]+)\}/g, (_, name: string) => (names.push(name), '([^/]+)'))}$`);
  return { template, pattern, names };
});

export interface Exchange {
  method: string;
  path: string;
  query: URLSearchParams;
  requestBody: unknown;
  status: number;
  contentType: string | null;
  responseBody: unknown;
}

/** The problems of one exchange against the description; empty when it conforms. */
export function contractProblems(exchange: Exchange): string[] {
  const { method, path, status } = exchange;
  const route = routes.find((candidate) => candidate.pattern.test(path));
  const operation = route ? (document.paths[route.template] as Json)[method.toLowerCase()] : undefined;
  if (!route || !operation) {
    const code = (exchange.responseBody as Json | null)?.error?.code;
    return (status === 404 && code === 'route_not_found') || (status === 405 && code === 'method_not_allowed')
      ? []
      : [`${method} ${path} is not in the description, yet was answered ${status} ${code ?? ''}`];
  }
  const where = `${method} ${route.template}`;
  const base = `/paths/${escapeToken(route.template)}/${method.toLowerCase()}`;
  const problems: string[] = [];

  const response = operation.responses[String(status)] as Json | undefined;
  if (!response) return [`${where} answered ${status}, which it does not declare (${Object.keys(operation.responses).join(', ')})`];
  const mediaTypes = Object.keys(response.content ?? {});
  if (mediaTypes.length) {
    const [mediaType] = mediaTypes as [string];
    if (!exchange.contentType?.startsWith(mediaType.split(';')[0]!)) problems.push(`${where} ${status}: content-type ${exchange.contentType}, described ${mediaType}`);
    if (mediaType.includes('json')) {
      const validate = validatorAt(`${base}/responses/${status}/content/${escapeToken(mediaType)}/schema`);
      if (!validate(exchange.responseBody)) problems.push(`${where} ${status} body: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(exchange.responseBody).slice(0, 400)}`);
    }
  }

  if (status >= 200 && status < 300) problems.push(...requestProblems(exchange, route, operation, base, where));
  return problems;
}

function requestProblems(exchange: Exchange, route: Route, operation: Json, base: string, where: string): string[] {
  const problems: string[] = [];
  const values = route.pattern.exec(exchange.path)!.slice(1).map(decodeURIComponent);
  const parameters = (operation.parameters ?? []) as Json[];
  parameters.forEach((parameter, index) => {
    let value: unknown;
    if (parameter.in === 'path') value = values[route.names.indexOf(parameter.name)];
    else if (parameter.in === 'query') value = exchange.query.get(parameter.name) ?? undefined;
    else return;
    if (value === undefined) {
      if (parameter.required) problems.push(`${where}: accepted without its required ${parameter.in} parameter ${parameter.name}`);
      return;
    }
    const validate = validatorAt(`${base}/parameters/${index}/schema`);
    const typed = /^(integer|number)$/.test(parameter.schema?.type) ? Number(value) : value;
    if (!validate(typed)) problems.push(`${where}: accepted ${parameter.in} ${parameter.name}=${String(value)} the description refuses: ${ajv.errorsText(validate.errors)}`);
  });
  for (const name of exchange.query.keys()) {
    if (!parameters.some((parameter) => parameter.in === 'query' && parameter.name === name)) problems.push(`${where}: accepted an undescribed query parameter ${name}`);
  }
  if (operation.requestBody) {
    const validate = validatorAt(`${base}/requestBody/content/application~1json/schema`);
    if (!validate(exchange.requestBody)) problems.push(`${where}: accepted a body the description refuses: ${ajv.errorsText(validate.errors)}`);
  }
  return problems;
}
