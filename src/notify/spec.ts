import { RunbookError } from '../errors.js';
import type { Notifier, RunSummary } from '../ports/notifier.js';
import type { TimelineEvent } from '../timeline/events.js';
import type { Redactor } from '../timeline/redact.js';
import type { NotifyFailure, SlackNotifierOptions } from './slack.js';
import { SlackNotifier } from './slack.js';

/**
 * `--notify slack:<webhook-url-or-env-var-name>` (also from a config file). Naming an
 * environment variable keeps the URL out of shell history and `ps`; either way the URL is a
 * secret, so no error message here repeats it.
 */
export interface SlackTarget {
  kind: 'slack';
  url: string;
  /** Safe to print: "slack (webhook from $SLACK_WEBHOOK_URL)" or "slack (webhook on hooks.slack.com)". */
  label: string;
}

export type NotifyTarget = SlackTarget;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

function usage(message: string, hint: string): RunbookError {
  return new RunbookError('USAGE', message, { hint });
}

const HINT = 'Use --notify slack:SLACK_WEBHOOK_URL (an environment variable holding the webhook) or --notify slack:https://hooks.slack.com/services/…';

export function parseNotifySpec(spec: string, env: Readonly<Record<string, string | undefined>>): NotifyTarget {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const value = colon < 0 ? '' : spec.slice(colon + 1).trim();
  if (kind !== 'slack') {
    // Only the part before the colon is echoed: after it may be a URL.
    throw usage(`--notify: unknown channel "${kind.slice(0, 20)}".`, `Only slack is supported. ${HINT}`);
  }
  if (value === '') throw usage('--notify slack: needs a webhook URL or the name of an environment variable holding it.', HINT);
  if (value.includes('://')) return { kind: 'slack', url: checkUrl(value, 'the webhook URL'), label: `slack (webhook on ${hostOf(value)})` };
  if (!ENV_NAME.test(value)) {
    throw usage('--notify slack: expects a webhook URL or an environment variable name.', HINT);
  }
  const fromEnv = env[value]?.trim();
  if (!fromEnv) {
    throw usage(`--notify slack:${value}: the environment variable ${value} is not set or empty.`, `export ${value}=https://hooks.slack.com/services/… and run again.`);
  }
  return { kind: 'slack', url: checkUrl(fromEnv, `$${value}`), label: `slack (webhook from $${value})` };
}

/** https only, except plain http to this machine (local relays, tests). */
function checkUrl(value: string, what: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw usage(`--notify slack: ${what} is not a valid URL.`, HINT);
  }
  const ok = u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname));
  if (!ok) throw usage(`--notify slack: ${what} must be an https URL.`, HINT);
  return u.toString();
}

function hostOf(value: string): string {
  try {
    return new URL(value).host;
  } catch {
    return 'an invalid host';
  }
}

export interface CreateNotifierOptions extends Omit<SlackNotifierOptions, 'url' | 'onFailure' | 'redactor'> {
  redactor: Redactor;
  onFailure: (failure: NotifyFailure) => void;
}

/** One notifier for all `--notify` targets (the engine holds exactly one). */
export function createNotifier(targets: readonly NotifyTarget[], opts: CreateNotifierOptions): Notifier {
  const notifiers = targets.map((t) => new SlackNotifier({ ...opts, url: t.url }));
  return {
    notify(event: TimelineEvent, run: RunSummary): void {
      for (const n of notifiers) n.notify(event, run);
    },
    async flush(deadlineMs: number): Promise<void> {
      await Promise.all(notifiers.map((n) => n.flush(deadlineMs)));
    },
  };
}
