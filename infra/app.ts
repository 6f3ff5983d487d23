/**
 * The CDK app: one stack per stage, chosen with `-c stage=sandbox|production` (cdk.json defaults
 * to sandbox). Offline-safe: no lookups, no Docker (esbuild bundles locally).
 *
 *   npx cdk synth                        # sandbox
 *   npx cdk synth -c stage=production
 *   npx cdk deploy -c stage=production
 *
 * Optional context: `-c cardBin=35xxxx` (issuing BIN), `-c networkAllowedCidrs=cidr,cidr` (where
 * `/network/...` may be called from; see stage-config.ts), `-c alarmEmail=ops@example.com` (subscribes
 * to the alarm topic), `-c rollbackAlarms=ignore` (production: this deploy's canaries do not roll
 * back on alarms), `-c bundling=fast` (no minify/source maps, quicker local synths),
 * `-c nag=false` (skip the cdk-nag rule packs), `-c escrowHolds=on|off` (B2B holds on escrow shards;
 * see stage-config.ts), `-c writeFormat=release2|release3` (how new items are written; see
 * stage-config.ts).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import { CardPlatformStack } from './card-platform-stack.ts';
import { parseStage, stackName, stageConfig } from './stage-config.ts';

const app = new App();
const stage = parseStage(app.node.tryGetContext('stage'));
const config = stageConfig(stage, {
  cardBin: app.node.tryGetContext('cardBin'),
  networkAllowedCidrs: app.node.tryGetContext('networkAllowedCidrs'),
  alarmEmail: app.node.tryGetContext('alarmEmail'),
  rollbackAlarms: app.node.tryGetContext('rollbackAlarms'),
  networkAuthorizationProvisionedConcurrency: app.node.tryGetContext('networkAuthorizationProvisionedConcurrency'),
  escrowHolds: app.node.tryGetContext('escrowHolds'),
  writeFormat: app.node.tryGetContext('writeFormat'),
});
const bundling = app.node.tryGetContext('bundling') === 'fast' ? 'fast' : 'release';

new CardPlatformStack(app, stackName(stage), { stackName: stackName(stage), config, bundling });

if (String(app.node.tryGetContext('nag') ?? 'true') !== 'false') {
  // cdk-nag 3 runs as CDK policy-validation plugins: an unacknowledged error fails the synth.
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { verbose: true }),
    new ServerlessChecks(app, { verbose: true }),
    new PCIDSS321Checks(app, { verbose: true }),
  );
}
