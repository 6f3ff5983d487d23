/**
 * `npm run test:model -- [--runs N] [--seed S] [--max-commands M] [--no-faults]`: the model-based
 * money test (test/integration/money-model.test.ts) with a longer profile than `npm test` runs.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '200' },
    seed: { type: 'string' },
    'max-commands': { type: 'string', default: '30' },
    'no-faults': { type: 'boolean', default: false },
  },
});
for (const [name, value] of [['runs', values.runs], ['seed', values.seed], ['max-commands', values['max-commands']]] as const) {
  if (value !== undefined && !/^\d+$/.test(value)) {
    console.error(`--${name} must be a whole number, not "${value}"`);
    process.exit(2);
  }
}
const env = {
  ...process.env,
  MODEL_RUNS: values.runs,
  MODEL_MAX_COMMANDS: values['max-commands'],
  MODEL_FAULTS: values['no-faults'] ? 'off' : 'on',
  ...(values.seed ? { MODEL_SEED: values.seed } : {}),
};
const started = Date.now();
const result = spawnSync('npx', ['vitest', 'run', '--project', 'integration', 'test/integration/money-model.test.ts'], { env, stdio: 'inherit' });
console.info(`test:model finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(result.status ?? 1);
