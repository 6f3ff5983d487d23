/**
 * The operator CLI's manners, whatever the command: usage on `--help`, a usage error for what it
 * does not know, errors that name the field at fault, and stdout that is the command's JSON alone
 * (so `npm run admin -- … | jq` works without `--silent`).
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminWorkspace, type AdminWorkspace } from '../support/admin-cli.ts';
import { createBusiness } from '../support/stack.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

let admin: AdminWorkspace;
beforeAll(async () => {
  admin = await adminWorkspace();
});
afterAll(() => admin?.dispose());

describe('npm run admin: usage', () => {
  it('prints the usage on stdout and exits 0 for --help, and a command\'s own usage for <command> --help', async () => {
    const help = await admin.run('--help');
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run admin -- <command>/);
    expect(help.stdout).toContain('fund-business --business-id ID --currency C --amount A');

    const commandHelp = await admin.run('rotate-key', '--help');
    expect(commandHelp.exitCode).toBe(0);
    expect(commandHelp.stdout).toMatch(/^usage: npm run admin -- rotate-key --business-id ID/);
    expect(commandHelp.stdout).not.toContain('fund-business');
  });

  it('prints the usage on stderr and exits 2 for an unknown command or option', async () => {
    const unknown = await admin.run('launch-rocket');
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toContain('unknown command "launch-rocket"');
    expect(unknown.stderr).toContain('usage: npm run admin');

    const option = await admin.run('list-credentials', '--bogus');
    expect(option.exitCode).toBe(2);
    expect(option.stderr).toContain("Unknown option '--bogus'");
  });

  it('through npm itself, writes nothing but the command\'s output on stdout (npm\'s banner goes to stderr)', () => {
    const result = spawnSync('npm', ['run', 'admin', '--', '--help'], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^usage: npm run admin -- <command>/);
    expect(result.stderr).toContain('> card-issuing-platform@');
  });
});

describe('npm run admin: errors', () => {
  it("names the field at fault when a service refuses the input, and exits 1", async () => {
    const business = await createBusiness(`admin-cli-${randomUUID()}`);
    const refused = await admin.run('fund-business', '--business-id', business.business_id, '--currency', 'USD', '--amount', '10.001');
    expect(refused.exitCode).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('validation_error');
    expect(refused.stderr).toMatch(/^ {2}amount: .*decimal/m);

    const currency = await admin.run('fund-business', '--business-id', business.business_id, '--currency', 'XXX', '--amount', '1');
    expect(currency.exitCode).toBe(1);
    expect(currency.stderr).toMatch(/^ {2}currency: /m);
  });

  it('says how to set a region when --stage has none', async () => {
    const result = spawnSync(process.execPath, [`${repoRoot}node_modules/tsx/dist/cli.mjs`, `${repoRoot}infra/admin/cli.ts`, 'list-credentials', '--stage', 'sandbox'], {
      env: { PATH: process.env.PATH, HOME: '/nonexistent', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('needs an AWS region: set AWS_REGION');
  });
});
