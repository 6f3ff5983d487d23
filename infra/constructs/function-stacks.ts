/**
 * Where the per-function resources live: one CloudFormation nested stack per area of the API, so
 * no template nears CloudFormation's 500 resources per stack as the route table grows.
 *
 * A function costs up to 11 resources (log group, role, managed policy, function, and on a canary
 * stage its version, `live` alias and deployment group, plus what invokes it: its API method, the
 * path resource(s) new to the area, and API Gateway's invoke permission; or an event-source
 * mapping; or a schedule rule and its permission). ~45 route rows would put ~500 in one template;
 * spread over the areas, the largest nested stack holds a few dozen.
 *
 * The area is read off the row, so adding a row never means a change here:
 * - a route's area is the first segment of its path after the version (`/v1/cards/{id}/lock` →
 *   `cards`, `/v1/simulate/topups` → `simulate`, `/network/authorizations` → `network`), so a
 *   function stays in its stack when other rows come and go;
 * - queue and stream consumers and scheduled functions make up the `webhooks` area (the webhook
 *   pipeline; a `/v1/webhooks/...` route joins them).
 *
 * What stays in the root stack: everything that holds data or is shared (table, KMS keys, queues
 * and DLQs, backups), the REST API with its stage and `/v1` resource (platform-api.ts), authorizers (and their three functions: an
 * authorizer's invoke permission names the authorizer, which names the function, so they cannot
 * sit on two sides of a stack boundary), WAF, alarms, dashboard and SSM parameters. A nested stack
 * gets the root's values it needs as its parameters, and gives back function names and ARNs as its
 * outputs; CDK wires both.
 */
import { NestedStack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { RouteRow } from '../../shared/routes.ts';
import type { StageConfig } from '../stage-config.ts';
import { pascal } from './naming.ts';
import type { PlatformFunction } from './platform-function.ts';

/** The area of the consumer and schedule rows: the webhook pipeline. */
export const PIPELINE_AREA = 'webhooks';

/** What one function may cost in its nested stack (see above), at most. */
export const RESOURCES_PER_FUNCTION = 11;
/** A nested stack's own resources besides its functions': CodeDeploy's role and its policy. */
export const RESOURCES_PER_FUNCTION_STACK = 2;
/**
 * The most functions one area may hold: 35 × 11 + 2 = 387 resources, under the 400 the infra tests
 * hold every template to, which leaves CloudFormation's 500 a margin for another resource or two
 * per function (an alarm of its own, say). An area that outgrows it fails the synth, naming itself.
 */
export const FUNCTIONS_PER_STACK = 35;

/** `/v1/cards/{id}/lock` → `cards`; `/network/authorizations` → `network`. */
export function areaOfRoute(row: Pick<RouteRow, 'path'>): string {
  const segments = row.path.split('/').filter(Boolean);
  const area = /^v\d+$/.test(segments[0] ?? '') ? segments[1] : segments[0];
  if (!area || area.startsWith('{')) throw new Error(`Route ${row.path}: its path names no area (a first segment after the version)`);
  // A file of the API's own description (`/v1/openapi.json`) lives with its reference page (`/docs`).
  return area.includes('.') ? 'docs' : area;
}

/** The nested stack of one area's functions. */
export class FunctionStack extends NestedStack {
  readonly area: string;
  readonly functions: PlatformFunction[] = [];

  constructor(scope: Construct, id: string, props: { area: string; config: StageConfig }) {
    super(scope, id, { description: `Card platform (${props.config.stage}): functions of the ${props.area} area` });
    this.area = props.area;
  }

  /** Records a function built in this stack, refusing one more than {@link FUNCTIONS_PER_STACK}. */
  register(fn: PlatformFunction): void {
    this.functions.push(fn);
    if (this.functions.length > FUNCTIONS_PER_STACK) {
      throw new Error(
        `The ${this.area} area has more than ${FUNCTIONS_PER_STACK} functions, more than one nested stack holds ` +
          `(infra/constructs/function-stacks.ts): give some of its routes a path area of their own`,
      );
    }
  }
}

/** The nested stacks of a stage, created the first time an area asks for one, under `Functions`. */
export class FunctionStacks extends Construct {
  private readonly byArea = new Map<string, FunctionStack>();

  constructor(
    scope: Construct,
    id: string,
    private readonly config: StageConfig,
  ) {
    super(scope, id);
  }

  of(area: string): FunctionStack {
    const existing = this.byArea.get(area);
    if (existing) return existing;
    const stack = new FunctionStack(this, pascal(area), { area, config: this.config });
    this.byArea.set(area, stack);
    return stack;
  }

  all(): FunctionStack[] {
    return [...this.byArea.values()];
  }
}
