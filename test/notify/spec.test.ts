import { describe, expect, it } from 'vitest';
import { isRunbookError } from '../../src/errors.js';
import { slackMessage } from '../../src/notify/message.js';
import { createNotifier, parseNotifySpec } from '../../src/notify/spec.js';
import type { NotifyFailure } from '../../src/notify/slack.js';
import type { RunSummary } from '../../src/ports/notifier.js';
import type { TimelineEvent } from '../../src/timeline/events.js';
import { Redactor } from '../../src/timeline/redact.js';
import { startReceiver } from './receiver.js';

const HOOK = 'https://hooks.slack.com/services/T024BE7LD/B08ABCDEF/xY9zQ1w2E3r4T5y6U7i8O9p0';

function usageError(fn: () => unknown): { message: string; hint: string } {
  try {
    fn();
  } catch (e) {
    if (isRunbookError(e) && e.code === 'USAGE') return { message: e.message, hint: e.hint ?? '' };
    throw e;
  }
  throw new Error('expected a USAGE error');
}

describe('--notify slack:<url-or-env-var>', () => {
  it('takes a URL inline, labelled without its secret path', () => {
    expect(parseNotifySpec(`slack:${HOOK}`, {})).toEqual({ kind: 'slack', url: HOOK, label: 'slack (webhook on hooks.slack.com)' });
  });

  it('takes the name of an environment variable holding the URL', () => {
    expect(parseNotifySpec('slack:SLACK_WEBHOOK_URL', { SLACK_WEBHOOK_URL: ` ${HOOK}\n` })).toEqual({
      kind: 'slack',
      url: HOOK,
      label: 'slack (webhook from $SLACK_WEBHOOK_URL)',
    });
  });

  it('allows plain http only to this machine', () => {
    expect(parseNotifySpec('slack:http://127.0.0.1:9999/hook', {}).url).toBe('http://127.0.0.1:9999/hook');
    expect(usageError(() => parseNotifySpec('slack:http://hooks.slack.com/services/x/y/z', {})).message).toBe(
      '--notify slack: the webhook URL must be an https URL.',
    );
  });

  it('errors name the fix and never repeat the URL', () => {
    const cases = [
      () => parseNotifySpec('teams:https://example.com/secret-path', {}),
      () => parseNotifySpec('slack:', {}),
      () => parseNotifySpec('slack:NOPE', {}),
      () => parseNotifySpec('slack:NOPE', { NOPE: 'ftp://hooks.slack.com/secret-path' }),
      () => parseNotifySpec('slack:https://exa mple.com/secret-path', {}),
      () => parseNotifySpec('slack:not a url/secret-path', {}),
    ];
    const errors = cases.map(usageError);
    expect(errors.map((e) => e.message)).toEqual([
      '--notify: unknown channel "teams".',
      '--notify slack: needs a webhook URL or the name of an environment variable holding it.',
      '--notify slack:NOPE: the environment variable NOPE is not set or empty.',
      '--notify slack: $NOPE must be an https URL.',
      '--notify slack: the webhook URL is not a valid URL.',
      '--notify slack: expects a webhook URL or an environment variable name.',
    ]);
    for (const e of errors) {
      expect(`${e.message} ${e.hint}`).not.toContain('secret-path');
      expect(e.hint).not.toBe('');
    }
  });
});

const run: RunSummary = {
  runId: 'r-1',
  runbookId: 'eks-1.20',
  runbookTitle: 'Upgrade <EKS> & friends',
  target: { cluster: 'prod-eu' },
  rehearsal: 'dry-run',
};

function ev(type: TimelineEvent['type'], extra: Partial<TimelineEvent> = {}): TimelineEvent {
  return { seq: 1, ts: '2026-01-01T00:00:00.000Z', type, runId: 'r-1', actor: 'alice@host', message: 'm', ...extra };
}

describe('message text', () => {
  it('escapes Slack control characters and tags dry runs as rehearsals', () => {
    const m = slackMessage(ev('run.started'), run)!;
    expect(m.text).toBe(
      ':test_tube: *[REHEARSAL: dry run]* :arrow_forward: *Run started by alice@host* — Upgrade &lt;EKS&gt; &amp; friends\nrunbook `eks-1.20` · cluster `prod-eu` · run `r-1`',
    );
    expect(m.unfurl_links).toBe(false);
  });

  it('an interrupted run says how to resume', () => {
    expect(slackMessage(ev('run.interrupted', { message: 'Ctrl-C during control-plane.' }), { ...run, rehearsal: null })!.text).toContain(
      'Ctrl-C during control-plane. Resume with: runbook resume r-1',
    );
  });

  it('a failed step carries its error, clipped to one line', () => {
    const long = `line1\nline2 ${'x'.repeat(400)}`;
    const text = slackMessage(ev('step.failed', { stepId: 's', data: { title: 'Roll ng', error: long } }), run)!.text;
    const line1 = text.split('\n')[0]!;
    expect(line1).toContain('*Step failed: Roll ng* — line1 line2 xxx');
    expect(line1.length).toBeLessThan(400);
    expect(text).toContain('step `s`');
  });

  it('only events someone may act on become messages', () => {
    for (const t of ['step.started', 'step.completed', 'note', 'guard.started', 'approval.granted'] as const) {
      expect(slackMessage(ev(t), run)).toBeNull();
    }
  });
});

describe('createNotifier', () => {
  it('fans out to every target and flushes them all', async () => {
    const a = await startReceiver();
    const b = await startReceiver();
    try {
      const failures: NotifyFailure[] = [];
      const n = createNotifier([parseNotifySpec(`slack:${a.url}`, {}), parseNotifySpec('slack:HOOK_B', { HOOK_B: b.url })], {
        redactor: new Redactor(),
        onFailure: (f) => failures.push(f),
      });
      n.notify(ev('run.completed'), run);
      await n.flush(2000);
      expect([a.requests.length, b.requests.length, failures.length]).toEqual([1, 1, 0]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
