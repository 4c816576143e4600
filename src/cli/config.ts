import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { RunbookError } from '../errors.js';

/**
 * Team defaults kept in a file instead of every command line: `runbook.config.json` in the
 * working directory, or the file named by --config / RUNBOOK_CONFIG. Flags win over the file.
 *
 *   { "notify": ["slack:SLACK_WEBHOOK_URL"], "stateDir": "/var/lib/runbook", "runbooks": ["./runbooks"] }
 *
 * Put the *name* of an environment variable in `notify`, not the webhook URL itself: the URL is a
 * secret and config files end up in repositories.
 */
const configSchema = z
  .object({
    notify: z.array(z.string()).optional(),
    stateDir: z.string().optional(),
    runbooks: z.array(z.string()).optional(),
  })
  .strict();

export type RunbookConfig = z.infer<typeof configSchema>;

export const DEFAULT_CONFIG_FILE = 'runbook.config.json';

export function loadConfig(explicit: string | undefined, env: NodeJS.ProcessEnv, cwd: string): RunbookConfig & { file?: string } {
  const named = explicit ?? env.RUNBOOK_CONFIG;
  const file = resolve(cwd, named ?? DEFAULT_CONFIG_FILE);
  if (!existsSync(file)) {
    if (named) throw new RunbookError('USAGE', `Config file ${file} does not exist.`, { hint: 'Check --config / RUNBOOK_CONFIG, or remove it to use no config file.' });
    return {};
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new RunbookError('USAGE', `Config file ${file} is not valid JSON: ${(e as Error).message}`, { hint: `Fix ${file}; see docs/ARCHITECTURE.md "Config file".` });
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new RunbookError('USAGE', `Config file ${file} is invalid: ${issues}.`, { hint: 'Allowed keys: notify (array of specs), stateDir (string), runbooks (array of directories).' });
  }
  // Relative paths in the file are relative to the file, not to wherever the command runs.
  const base = resolve(file, '..');
  return {
    file,
    ...(parsed.data.notify ? { notify: parsed.data.notify } : {}),
    ...(parsed.data.stateDir ? { stateDir: resolve(base, parsed.data.stateDir) } : {}),
    ...(parsed.data.runbooks ? { runbooks: parsed.data.runbooks.map((d) => resolve(base, d)) } : {}),
  };
}
