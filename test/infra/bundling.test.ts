/**
 * What a function's code looks like once bundled: an ES module that Node 22 loads (CommonJS
 * dependencies included, through the `require` banner) and that exports `handler`. Release bundles
 * are minified with a source map; the one-pass bundles of `fast` mode load the same way.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prebundle, prebundledDir, REQUIRE_BANNER } from '../../infra/constructs/bundling.ts';
import { PlatformFunction } from '../../infra/constructs/platform-function.ts';
import { stageConfig } from '../../infra/stage-config.ts';

const HANDLER = 'auth/authorize-business';
let outdir: string;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'card-platform-bundling-'));
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('a release bundle', () => {
  let bundleDir: string;

  beforeAll(() => {
    const app = new App({ outdir: join(outdir, 'release') });
    const stack = new Stack(app, 'Bundling');
    const fn = new PlatformFunction(stack, 'Authorizer', {
      handlerModule: HANDLER,
      description: 'bundling spec',
      timeout: Duration.seconds(10),
      config: stageConfig('sandbox'),
      logsKey: new kms.Key(stack, 'LogsKey'),
      environment: {},
      bundling: 'release',
    });
    const assembly = app.synth();
    const template = assembly.getStackByName('Bundling').template;
    const code = template.Resources[stack.getLogicalId(fn.node.defaultChild as never)].Properties.Code;
    bundleDir = join(assembly.directory, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
  });

  it('is one minified ES module that defines require first, with a source map', () => {
    const source = readFileSync(join(bundleDir, 'index.mjs'), 'utf8');
    expect(source.startsWith(REQUIRE_BANNER)).toBe(true);
    // esbuild marks each module's origin with a `// node_modules/...` comment unless minifying.
    expect(source).not.toMatch(/^\/\/ (node_modules|functions|shared)\//m);
    expect(existsSync(join(bundleDir, 'index.mjs.map'))).toBe(true);
  });

  it('loads in Node 22 and exports the handler', async () => {
    const bundle = await import(pathToFileURL(join(bundleDir, 'index.mjs')).href);
    expect(typeof bundle.handler).toBe('function');
  });
});

describe('a fast (one-pass) bundle', () => {
  it('loads in Node 22 and exports the handler', async () => {
    const dir = join(outdir, 'fast');
    prebundle([HANDLER], dir);
    const source = readFileSync(join(prebundledDir(dir, HANDLER), 'index.mjs'), 'utf8');
    expect(source.startsWith(REQUIRE_BANNER)).toBe(true);
    expect(source).toMatch(/^\/\/ functions\/auth\/authorize-business\.ts$/m);
    const bundle = await import(pathToFileURL(join(prebundledDir(dir, HANDLER), 'index.mjs')).href);
    expect(typeof bundle.handler).toBe('function');
  });
});
