/**
 * Headless Chromium for specs that need a real browser (the rendered API reference at `/docs`).
 *
 * The browser is Debian's `chromium` package, installed by the project's own setup when missing
 * (`apt-get install chromium`, as root on a machine with apt-get); nothing is downloaded from
 * anywhere else (playwright-core drives it, and never fetches a browser of its own). Elsewhere the
 * spec fails with what to install.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chromium, type Page } from 'playwright-core';

/** The names Debian and other distributions give the executable. */
const EXECUTABLES = ['chromium', 'chromium-browser'];

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function findChromium(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return fromEnv;
  for (const name of EXECUTABLES) {
    const found = onPath(name);
    if (found) return found;
  }
  return undefined;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * The path of the `chromium` executable (`CHROMIUM_PATH` overrides), installing Debian's package
 * first when it is missing and this process may (root, with apt-get). Throws with the command to
 * run otherwise.
 */
export function chromiumExecutable(): string {
  const existing = findChromium();
  if (existing) return existing;
  if (isRoot() && onPath('apt-get')) {
    const apt = (args: string[]) => execFileSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    apt(['update']);
    apt(['install', '-y', '--no-install-recommends', 'chromium']);
    const installed = findChromium();
    if (installed) return installed;
    throw new Error('apt-get installed "chromium", but no chromium executable is on PATH');
  }
  throw new Error(
    'These specs need a headless Chromium and none is installed. Install your distribution\'s package ' +
      '(Debian/Ubuntu: `sudo apt-get install chromium`; Fedora: `sudo dnf install chromium`; macOS: ' +
      '`brew install --cask chromium`), or set CHROMIUM_PATH to a Chromium or Chrome executable.',
  );
}

export interface BrowserPageRun<T> {
  /** What `fn` returned. */
  result: T;
  /** Every URL the page requested, in order (documents, scripts, fetches, images...). */
  requests: string[];
  /** Console messages of type `error` (Content-Security-Policy violations land here). */
  consoleErrors: string[];
}

/**
 * Opens a page in a fresh headless Chromium, runs `fn` with it, and closes the browser whatever
 * happens. Every request URL and console error is recorded, so a spec can assert what the page
 * fetched and from where.
 */
export async function withBrowserPage<T>(fn: (page: Page, requests: readonly string[]) => Promise<T>): Promise<BrowserPageRun<T>> {
  const browser = await chromium.launch({
    executablePath: chromiumExecutable(),
    headless: true,
    // Chromium's sandbox needs user namespaces, which a root process in a container rarely has.
    args: isRoot() ? ['--no-sandbox'] : [],
  });
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  try {
    const page = await browser.newPage();
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    const result = await fn(page, requests);
    return { result, requests, consoleErrors };
  } finally {
    await browser.close();
  }
}
