/**
 * X-Ray tracing (Powertools Tracer): the invocation's handler subsegment, and one subsegment per
 * AWS SDK call on the clients passed through `traced()`.
 *
 * Tracing is on only inside Lambda (Powertools checks `AWS_EXECUTION_ENV`), so unit tests and the
 * local stack trace nothing; the local stack also sets `POWERTOOLS_TRACE_ENABLED=false`.
 *
 * Responses are never captured as segment metadata (`captureResponse: false`): an API answer can
 * carry a card number or a one-time code, and X-Ray is not a place for either. Outgoing HTTPS calls
 * are not instrumented (`captureHTTPsRequests: false`): the only ones are webhooks, whose latency
 * and outcome are business metrics, and instrumenting them would add X-Ray headers to every
 * partner's request.
 */
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type middy from '@middy/core';

export const tracer = new Tracer({ serviceName: 'card-platform', captureHTTPsRequests: false });

/** An AWS SDK v3 client whose calls appear as subsegments (unchanged when tracing is off). */
export function traced<T>(client: T): T {
  return tracer.captureAWSv3Client(client);
}

/** The middy middleware both wrappers put first: the handler's subsegment, without its response. */
export function handlerTracing(): middy.MiddlewareObj {
  return captureLambdaHandler(tracer, { captureResponse: false });
}
