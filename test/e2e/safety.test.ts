// What an operator has to trust at 2 a.m.: a dry run changes nothing, a runner killed mid-upgrade
// resumes without a second upgrade, and a failed add-on switch is undone as far as the docs say.
import { EKSClient, DescribeUpdateCommand, ListUpdatesCommand } from '@aws-sdk/client-eks';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/index.js';
import {
  CLUSTER,
  DUMMY_AWS_ENV,
  FIX_ID,
  MUTATING_STEPS,
  READ_ONLY_STEPS,
  REGION,
  aws,
  cli,
  cliStart,
  faultRecordsOf,
  freshDir,
  journalOf,
  kubectl,
  ofType,
  runIds,
  runReport,
  runnerEnv,
  setFaultsOver,
  startStandaloneSandbox,
  stepEvents,
  targetArgs,
  targetGroupsSeenByAws,
  timelineJson,
  waitUntil,
  type StandaloneSandbox,
} from './helpers.js';
import { timelineOf } from '../helpers/cli.js';

const world = (sb: RunningSandbox) => ({ endpoint: sb.endpoint, kubeconfigPath: sb.kubeconfigPath });

describe('safety nets, proven against a sandbox the runner does not own', () => {
  let sb: RunningSandbox | undefined;
  let standalone: StandaloneSandbox | undefined;
  afterEach(async () => {
    await sb?.close();
    await standalone?.stop();
    sb = undefined;
    standalone = undefined;
  });

  it('--dry-run: read-only steps run for real, every mutating step (the fix apply included) is described, and the journal stays empty', { timeout: 60_000 }, async () => {
    // The incident world, so even the known-fix apply has something it would change.
    sb = await startSandbox({ scenario: '2021-06-30' });
    const w = world(sb);
    const before = await targetGroupsSeenByAws(w);
    const stateDir = freshDir('dry-run');
    // No --yes: a dry run needs no approval, even without a TTY.
    const r = await cli(stateDir, ['run', 'eks-1.20', '--dry-run', '--json', ...targetArgs(w)], { env: runnerEnv() });
    expect(r.code, r.stderr).toBe(0);
    const report = runReport(r.stdout);
    expect(report.status).toBe('completed');
    const result = new Map(report.steps.map((s) => [s.id, s.result]));
    for (const id of READ_ONLY_STEPS) expect(result.get(id), id).toBe('executed');
    for (const id of [`fix.${FIX_ID}.apply`, ...MUTATING_STEPS]) expect(result.get(id), id).toBe('described');

    const { events } = await timelineJson(stateDir, report.runId);
    expect(events[0]!.data?.mode).toMatchObject({ dryRun: true });
    for (const id of [`fix.${FIX_ID}.apply`, ...MUTATING_STEPS]) {
      expect(stepEvents(events, 'step.started', id), id).toEqual([]);
      const d = stepEvents(events, 'step.described', id);
      expect(d, id).toHaveLength(1);
      // The description names the API call it would make.
      expect(d[0]!.message, id).toMatch(/Would .*(ModifyTargetGroupAttributes|UpdateClusterVersion|CreateAddon|UpdateNodegroupVersion)/);
    }
    for (const id of READ_ONLY_STEPS) expect(stepEvents(events, 'step.completed', id), id).toHaveLength(1);
    expect(events.filter((e) => e.type.startsWith('approval.') || e.type.startsWith('incident.') || e.type.startsWith('rollback.'))).toEqual([]);

    expect(await journalOf(sb.endpoint)).toEqual([]);
    expect(await faultRecordsOf(sb.endpoint)).toEqual([]);
    const { cluster } = await aws(w, 'eks', 'describe-cluster', '--name', CLUSTER);
    expect(cluster.version).toBe('1.19');
    expect(await targetGroupsSeenByAws(w)).toEqual(before);
  });

  it('SIGKILL during the control-plane update, then `runbook resume --yes`: one UpdateClusterVersion in all, the run completes, no finished step starts again', { timeout: 120_000 }, async () => {
    // Speed 300: the 600 model-second update takes ~2 s of wall time, long enough to be killed in.
    standalone = await startStandaloneSandbox(['--scenario', 'default', '--speed', '300']);
    const w = standalone;
    const stateDir = freshDir('crash');
    const first = cliStart(stateDir, ['run', 'eks-1.20', '--yes', '--json', ...targetArgs(w)], { env: runnerEnv() });
    // The moment the sandbox has accepted the update: the riskiest instant to die.
    await waitUntil(async () => (await journalOf(w.endpoint)).some((j) => j.operation === 'UpdateClusterVersion' && j.status === 200), 'UpdateClusterVersion to reach the sandbox', 60_000);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');

    // The update really was still running when the runner died (the outside view, plain SDK).
    const eks = new EKSClient({ endpoint: w.endpoint, region: REGION, credentials: { accessKeyId: DUMMY_AWS_ENV.AWS_ACCESS_KEY_ID!, secretAccessKey: DUMMY_AWS_ENV.AWS_SECRET_ACCESS_KEY! } });
    const { updateIds = [] } = await eks.send(new ListUpdatesCommand({ name: CLUSTER }));
    expect(updateIds).toHaveLength(1);
    const { update } = await eks.send(new DescribeUpdateCommand({ name: CLUSTER, updateId: updateIds[0] }));
    eks.destroy();
    expect(update?.status).toBe('InProgress');

    const [runId] = runIds(stateDir);
    expect(runId).toBeTruthy();
    const beforeKill = timelineOf(stateDir, runId!);
    const doneBeforeKill = beforeKill.filter((e) => e.type === 'step.completed').map((e) => e.stepId!);
    expect(doneBeforeKill).toEqual(expect.arrayContaining(['preflight-cluster', 'snapshot-target-groups']));
    expect(doneBeforeKill).not.toContain('upgrade-control-plane');
    expect(beforeKill.some((e) => e.type === 'step.started' && e.stepId === 'upgrade-control-plane')).toBe(true);

    const resumed = await cli(stateDir, ['resume', runId!, '--yes', '--json', '--endpoint-url', w.endpoint, '--kubeconfig', w.kubeconfigPath], { env: runnerEnv() });
    expect(resumed.code, resumed.stderr).toBe(0);
    const report = runReport(resumed.stdout);
    expect(report).toMatchObject({ runId, status: 'completed' });

    const journal = await journalOf(w.endpoint);
    expect(journal.filter((j) => j.operation === 'UpdateClusterVersion')).toHaveLength(1);
    expect(journal.filter((j) => j.operation === 'CreateAddon')).toHaveLength(3);
    expect(journal.filter((j) => j.operation === 'UpdateNodegroupVersion')).toHaveLength(2);
    const { cluster } = await aws(w, 'eks', 'describe-cluster', '--name', CLUSTER);
    expect(cluster).toMatchObject({ version: '1.20', status: 'ACTIVE' });

    const { events } = await timelineJson(stateDir, runId!);
    expect(ofType(events, 'run.resumed')).toHaveLength(1);
    expect(events.at(-1)!.type).toBe('run.completed');
    // Done steps stay done: a step completed before the kill never starts again.
    // The one deliberate exception (src/engine/plan.ts; not in docs/ARCHITECTURE.md "Resume", see
    // the report): a known-fix *check* is read-only and runs again on every resume, so a fix that
    // went missing meanwhile cannot slip through. It must not turn into a mutation.
    for (const id of doneBeforeKill.filter((s) => !s.startsWith('fix.'))) expect(stepEvents(events, 'step.started', id), id).toHaveLength(1);
    expect(stepEvents(events, 'step.started', `fix.${FIX_ID}`)).toHaveLength(2);
    expect(stepEvents(events, 'step.started', `fix.${FIX_ID}.apply`)).toEqual([]);
    expect(journal.some((j) => j.operation === 'ModifyTargetGroupAttributes')).toBe(false);
    // The in-flight control-plane step finished once, after the resume, on the same update.
    const resumedAt = events.indexOf(ofType(events, 'run.resumed')[0]!);
    const cp = stepEvents(events, 'step.completed', 'upgrade-control-plane');
    expect(cp).toHaveLength(1);
    expect(events.indexOf(cp[0]!)).toBeGreaterThan(resumedAt);
    expect(cp[0]!.data?.output).toMatchObject({ updateId: updateIds[0] });
    for (const id of [...READ_ONLY_STEPS, ...MUTATING_STEPS].filter((s) => !s.startsWith('fix.'))) expect(stepEvents(events, 'step.completed', id), id).toHaveLength(1);
    // …found done by its check(), which re-attached to the update the killed runner started.
    const probed = stepEvents(events, 'step.probed', 'upgrade-control-plane');
    expect(probed).toHaveLength(1);
    expect(probed[0]!.data?.done).toBe(true);
    expect(cp[0]!.data?.via).toBe('found done by its check');
  });

  it('a Failed coredns add-on update with --on-failure rollback: coredns and vpc-cni self-managed again from their backups, the chain stops at the control plane, exit 7', { timeout: 90_000 }, async () => {
    sb = await startSandbox({ scenario: 'default', speed: 3000 });
    const w = world(sb);
    await setFaultsOver(sb.endpoint, { failNextUpdate: ['addon:coredns'] });
    const workload = async (kind: string, name: string) => {
      const o = await kubectl(w, '-n', 'kube-system', 'get', kind, name);
      return { labels: o.metadata.labels as Record<string, string>, image: o.spec.template.spec.containers[0].image as string };
    };
    const before = { coredns: await workload('deployment', 'coredns'), awsNode: await workload('daemonset', 'aws-node'), kubeProxy: await workload('daemonset', 'kube-proxy') };
    expect(before.coredns.labels['app.kubernetes.io/managed-by']).toBeUndefined();

    const stateDir = freshDir('rollback');
    const r = await cli(stateDir, ['run', 'eks-1.20', '--yes', '--on-failure', 'rollback', '--json', ...targetArgs(w)], { env: runnerEnv() });
    // docs/ARCHITECTURE.md: the chain stops at the first irreversible step → rollback-incomplete, exit 7.
    expect(r.code, r.stderr).toBe(7);
    const report = runReport(r.stdout);
    expect(report.status).toBe('rollback-incomplete');
    expect(report.error?.code).toBe('ROLLBACK_INCOMPLETE');
    // "the error lists the steps left to undo by hand" and the irreversible step's text says what to do.
    expect(report.error?.message).toContain("'upgrade-control-plane'");
    expect(report.error?.hint).toMatch(/cannot downgrade a control plane/);
    expect(report.error?.hint).toContain('Steps not rolled back: upgrade-control-plane');
    const result = new Map(report.steps.map((s) => [s.id, s.result]));
    expect(result.get('addon-coredns')).toBe('failed');
    expect(result.get('addon-vpc-cni')).toBe('rolled back');
    expect(result.get('upgrade-control-plane')).toBe('not rolled back');
    expect(result.get('addon-kube-proxy')).toBe('not reached');
    expect(result.get('upgrade-nodegroups')).toBe('not reached');

    // The world: no managed add-on left, both workloads back to what they were, kube-proxy never touched.
    expect((await aws(w, 'eks', 'list-addons', '--cluster-name', CLUSTER)).addons).toEqual([]);
    expect(await workload('deployment', 'coredns')).toEqual(before.coredns);
    expect(await workload('daemonset', 'aws-node')).toEqual(before.awsNode);
    expect(await workload('daemonset', 'kube-proxy')).toEqual(before.kubeProxy);
    // The irreversible part stays: the control plane is on 1.20 (the rollback stops there).
    expect((await aws(w, 'eks', 'describe-cluster', '--name', CLUSTER)).cluster.version).toBe('1.20');

    // The journal, in order: coredns undoes itself (delete with preserve, backup re-applied), then
    // the saga rolls back vpc-cni the same way; nothing after the failure moved forward.
    const journal = (await journalOf(sb.endpoint)).map((j) => `${j.operation}${j.service === 'kubernetes' ? ` ${String(j.params?.name)}` : j.params?.body?.addonName ? ` ${j.params.body.addonName}` : j.operation === 'DeleteAddon' ? ` ${String(j.params?.path).split('/').pop()}${j.params?.query?.preserve === 'true' ? ' preserve' : ''}` : ''}`);
    const at = (s: string): number => {
      const i = journal.indexOf(s);
      expect(i, `${s} in ${journal.join(', ')}`).toBeGreaterThanOrEqual(0);
      return i;
    };
    expect(at('CreateAddon coredns')).toBeLessThan(at('DeleteAddon coredns preserve'));
    expect(at('DeleteAddon coredns preserve')).toBeLessThan(at('patch deployments.apps coredns'));
    expect(at('patch deployments.apps coredns')).toBeLessThan(at('DeleteAddon vpc-cni preserve'));
    expect(at('DeleteAddon vpc-cni preserve')).toBeLessThan(at('patch daemonsets.apps aws-node'));
    expect(journal.filter((j) => /UpdateNodegroupVersion|CreateAddon kube-proxy|UpdateClusterVersion/.test(j))).toEqual(['UpdateClusterVersion']);
    expect((await faultRecordsOf(sb.endpoint)).map((f) => `${f.kind} ${f.trigger}`)).toEqual(['update-failed addon:coredns']);

    const { events } = await timelineJson(stateDir, report.runId);
    const kinds = events.filter((e) => e.type.startsWith('rollback.') || e.type === 'step.failed' || e.type.startsWith('run.')).map((e) => `${e.type}${e.stepId ? ` ${e.stepId}` : ''}`);
    expect(kinds).toEqual([
      'run.started',
      'step.failed addon-coredns',
      'rollback.started',
      'rollback.step.started addon-vpc-cni',
      'rollback.step.completed addon-vpc-cni',
      'rollback.blocked upgrade-control-plane',
      'rollback.completed',
      'run.failed',
    ]);
    // The failed step re-applied its own backup before it threw (the engine does not roll it back).
    const notes = events.filter((e) => e.type === 'note' && e.stepId === 'addon-coredns').map((e) => e.message);
    expect(notes.some((m) => m.startsWith('Re-applied the backup of coredns'))).toBe(true);
    expect(events.at(-1)!.message).toMatch(/rollback-incomplete/);
  });
});
