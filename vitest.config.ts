import { defineConfig } from 'vitest/config';

/**
 * Three layers, one command (`npm test`):
 * - unit: pure domain logic and wrapped handlers with aws-sdk-client-mock (no emulator);
 * - infra: CDK template assertions and cdk-nag;
 * - integration: HTTP against the local stack, started once for the run by a global setup.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: ['test/support/unit-env.ts'],
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/local-stack-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // The suites share one local stack; running them one file at a time keeps a 2-core
          // machine from starving DynamoDB Local.
          fileParallelism: false,
        },
      },
    ],
  },
});
