import { existsSync, readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunbookError } from '../errors.js';
import { systemClock } from '../ports/clock.js';
import type { RunStore } from '../store/run-store.js';

export interface GlobalOptions {
  stateDir?: string;
  runbooks?: string[];
  json?: boolean;
  color?: boolean;
}

/** The package root (where package.json and the built-in runbooks/ live), from dist or src. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'upgrade-runbook') return dir;
    dir = dirname(dir);
  }
  throw new RunbookError('INTERNAL', 'Cannot find the package root of upgrade-runbook.');
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** User dirs (--runbooks, RUNBOOK_PATH) first, then the built-in runbooks/. */
export function runbookDirs(opts: GlobalOptions, env: NodeJS.ProcessEnv): string[] {
  const fromEnv = (env.RUNBOOK_PATH ?? '').split(':').filter(Boolean);
  return [...(opts.runbooks ?? []), ...fromEnv].map((d) => resolve(d)).concat(join(packageRoot(), 'runbooks'));
}

export function stateDir(opts: GlobalOptions, env: NodeJS.ProcessEnv, cwd: string): string {
  return resolve(cwd, opts.stateDir ?? env.RUNBOOK_STATE_DIR ?? '.runbook');
}

/** Who is acting: user@host (RUNBOOK_ACTOR overrides, e.g. for a bot account in CI). */
export function actor(env: NodeJS.ProcessEnv): string {
  if (env.RUNBOOK_ACTOR) return env.RUNBOOK_ACTOR;
  let user = env.USER ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep $USER
  }
  return `${user}@${hostname()}`;
}

/** The run store, loaded on first use: commands that never touch runs (help, list) skip zod & co. */
export async function openStore(opts: GlobalOptions, env: NodeJS.ProcessEnv, cwd: string, redact?: <T>(v: T) => T): Promise<RunStore> {
  const { RunStore } = await import('../store/run-store.js');
  return new RunStore({ stateDir: stateDir(opts, env, cwd), clock: systemClock, actor: actor(env), ...(redact ? { redact } : {}) });
}
