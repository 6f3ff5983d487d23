/**
 * The Lambda `Context` a handler receives, for in-process invocations. Each invocation gets its own
 * `awsRequestId` (distinct from API Gateway's request id, as in AWS) and a deadline.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export function lambdaContext(functionName: string, timeoutMs: number, region: string, accountId: string): Context {
  const deadline = Date.now() + timeoutMs;
  const notSupported = () => {
    throw new Error('The callback-style Lambda context methods are not supported; return a value or a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: notSupported,
    fail: notSupported,
    succeed: notSupported,
  };
}

/** `users/create-user` -> `local-users-create-user`: a readable function name from a handler module. */
export function functionNameOf(handlerModule: string): string {
  return `local-${handlerModule.replace(/[^A-Za-z0-9-]+/g, '-')}`;
}
