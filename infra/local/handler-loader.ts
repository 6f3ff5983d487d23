/**
 * Imports handler modules (`functions/<module>.ts`, exporting `handler`) once and keeps them, the
 * way a warm Lambda container keeps its module: no per-request loading, and module-level state
 * (clients, config, caches) lives as long as the stack.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { Access } from '../../shared/routes.ts';
import { withKeyGrant } from '../../shared/crypto/local-key-policy.ts';

// Lambda handlers are typed per event source; the loader only passes events through.
export type LambdaHandler = (event: any, context: Context) => unknown;

/** A handler module under `functions/` (the route table's spelling), or a function (tests register these). */
export type HandlerRef = string | LambdaHandler;

export class HandlerLoader {
  private readonly modules = new Map<string, Promise<LambdaHandler>>();

  constructor(private readonly functionsDir: string) {}

  /**
   * The handler of `ref`. Given its row's `access`, every invocation runs inside that row's grant
   * (envelope and MAC purposes, operator settings, queues), as IAM and KMS enforce it in AWS
   * (shared/crypto/local-key-policy.ts).
   */
  async load(ref: HandlerRef, access?: Access): Promise<LambdaHandler> {
    const handler = await this.loadModule(ref);
    if (!access) return handler;
    const grant = { encrypt: access.encrypt ?? [], decrypt: access.decrypt ?? [], mac: access.macs ?? [], settings: access.settings ?? [], sendTo: access.sendTo ?? [] };
    return (event, context) => withKeyGrant(grant, () => handler(event, context));
  }

  private loadModule(ref: HandlerRef): Promise<LambdaHandler> {
    if (typeof ref === 'function') return Promise.resolve(ref);
    let loaded = this.modules.get(ref);
    if (!loaded) {
      loaded = this.importHandler(ref);
      this.modules.set(ref, loaded);
      // A module that failed to load (missing, syntax error) is retried on the next request.
      loaded.catch(() => this.modules.delete(ref));
    }
    return loaded;
  }

  private async importHandler(moduleName: string): Promise<LambdaHandler> {
    const url = pathToFileURL(join(this.functionsDir, `${moduleName}.ts`)).href;
    const module = (await import(url)) as { handler?: unknown };
    if (typeof module.handler !== 'function') throw new Error(`functions/${moduleName}.ts does not export a handler function`);
    return module.handler as LambdaHandler;
  }
}
