/**
 * Synthesis and template queries shared by the infra specs.
 *
 * Bundling every handler is the slow part of a synth, so each spec file builds its stacks once,
 * all in one App, with `fast` bundling: one esbuild pass over every handler (a broken import still
 * fails the spec), shared by the App's stacks. bundling.test.ts covers the release bundles.
 *
 * A stage is a root stack and the nested stacks of its functions (infra/constructs/function-stacks.ts).
 * The specs read it as one template: `template` merges the resources of every template, with each
 * reference across a stack boundary followed to what it stands for (a nested stack's parameter to
 * the value its parent passes, a nested stack's output to the value it exports), so a spec that
 * follows a function's `Role` or a method's integration to a function finds the very resources
 * CloudFormation will wire. `templates` has each template on its own, as deployed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, NestedStack, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import { CardPlatformStack, type PlatformTables } from '../../../infra/card-platform-stack.ts';
import { stageConfig, type Stage } from '../../../infra/stage-config.ts';

export interface Synthesized {
  stack: CardPlatformStack;
  /** The root and every nested template as one, references across stacks resolved. */
  template: Template;
  /** Each template as CloudFormation gets it: the root first, then each nested stack. */
  templates: DeployedTemplate[];
}

export interface DeployedTemplate {
  stack: Stack;
  /** The construct path of the stack (`Spec-production/Functions/Cards`). */
  path: string;
  json: { Resources: Resources; Parameters?: Record<string, unknown>; Outputs?: Record<string, unknown> };
}

export interface Synthesis {
  stacks: Record<string, Synthesized>;
  /** Removes the cloud assembly (bundles of every function) from the temp directory. */
  dispose(): void;
}

export interface StackRequest {
  stage: Stage;
  tables?: Partial<PlatformTables>;
  /** Context overrides, as `-c name=value` passes them to `stageConfig`. */
  overrides?: Parameters<typeof stageConfig>[1];
}

export function synthesize(requests: Record<string, StackRequest>): Synthesis {
  const outdir = mkdtempSync(join(tmpdir(), 'card-platform-infra-'));
  const app = new App({ outdir });
  const stacks: Record<string, CardPlatformStack> = {};
  for (const [name, request] of Object.entries(requests)) {
    stacks[name] = new CardPlatformStack(app, `Spec-${name}`, {
      config: stageConfig(request.stage, request.overrides),
      bundling: 'fast',
      tables: request.tables,
    });
  }
  app.synth();
  return {
    stacks: Object.fromEntries(
      Object.entries(stacks).map(([name, stack]) => {
        const templates = deployedTemplates(stack);
        let merged: Template | undefined;
        // Merged on first use: a spec of the templates as deployed may not need it.
        return [name, { stack, templates, get template() { return (merged ??= mergedTemplate(templates)); } }];
      }),
    ),
    dispose: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/** The root's template and those of the nested stacks under it, at any depth. */
function deployedTemplates(root: Stack): DeployedTemplate[] {
  const stacks = [root, ...root.node.findAll().filter((construct): construct is NestedStack => construct instanceof NestedStack)];
  return stacks.map((stack) => ({ stack, path: stack.node.path, json: Template.fromStack(stack).toJSON() as DeployedTemplate['json'] }));
}

/**
 * One template of every resource of the stage. Logical ids are those of each resource's own
 * template (a clash between two templates fails here); `Ref` and `Fn::GetAtt` across a stack
 * boundary are replaced by what they resolve to in the other template, so they name resources
 * of the merged template. Parameters and Outputs are the root's.
 */
function mergedTemplate(templates: DeployedTemplate[]): Template {
  const byStack = new Map(templates.map((deployed) => [deployed.stack, deployed]));
  /** The nested stack whose `AWS::CloudFormation::Stack` resource is `logicalId` in `parent`. */
  const nestedAt = (parent: Stack, logicalId: string) =>
    templates.find(({ stack }) => stack instanceof NestedStack && stack.nestedStackParent === parent && parent.getLogicalId(stack.nestedStackResource!) === logicalId);

  const resolve = (value: unknown, stack: Stack): unknown => {
    if (Array.isArray(value)) return value.map((item) => resolve(item, stack));
    if (!value || typeof value !== 'object') return value;
    const record = value as Record<string, unknown>;
    const ref = record.Ref;
    const parent = stack instanceof NestedStack ? stack.nestedStackParent : undefined;
    if (typeof ref === 'string' && parent && byStack.get(stack)!.json.Parameters?.[ref] !== undefined) {
      // A nested stack's parameter: the value its parent passes, in the parent's terms.
      const passed = byStack.get(parent)!.json.Resources[parent.getLogicalId(stack.nestedStackResource!)]!.Properties.Parameters[ref];
      return resolve(passed, parent);
    }
    const getAtt = record['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[1] === 'string' && getAtt[1].startsWith('Outputs.')) {
      // A nested stack's output: the value it exports, in the nested stack's terms.
      const nested = nestedAt(stack, getAtt[0]);
      if (nested) return resolve((nested.json.Outputs as Record<string, { Value: unknown }>)[getAtt[1].slice('Outputs.'.length)]!.Value, nested.stack);
    }
    return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, resolve(item, stack)]));
  };

  const merged: Resources = {};
  for (const { stack, path, json } of templates) {
    for (const [id, resource] of Object.entries(json.Resources)) {
      if (merged[id]) throw new Error(`Logical id ${id} is in two templates (${path} and another)`);
      merged[id] = resolve(resource, stack) as Resources[string];
    }
  }
  const root = templates[0]!;
  return Template.fromJSON({ ...root.json, Resources: merged, Outputs: resolve(root.json.Outputs, root.stack) });
}

export interface NagFinding {
  rule: string;
  severity: string;
  paths: string[];
}

/** Unacknowledged errors and warnings of the AWS Solutions, Serverless and PCI DSS 3.2.1 packs. */
export function nagFindings(stack: CardPlatformStack): NagFinding[] {
  const packs = [new AwsSolutionsChecks(), new ServerlessChecks(), new PCIDSS321Checks()];
  return packs.flatMap((pack) =>
    pack.validateScope(stack).violations.map((violation) => ({
      rule: violation.ruleName,
      severity: violation.severity ?? 'error',
      paths: violation.violatingResources.map((resource) => resource.constructPath ?? '?'),
    })),
  );
}

// ---- template queries ------------------------------------------------------------------------

export type Resources = Record<string, { Type: string; Properties?: any; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;

export function resources(template: Template): Resources {
  return template.toJSON().Resources as Resources;
}

export function ofType(template: Template, type: string): [string, any][] {
  return Object.entries(resources(template))
    .filter(([, resource]) => resource.Type === type)
    .map(([id, resource]) => [id, resource.Properties ?? {}]);
}

/** The logical id a `{Ref}` or `{Fn::GetAtt}` points at. */
export function referencedId(value: unknown): string | undefined {
  if (value && typeof value === 'object') {
    const ref = (value as any).Ref ?? (value as any)['Fn::GetAtt']?.[0];
    if (typeof ref === 'string') return ref;
  }
  return undefined;
}

/** Every logical id referenced anywhere inside `value`. */
export function referencedIds(value: unknown): Set<string> {
  const ids = new Set<string>();
  const visit = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      const id = referencedId(node);
      if (id) ids.add(id);
      Object.values(node).forEach(visit);
    }
  };
  visit(value);
  return ids;
}

/**
 * The functions `value` makes something invoke: those it references directly, and those of the
 * aliases and versions it references (a `live` alias on a stage that deploys by canary).
 */
export function invokedFunctionIds(template: Template, value: unknown): Set<string> {
  const all = resources(template);
  const functionOf = (id: string): string | undefined => {
    const resource = all[id];
    if (resource?.Type === 'AWS::Lambda::Function') return id;
    if (resource?.Type === 'AWS::Lambda::Alias' || resource?.Type === 'AWS::Lambda::Version') return referencedId(resource.Properties.FunctionName);
    return undefined;
  };
  return new Set([...referencedIds(value)].map(functionOf).filter((id): id is string => id !== undefined));
}

/** The Lambda function whose description is `description` (route functions: "GET /v1/cards"). */
export function functionByDescription(template: Template, description: string): [string, any] {
  const found = ofType(template, 'AWS::Lambda::Function').filter(([, props]) => props.Description === description);
  if (found.length !== 1) throw new Error(`expected one function described "${description}", found ${found.length}`);
  return found[0]!;
}

export interface PolicyStatement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, any>;
  Sid?: string;
  Principal?: unknown;
}

export const actionsOf = (statement: PolicyStatement): string[] => [statement.Action].flat();

/** The statements of the managed policies attached to a function's role. */
export function statementsOfFunction(template: Template, functionId: string): PolicyStatement[] {
  const fn = resources(template)[functionId]!;
  const roleId = referencedId(fn.Properties.Role)!;
  return ofType(template, 'AWS::IAM::ManagedPolicy')
    .filter(([, props]) => (props.Roles ?? []).some((role: unknown) => referencedId(role) === roleId))
    .flatMap(([, props]) => props.PolicyDocument.Statement as PolicyStatement[]);
}

/**
 * The identity-policy statements of every role in the template, by role logical id: its managed
 * policies, any `AWS::IAM::Policy` attached to it, and its inline policies.
 */
export function statementsByRole(template: Template): Map<string, PolicyStatement[]> {
  const byRole = new Map<string, PolicyStatement[]>(ofType(template, 'AWS::IAM::Role').map(([id]) => [id, []]));
  const add = (roleId: string | undefined, document: { Statement?: PolicyStatement[] } | undefined) => {
    if (roleId && byRole.has(roleId)) byRole.get(roleId)!.push(...(document?.Statement ?? []));
  };
  for (const type of ['AWS::IAM::ManagedPolicy', 'AWS::IAM::Policy']) {
    for (const [, props] of ofType(template, type)) {
      for (const role of props.Roles ?? []) add(referencedId(role), props.PolicyDocument);
    }
  }
  for (const [roleId, props] of ofType(template, 'AWS::IAM::Role')) {
    for (const policy of props.Policies ?? []) add(roleId, policy.PolicyDocument);
  }
  return byRole;
}

/** Every policy statement in the template: IAM policies, role trust and inline policies, key, queue and secret policies. */
export function allStatements(template: Template): { resourceId: string; type: string; statement: PolicyStatement }[] {
  const found: { resourceId: string; type: string; statement: PolicyStatement }[] = [];
  for (const [resourceId, resource] of Object.entries(resources(template))) {
    const visit = (node: unknown) => {
      if (Array.isArray(node)) node.forEach(visit);
      else if (node && typeof node === 'object') {
        const record = node as Record<string, unknown>;
        if (Array.isArray(record.Statement)) {
          for (const statement of record.Statement as PolicyStatement[]) found.push({ resourceId, type: resource.Type, statement });
        }
        Object.values(record).forEach(visit);
      }
    };
    visit(resource.Properties);
  }
  return found;
}

/** "GET /v1/users/{p_user_id}" for every API Gateway method, from the resource tree. */
export function methodsByRoute(template: Template): Map<string, any> {
  const all = resources(template);
  const pathOf = (resourceId: string | undefined): string => {
    const resource = resourceId ? all[resourceId] : undefined;
    if (!resource || resource.Type !== 'AWS::ApiGateway::Resource') return '';
    return `${pathOf(referencedId(resource.Properties.ParentId))}/${resource.Properties.PathPart}`;
  };
  const methods = new Map<string, any>();
  for (const [, props] of ofType(template, 'AWS::ApiGateway::Method')) {
    methods.set(`${props.HttpMethod} ${pathOf(referencedId(props.ResourceId)) || '/'}`, props);
  }
  return methods;
}
