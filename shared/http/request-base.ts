/**
 * The base URL a request reached the API at, for answers that hand the caller a link back into the
 * same API (a card reveal link): `https://<api id>.execute-api.<region>.amazonaws.com/<stage>` behind
 * API Gateway's own domain, the custom domain and its base path behind one, the local stack's
 * address locally. Read from API Gateway's request context, never from a header the client chose
 * alone: `domainName` is the domain API Gateway served, and the prefix is what its `path` (as the
 * client sent it) has before the route's own `path`.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';

export function requestBaseUrl(event: APIGatewayProxyEvent, headers: Record<string, string>): string {
  const context = event.requestContext;
  const domain = context?.domainName ?? 'localhost';
  const fullPath = context?.path ?? event.path;
  const prefix = fullPath.endsWith(event.path) ? fullPath.slice(0, fullPath.length - event.path.length) : '';
  // API Gateway always serves https and says so in `X-Forwarded-Proto`; the local stack says `http`.
  const scheme = headers['x-forwarded-proto'] === 'http' ? 'http' : 'https';
  return `${scheme}://${domain}${prefix}`;
}
