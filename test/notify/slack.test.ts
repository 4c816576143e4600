import { afterEach, describe, expect, it } from 'vitest';
import { notifyFailureEvent, SlackNotifier } from '../../src/notify/slack.js';
import type { NotifyFailure, SlackNotifierOptions } from '../../src/notify/slack.js';
import type { RunSummary } from '../../src/ports/notifier.js';
import type { TimelineEvent } from '../../src/timeline/events.js';
import { Redactor } from '../../src/timeline/redact.js';
import { loadFixture } from '../timeline/helpers.js';
import type { Receiver } from './receiver.js';
import { deadUrl, ok, startReceiver } from './receiver.js';

const run: RunSummary = {
  runId: '20261125T162012Z-eks-1.20-9c41',
  runbookId: 'eks-1.20',
  runbookTitle: 'Upgrade EKS 1.19 → 1.20 with managed add-ons',
  target: { cluster: 'prod-eu', region: 'eu-west-1' },
  rehearsal: null,
};

function event(seq: number, type: TimelineEvent['type'], extra: Partial<TimelineEvent> = {}): TimelineEvent {
  return { seq, ts: new Date().toISOString(), type, runId: run.runId, actor: 'alice@ops-laptop', message: `${type} #${seq}`, ...extra };
}

const receivers: Receiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

/** Fast knobs for tests; the real defaults are seconds. */
function notifier(url: string, failures: NotifyFailure[], opts: Partial<SlackNotifierOptions> = {}): SlackNotifier {
  return new SlackNotifier({
    url,
    onFailure: (f) => failures.push(f),
    timeoutMs: 300,
    maxAttempts: 3,
    backoffMs: 20,
    random: () => 0.5,
    ...opts,
  });
}

/** What must never leak: the URL and its secret path, in any spelling. */
function expectNoUrl(url: string, values: unknown[]): void {
  const text = JSON.stringify(values);
  expect(text).not.toContain(url);
  expect(text).not.toContain(new URL(url).pathname);
  expect(text).not.toContain('s3cr3tW3bh00kT0k3n');
}

describe('Slack notifier against a local receiver', () => {
  it('posts the messages worth sending, in order, as JSON, and notify() returns at once', async () => {
    // A receiver that takes 200 ms per message: notify() must not wait for it.
    const r = await receiver((i, res) => setTimeout(() => ok(i, res), 200));
    const failures: NotifyFailure[] = [];
    // The attempt timeout is well above the receiver's 200 ms: a slow machine must not turn a
    // delivered message into a retried (duplicate) one. Timeouts have their own test below.
    const n = notifier(r.url, failures, { timeoutMs: 3000 });
    const t0 = performance.now();
    n.notify(event(1, 'run.started'), run);
    n.notify(event(2, 'step.started', { stepId: 'control-plane' }), run); // not worth a message
    n.notify(event(3, 'step.failed', { stepId: 'control-plane', data: { title: 'Upgrade control plane', error: 'boom' } }), run);
    n.notify(event(4, 'run.failed'), run);
    expect(performance.now() - t0).toBeLessThan(50);
    await n.flush(5000);
    expect(r.requests.map((q) => q.text?.split('\n')[0])).toEqual([
      ':arrow_forward: *Run started by alice@ops-laptop* — Upgrade EKS 1.19 → 1.20 with managed add-ons',
      ':x: *Step failed: Upgrade control plane* — boom',
      ':x: *Run failed* — run.failed #4',
    ]);
    expect(r.requests.every((q) => q.method === 'POST' && q.headers['content-type']?.startsWith('application/json'))).toBe(true);
    expect(failures).toEqual([]);
    expect(n.delivered).toBe(3);
  });

  it('receiver down (connection refused): bounded retries, one failure per message, run unaffected', async () => {
    const url = await deadUrl();
    const failures: NotifyFailure[] = [];
    const n = notifier(url, failures);
    n.notify(event(1, 'run.started'), run);
    n.notify(event(2, 'incident.detected', { data: { summary: 'tg-web detached' } }), run);
    await n.flush(5000);
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({ kind: 'gave-up', attempts: 3, status: null, eventType: 'run.started', eventSeq: 1 });
    expect(failures[0]!.reason).toBe('connection refused (ECONNREFUSED) after 3 attempts');
    expectNoUrl(url, [failures, failures.map(notifyFailureEvent)]);
  });

  it('slow receiver: each attempt times out, retries are bounded, the reason says so', async () => {
    const r = await receiver(() => undefined); // never answers
    const failures: NotifyFailure[] = [];
    const n = notifier(r.url, failures, { timeoutMs: 150, maxAttempts: 2 });
    n.notify(event(1, 'run.completed'), run);
    const t0 = Date.now();
    await n.flush(10_000);
    const took = Date.now() - t0;
    expect(r.requests).toHaveLength(2);
    expect(failures).toEqual([expect.objectContaining({ kind: 'gave-up', attempts: 2, reason: 'timed out after 150 ms after 2 attempts' })]);
    expect(took).toBeGreaterThanOrEqual(300);
    expect(took).toBeLessThan(2000);
    expectNoUrl(r.url, [failures]);
  });

  it('429 with Retry-After: waits as told, then delivers', async () => {
    const r = await receiver((i, res) => {
      if (i === 0) res.writeHead(429, { 'retry-after': '1' }).end('rate_limited');
      else ok(i, res);
    });
    const failures: NotifyFailure[] = [];
    const n = notifier(r.url, failures);
    n.notify(event(1, 'approval.requested', { stepId: 'control-plane', data: { title: 'Upgrade control plane' } }), run);
    await n.flush(10_000);
    expect(r.requests).toHaveLength(2);
    const gap = r.requests[1]!.at - r.requests[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(950); // not the 20 ms backoff
    expect(r.requests[1]!.body).toBe(r.requests[0]!.body);
    expect(failures).toEqual([]);
  });

  it('500 then success: delivered on the retry, order kept for the messages behind it', async () => {
    const r = await receiver((i, res) => {
      if (i === 0) res.writeHead(500).end('internal_error');
      else ok(i, res);
    });
    const failures: NotifyFailure[] = [];
    const n = notifier(r.url, failures);
    n.notify(event(1, 'run.started'), run);
    n.notify(event(2, 'run.completed'), run);
    await n.flush(5000);
    expect(r.requests.map((q) => q.text?.split(' *')[1]?.split('*')[0])).toEqual(['Run started by alice@ops-laptop', 'Run started by alice@ops-laptop', 'Run completed']);
    expect(failures).toEqual([]);
  });

  it('a 4xx other than 429 is not retried and says what Slack answered', async () => {
    const r = await receiver((_i, res) => res.writeHead(404).end('no_service'));
    const failures: NotifyFailure[] = [];
    const n = notifier(r.url, failures);
    n.notify(event(1, 'run.started'), run);
    await n.flush(5000);
    expect(r.requests).toHaveLength(1);
    expect(failures).toEqual([expect.objectContaining({ kind: 'rejected', status: 404, attempts: 1, reason: 'HTTP 404: no_service' })]);
  });

  it('flush honours its deadline against a receiver that never answers, and reports what was left', async () => {
    const r = await receiver(() => undefined);
    const failures: NotifyFailure[] = [];
    const n = notifier(r.url, failures, { timeoutMs: 30_000, maxAttempts: 5 });
    for (let i = 1; i <= 4; i++) n.notify(event(i, 'step.failed', { stepId: `s${i}` }), run);
    const t0 = Date.now();
    await n.flush(400);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(380);
    expect(took).toBeLessThan(1500);
    expect(failures.map((f) => [f.kind, f.eventSeq])).toEqual([
      ['deadline', 1],
      ['deadline', 2],
      ['deadline', 3],
      ['deadline', 4],
    ]);
    expect(n.pending).toBe(0);
    expectNoUrl(r.url, [failures, failures.map(notifyFailureEvent)]);
  });

  it('after a flush deadline, later messages are delivered again', async () => {
    let slow = true;
    const r = await receiver((i, res) => {
      if (!slow) ok(i, res);
    });
    const n = notifier(r.url, [], { timeoutMs: 30_000 });
    n.notify(event(1, 'run.started'), run);
    await n.flush(100);
    slow = false;
    n.notify(event(2, 'run.completed'), run);
    await n.flush(2000);
    expect(n.delivered).toBe(1);
  });

  it('never throws into the run: a throwing failure callback, odd events, a flush with nothing queued', async () => {
    const url = await deadUrl();
    const n = new SlackNotifier({ url, maxAttempts: 1, onFailure: () => {
      throw new Error('callback bug');
    } });
    const odd = { seq: 1, type: 'step.failed', runId: 'r', actor: 'a', message: 'm', ts: 'x', data: { error: { nested: [1] }, title: 42 } } as unknown as TimelineEvent;
    expect(() => n.notify(odd, run)).not.toThrow();
    expect(() => n.notify(null as unknown as TimelineEvent, run)).not.toThrow();
    await expect(n.flush(2000)).resolves.toBeUndefined();
    await expect(new SlackNotifier({ url }).flush(10)).resolves.toBeUndefined();
  });

  it('registers the URL with the run redactor, so the store can never write it', () => {
    const redactor = new Redactor();
    const url = 'https://relay.example.com/hook/abcdef123456';
    new SlackNotifier({ url, redactor });
    expect(redactor.redactText(`posting to ${url} failed`)).toBe('posting to [REDACTED] failed');
  });

  it('a full sandbox rehearsal as the receiver saw it', async () => {
    const r = await receiver();
    const failures: NotifyFailure[] = [];
    const n = notifier(r.url, failures);
    const rehearsal: RunSummary = { ...run, target: { cluster: 'rehearsal-2021-06-30', region: 'eu-west-1' }, rehearsal: 'sandbox' };
    for (const e of loadFixture('eks-1.20-incident')) n.notify(e, rehearsal);
    await n.flush(5000);
    const texts = r.requests.map((q) => q.text ?? '');
    expect(texts.map((t) => t.split('\n')[0])).toEqual([
      ':test_tube: *[REHEARSAL: sandbox]* :arrow_forward: *Run started by alice@ops-laptop* — Upgrade EKS 1.19 → 1.20 with managed add-ons',
      ':test_tube: *[REHEARSAL: sandbox]* :raised_hand: *Approval needed: Upgrade control plane of rehearsal-2021-06-30 to 1.20* — Upgrade the EKS control plane of rehearsal-2021-06-30 (eu-west-1) from 1.19 to 1.20. This cannot be undone.',
      ':test_tube: *[REHEARSAL: sandbox]* :raised_hand: *Approval needed: Migrate vpc-cni to managed add-on v1.9.3-eksbuild.1* — Replace the self-managed vpc-cni on rehearsal-2021-06-30 with the EKS-managed add-on v1.9.3-eksbuild.1 (OVERWRITE).',
      ':test_tube: *[REHEARSAL: sandbox]* :rotating_light: *Incident detected* — 3 target groups lost their attachment to alb-prod (0/9 healthy)',
      ':test_tube: *[REHEARSAL: sandbox]* :white_check_mark: *Incident resolved after 52s* — All 3 target groups attached again, 9/9 targets healthy',
      ':test_tube: *[REHEARSAL: sandbox]* :raised_hand: *Approval needed: Migrate coredns to managed add-on v1.8.3-eksbuild.1* — Replace the self-managed coredns on rehearsal-2021-06-30 with the EKS-managed add-on v1.8.3-eksbuild.1 (OVERWRITE).',
      ':test_tube: *[REHEARSAL: sandbox]* :raised_hand: *Approval needed: Migrate kube-proxy to managed add-on v1.20.4-eksbuild.2* — Replace the self-managed kube-proxy on rehearsal-2021-06-30 with the EKS-managed add-on v1.20.4-eksbuild.2 (OVERWRITE).',
      ':test_tube: *[REHEARSAL: sandbox]* :raised_hand: *Approval needed: Roll node group ng-general to 1.20* — Replace the 3 nodes of ng-general on rehearsal-2021-06-30 with 1.20 nodes (rolling).',
      ':test_tube: *[REHEARSAL: sandbox]* :white_check_mark: *Run completed in 21m 12s* — eks-1.20 completed on rehearsal-2021-06-30 with 1 incident',
    ]);
    expect(texts[3]!.split('\n')[1]).toBe(
      'runbook `eks-1.20` · cluster `rehearsal-2021-06-30` · region `eu-west-1` · step `addon-vpc-cni` · run `20261125T162012Z-eks-1.20-9c41`',
    );
    expect(failures).toEqual([]);
  });
});
