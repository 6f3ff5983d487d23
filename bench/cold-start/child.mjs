// One cold start, in a fresh Node process: import a bundle, answer one invocation, print timings.
// argv: <bundle index.mjs> <event JSON file>. Prints one JSON line on stdout.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [bundle, eventFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = {
  functionName: 'cold-start-bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:cold-start-bench',
  memoryLimitInMB: '1024',
  awsRequestId: 'cold-start-bench',
  logGroupName: '/aws/lambda/cold-start-bench',
  logStreamName: 'bench',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 10_000,
  done() {},
  fail() {},
  succeed() {},
};
const started = performance.now();
const module = await import(pathToFileURL(bundle).href);
const imported = performance.now();
let outcome;
try {
  const answer = await module.handler(event, context);
  outcome = answer && typeof answer === 'object' && 'statusCode' in answer ? String(answer.statusCode) : 'ok';
} catch (error) {
  outcome = `threw ${error instanceof Error ? error.message.slice(0, 40) : 'error'}`;
}
const answered = performance.now();
process.stdout.write(`${JSON.stringify({ importMs: imported - started, totalMs: answered - started, outcome })}\n`);
process.exit(0);
