import { describe, expect, it } from 'vitest';
import { renderPostmortem, renderTimeline, TIMELINE_FORMATS } from '../../src/timeline/export/index.js';
import type { TimelineEvent } from '../../src/timeline/events.js';
import { createRedactor, REDACTED, Redactor } from '../../src/timeline/redact.js';
import { loadFixture } from './helpers.js';

const WEBHOOK = 'https://hooks.slack.com/services/T024BE7LD/B08ABCDEF/xY9zQ1w2E3r4T5y6U7i8O9p0';
const AKIA = 'AKIAIOSFODNN7EXAMPLE';
const ASIA = 'ASIAY34FZKBOKMUTVV7A';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const DB_PASSWORD = 'correct-horse-battery-staple';
const API_TOKEN = 'tok_live_51HxAbCdEf';

describe('Redactor', () => {
  it('removes registered secrets wherever they occur, including their URL-encoded spelling', () => {
    const r = createRedactor([DB_PASSWORD]);
    expect(r.redactText(`psql failed for ${DB_PASSWORD}`)).toBe(`psql failed for ${REDACTED}`);
    const r2 = createRedactor(['p@ss w/rd!']);
    expect(r2.redactText(`url: https://x.example/?p=${encodeURIComponent('p@ss w/rd!')}`)).not.toContain('p%40ss');
  });

  it('refuses secrets so short they would blank out ordinary words', () => {
    const r = new Redactor();
    expect(r.addSecret('ab')).toBe(false);
    expect(r.redactText('a tab b')).toBe('a tab b');
  });

  it('knows Slack webhooks, AWS access keys and secret assignments in free text', () => {
    const r = new Redactor();
    const text = `posting to ${WEBHOOK} with ${AKIA} / ${ASIA}; AWS_SECRET_ACCESS_KEY=${SECRET_KEY} password: "${DB_PASSWORD}" token=${API_TOKEN}`;
    const out = r.redactText(text);
    for (const s of [WEBHOOK, AKIA, ASIA, SECRET_KEY, DB_PASSWORD, API_TOKEN, 'xY9zQ1w2']) expect(out).not.toContain(s);
    expect(out).toContain('[REDACTED:slack-webhook]');
    expect(out).toContain('[REDACTED:aws-access-key]');
    expect(out).toContain('AWS_SECRET_ACCESS_KEY=[REDACTED]');
    expect(out).toContain('password: "[REDACTED]"');
  });

  it('keeps identifiers that only look like secrets (an EKS clientRequestToken, an author)', () => {
    const r = new Redactor();
    expect(r.redactText('clientRequestToken=3f2c9a4e author: alice')).toBe('clientRequestToken=3f2c9a4e author: alice');
    expect(r.redact({ clientRequestToken: '3f2c9a4e', nextToken: 'abc' })).toEqual({ clientRequestToken: '3f2c9a4e', nextToken: 'abc' });
  });

  it('walks objects and arrays deep, blanks values under secret keys, and leaves the input alone', () => {
    const r = createRedactor();
    const input = {
      cluster: 'prod-eu',
      slackWebhook: 'not-a-url-but-still-secret',
      nested: { list: [{ dbPassword: DB_PASSWORD }, `key ${AKIA}`], count: 3, ok: true, none: null },
    };
    const copy = structuredClone(input);
    const out = r.redact(input);
    expect(out).toEqual({
      cluster: 'prod-eu',
      slackWebhook: REDACTED,
      nested: { list: [{ dbPassword: REDACTED }, 'key [REDACTED:aws-access-key]'], count: 3, ok: true, none: null },
    });
    expect(input).toEqual(copy);
  });

  it('survives cycles and Errors', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    const out = createRedactor().redact({ a, err: new Error(`boom ${AKIA}`) });
    expect((out.err as { message: string }).message).toBe('boom [REDACTED:aws-access-key]');
    expect(out.a.self).toBe(out.a);
  });
});

/**
 * The scenario: an operator passes the webhook and a database password as params, a step
 * records AWS keys in a note, and a frustrated operator pastes a token into `runbook note`.
 * The store redacts with the run's redactor; the exporters add a pattern-only second pass.
 * None of it may reach any export or the postmortem.
 */
function seededTimeline(): TimelineEvent[] {
  const events = loadFixture('eks-1.20-incident');
  const [started, ...rest] = events;
  const seeded: TimelineEvent = {
    ...started!,
    data: {
      ...started!.data,
      params: { ...(started!.data!.params as object), notifyUrl: WEBHOOK, dbPassword: DB_PASSWORD, apiToken: API_TOKEN },
    },
  };
  const note: TimelineEvent = {
    seq: 1000,
    ts: '2026-11-25T16:31:30.000Z',
    type: 'note',
    runId: started!.runId,
    actor: 'bob@ops-laptop',
    message: `used ${AKIA} with AWS_SECRET_ACCESS_KEY=${SECRET_KEY}; alerts went to ${WEBHOOK}; db ${DB_PASSWORD} | token=${API_TOKEN}`,
    data: { source: 'operator', pasted: { webhook: WEBHOOK, key: ASIA } },
  };
  return [seeded, ...rest, note];
}

const SECRETS = [WEBHOOK, 'xY9zQ1w2E3r4T5y6U7i8O9p0', AKIA, ASIA, SECRET_KEY, DB_PASSWORD, API_TOKEN];

describe('secrets seeded into params and notes appear in no export', () => {
  const storeRedactor = createRedactor([WEBHOOK, DB_PASSWORD]);
  const stored = seededTimeline().map((e) => storeRedactor.redact(e));

  it.each(TIMELINE_FORMATS)('%s (events as the store wrote them)', (format) => {
    const out = renderTimeline(stored, { format, all: true });
    for (const s of SECRETS) expect(out).not.toContain(s);
    // The Gantt shows no params or notes; everything else shows where something was removed.
    if (format !== 'mermaid') expect(out).toContain('REDACTED');
  });

  it.each(TIMELINE_FORMATS)('%s (raw events from an old run: the exporter pass alone)', (format) => {
    const raw = seededTimeline();
    const out = renderTimeline(raw, { format, all: true });
    // Pattern-shaped secrets are caught without registration; the password only under its key.
    for (const s of [WEBHOOK, AKIA, ASIA, SECRET_KEY, API_TOKEN]) expect(out).not.toContain(s);
    if (format === 'json') expect(out).toContain('"dbPassword": "[REDACTED]"');
    if (format === 'csv') expect(out).toContain('""dbPassword"":""[REDACTED]""');
  });

  it('the postmortem draft', () => {
    const out = renderPostmortem(stored, { all: true, params: stored[0]!.data!.params as Record<string, unknown> });
    for (const s of SECRETS) expect(out).not.toContain(s);
    expect(out).toContain('Note from bob@ops-laptop: used [REDACTED:aws-access-key]');
  });

  it('the operator note is still in every export, minus the secrets', () => {
    const md = renderTimeline(stored, { format: 'md' });
    expect(md).toContain('Note from bob@ops-laptop: used [REDACTED:aws-access-key] with AWS_SECRET_ACCESS_KEY=[REDACTED]; alerts went to [REDACTED]; db [REDACTED] \\| token=[REDACTED]');
  });
});
