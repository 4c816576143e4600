// The 2021-06-30 world: every target group still has AWS's default 300 s deregistration delay,
// so switching vpc-cni / kube-proxy to managed (or rolling the nodes) detaches them all. Three
// ways an operator meets it: stopped by the known-fix check, the fix applied by the run, or the
// fix skipped on purpose to rehearse the incident and watch the guard put things back.
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/index.js';
import {
  FIX_ID,
  cli,
  faultRecordsOf,
  freshDir,
  indexOf,
  journalOf,
  ms,
  ofType,
  runReport,
  runnerEnv,
  stepEvents,
  targetArgs,
  targetGroupsSeenByAws,
  timelineJson,
  type Event,
} from './helpers.js';

const world = (sb: RunningSandbox) => ({ endpoint: sb.endpoint, kubeconfigPath: sb.kubeconfigPath });

describe('scenario 2021-06-30 (the deregistration-delay fix is missing)', () => {
  let sb: RunningSandbox | undefined;
  afterEach(async () => {
    await sb?.close();
    sb = undefined;
  });

  it('without the fix: exit 6 KNOWN_FIX_MISSING naming every offending target group, and not one mutating call reached the world', { timeout: 60_000 }, async () => {
    sb = await startSandbox({ scenario: '2021-06-30' });
    const w = world(sb);
    const before = await targetGroupsSeenByAws(w);
    const offenders = before.filter((t) => t.deregistrationDelay < 600);
    expect(offenders.map((t) => t.deregistrationDelay)).toEqual([300, 300, 300, 300]);

    const stateDir = freshDir('no-fix');
    const r = await cli(stateDir, ['run', 'eks-1.20', '--yes', '--json', ...targetArgs(w)], { env: runnerEnv() });
    expect(r.code, r.stderr).toBe(6);
    const report = runReport(r.stdout);
    expect(report.error?.code).toBe('KNOWN_FIX_MISSING');
    for (const tg of offenders) {
      expect(report.error?.message).toContain(tg.name);
      expect(report.error?.message).toContain(tg.arn);
    }
    expect(report.error?.hint).toContain('--apply-known-fixes');
    expect(report.error?.hint).toContain(`--skip-known-fix ${FIX_ID}=`);
    // Nothing that mutates ran; the check itself did.
    const result = new Map(report.steps.map((s) => [s.id, s.result]));
    expect(result.get(`fix.${FIX_ID}`)).toBe('executed');
    for (const s of report.steps.filter((s) => s.mutates)) expect(s.result, s.id).not.toBe('executed');

    const { events } = await timelineJson(stateDir, report.runId);
    const missing = ofType(events, 'fix.missing');
    expect(missing).toHaveLength(1);
    const findings = (missing[0]!.data?.findings ?? []) as Record<string, unknown>[];
    expect(findings.map((f) => JSON.stringify(f)).join('\n')).toSatisfy((s: string) => offenders.every((t) => s.includes(t.arn)));
    expect(events.filter((e) => e.type === 'step.started' && ['upgrade-control-plane', 'snapshot-target-groups'].includes(e.stepId ?? ''))).toEqual([]);
    // It asked for the apply (nobody can answer without a TTY) and --yes did not grant it.
    expect(events.filter((e) => e.type.startsWith('approval.')).map((e) => `${e.type} ${e.stepId}`)).toEqual([`approval.requested fix.${FIX_ID}.apply`]);

    // The world from outside: the journal of mutating calls (EKS, ELBv2, Kubernetes) is empty.
    expect(await journalOf(sb.endpoint)).toEqual([]);
    expect(await faultRecordsOf(sb.endpoint)).toEqual([]);
    expect(await targetGroupsSeenByAws(w)).toEqual(before);
  });

  it('with --apply-known-fixes: the delay is set on every group before any add-on is touched, and no incident happens', { timeout: 90_000 }, async () => {
    sb = await startSandbox({ scenario: '2021-06-30', speed: 3000 });
    const w = world(sb);
    const before = await targetGroupsSeenByAws(w);
    const stateDir = freshDir('apply-fix');
    const r = await cli(stateDir, ['run', 'eks-1.20', '--yes', '--apply-known-fixes', '--json', ...targetArgs(w)], { env: runnerEnv() });
    expect(r.code, r.stderr).toBe(0);
    const report = runReport(r.stdout);
    expect(report.status).toBe('completed');
    expect(report.steps.find((s) => s.id === `fix.${FIX_ID}.apply`)?.result).toBe('executed');

    const journal = await journalOf(sb.endpoint);
    const ops = journal.map((j) => j.operation);
    const modify = journal.filter((j) => j.operation === 'ModifyTargetGroupAttributes');
    // One per target group, each to 600, all accepted.
    expect(modify).toHaveLength(before.length);
    for (const m of modify) expect(m.status).toBe(200);
    const modified = JSON.stringify(modify.map((m): unknown => m.params));
    for (const tg of before) expect(modified).toContain(tg.arn);
    const lastModify = ops.lastIndexOf('ModifyTargetGroupAttributes');
    const firstCreateAddon = ops.indexOf('CreateAddon');
    expect(firstCreateAddon).toBeGreaterThan(-1);
    expect(lastModify).toBeLessThan(firstCreateAddon);
    // …and before the control plane too: the fix is placed before the first mutating step.
    expect(lastModify).toBeLessThan(ops.indexOf('UpdateClusterVersion'));

    const after = await targetGroupsSeenByAws(w);
    expect(after.map((t) => t.deregistrationDelay)).toEqual(before.map(() => 600));
    for (const [i, tg] of after.entries()) {
      expect(tg.forwardingRules, tg.name).toEqual(before[i]!.forwardingRules);
      expect(tg.targets.filter((t) => t.state === 'healthy').length, tg.name).toBe(5);
    }

    const { events } = await timelineJson(stateDir, report.runId);
    expect(events.filter((e) => e.type.startsWith('incident.'))).toEqual([]);
    expect(ofType(events, 'fix.missing')).toHaveLength(1);
    expect(ofType(events, 'fix.overridden')).toEqual([]);
    expect(stepEvents(events, 'step.completed', `fix.${FIX_ID}.apply`)).toHaveLength(1);
    expect(events.at(-1)!.type).toBe('run.completed');
    // The scenario's incident rule never fired: the groups carried the fix when the triggers came.
    expect(await faultRecordsOf(sb.endpoint)).toEqual([]);
  });

  it('with the fix skipped on purpose: the recorded override, the detachment, the guard restoring every group, post-checks green', { timeout: 90_000 }, async () => {
    sb = await startSandbox({ scenario: '2021-06-30' });
    const w = world(sb);
    const before = await targetGroupsSeenByAws(w);
    const stateDir = freshDir('skip-fix');
    const r = await cli(stateDir, ['run', 'eks-1.20', '--yes', `--skip-known-fix=${FIX_ID}=rehearsing the incident`, '--json', ...targetArgs(w)], { env: runnerEnv() });
    expect(r.code, r.stderr).toBe(0);
    const report = runReport(r.stdout);
    expect(report.status).toBe('completed');
    const { events } = await timelineJson(stateDir, report.runId);

    // The override: who and why, before anything changed.
    const overridden = ofType(events, 'fix.overridden');
    expect(overridden).toHaveLength(1);
    expect(overridden[0]!.actor).toBe('tester@ci');
    expect(overridden[0]!.message).toContain('rehearsing the incident');
    expect(events.indexOf(overridden[0]!)).toBeLessThan(indexOf(events, (e) => e.type === 'step.started' && e.stepId === 'upgrade-control-plane', 'control-plane start'));

    // The faults the world recorded: detachments caused by the scenario's incident rule.
    const faults = (await faultRecordsOf(sb.endpoint)).filter((f) => f.kind === 'target-groups-detached');
    expect(faults.length).toBeGreaterThan(0);
    for (const f of faults) {
      expect(f.cause).toBe('incident');
      expect([...f.targetGroupArns].sort()).toEqual(before.map((t) => t.arn).sort());
    }

    const detected = ofType(events, 'incident.detected');
    const resolved = ofType(events, 'incident.resolved');
    expect(detected.length).toBeGreaterThan(0);
    // Every incident opened was closed, in order, and the guard named every detached group.
    const incidentId = (e: Event): unknown => e.data?.incidentId;
    expect(resolved.map(incidentId)).toEqual(detected.map(incidentId));
    for (const d of detected) {
      const res = resolved.find((e) => e.data?.incidentId === d.data?.incidentId)!;
      expect(res.seq).toBeGreaterThan(d.seq);
      const named = ((d.data?.targetGroups ?? []) as { arn: string }[]).map((t) => t.arn).sort();
      expect(named).toEqual(before.map((t) => t.arn).sort());
      // A fault precedes each detection: the guard reacts to the world, not to its own guess.
      expect(faults.some((f) => ms(f.at) <= ms(d.ts)), `a fault before ${d.ts}`).toBe(true);
    }
    expect(ms(faults[0]!.at)).toBeLessThanOrEqual(ms(detected[0]!.ts));
    // No fault went unanswered: each one is followed by a resolution.
    for (const f of faults) expect(resolved.some((e) => ms(e.ts) >= ms(f.at)), `resolution after fault at ${f.at}`).toBe(true);
    // Remediation happened between detection and resolution, and restored each group by name.
    const restoredNotes = (from: Event, to: Event) => events.filter((e) => e.seq > from.seq && e.seq < to.seq && e.type === 'note' && /^Restored /.test(e.message));
    for (const d of detected) {
      const res = resolved.find((e) => e.data?.incidentId === d.data?.incidentId)!;
      const notes = restoredNotes(d, res).map((e) => e.message).join('\n');
      for (const tg of before) expect(notes, `${tg.name} restored for ${String(d.data?.incidentId)}`).toContain(`Restored ${tg.name}`);
    }

    // The journal agrees: the runner sent the repairs (rules and targets) after each fault.
    const journal = await journalOf(sb.endpoint);
    const repairs = journal.filter((j) => j.operation === 'ModifyRule' || j.operation === 'ModifyListener' || j.operation === 'RegisterTargets');
    expect(repairs.length).toBeGreaterThanOrEqual(faults.length * before.length);
    // A RegisterTargets batch may be refused (400 InvalidTarget) when a node the restore chose was
    // replaced by the roll in the meantime; the restore then registers the good targets one by
    // one, so a refused batch must be followed by an accepted registration on the same group.
    const tgOf = (j: { params: unknown }): string => {
      const arn = (j.params as Record<string, unknown>).TargetGroupArn;
      return typeof arn === 'string' ? arn : '';
    };
    repairs.forEach((j, i) => {
      if (j.status === 200) return;
      expect(j.operation, `only RegisterTargets batches may be refused (got ${j.status})`).toBe('RegisterTargets');
      expect(j.status).toBe(400);
      expect(repairs.slice(i + 1).some((k) => k.operation === 'RegisterTargets' && k.status === 200 && tgOf(k) === tgOf(j)), `a refused batch for ${tgOf(j)} is followed by accepted registrations`).toBe(true);
    });
    expect(ms(repairs[0]!.at)).toBeGreaterThanOrEqual(ms(faults[0]!.at));
    expect(journal.some((j) => j.operation === 'ModifyTargetGroupAttributes')).toBe(false);

    // Post-checks passed and the world agrees: same groups, same forwarding rules, healthy again.
    expect(stepEvents(events, 'step.completed', 'post-checks')).toHaveLength(1);
    expect(events.some((e) => e.type === 'note' && e.stepId === 'post-checks' && /All \d+ post-checks passed/.test(e.message))).toBe(true);
    expect(events.at(-1)!.type).toBe('run.completed');
    const after = await targetGroupsSeenByAws(w);
    expect(after.map((t) => t.arn)).toEqual(before.map((t) => t.arn));
    for (const [i, tg] of after.entries()) {
      expect(tg.loadBalancerArns, tg.name).toEqual(before[i]!.loadBalancerArns);
      expect(tg.forwardingRules, tg.name).toEqual(before[i]!.forwardingRules);
      expect(tg.targets.filter((t) => t.state === 'healthy').length, tg.name).toBeGreaterThanOrEqual(5);
      expect(tg.deregistrationDelay, `${tg.name}: the skipped fix stays skipped`).toBe(300);
    }
  });
});
