// The rehearsal everyone runs first: the `default` world (the fix is in place), the whole upgrade
// approved with --yes, and then a look at the world with the operator's own tools.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADDONS,
  CLUSTER,
  MUTATING_STEPS,
  READ_ONLY_STEPS,
  aws,
  cli,
  freshDir,
  indexOf,
  journalOf,
  kubectl,
  ofType,
  runReport,
  runnerEnv,
  startStandaloneSandbox,
  stepEvents,
  targetArgs,
  targetGroupsSeenByAws,
  timelineJson,
  type StandaloneSandbox,
  type TgView,
} from './helpers.js';

describe('default scenario: the whole upgrade rehearsed with --yes', () => {
  describe('`run eks-1.20 --sandbox --yes --json` (the embedded world)', () => {
    let r: Awaited<ReturnType<typeof cli>>;
    beforeAll(async () => {
      r = await cli(freshDir('default-embedded'), ['run', 'eks-1.20', '--sandbox', '--yes', '--json']);
    }, 90_000);

    it('exits 0 with every step done and nothing failed', () => {
      expect(r.code, r.stderr).toBe(0);
      const report = runReport(r.stdout);
      expect(report).toMatchObject({ runbook: 'eks-1.20', status: 'completed', exitCode: 0, error: null });
      const byId = new Map(report.steps.map((s) => [s.id, s]));
      for (const id of [...READ_ONLY_STEPS, ...MUTATING_STEPS]) expect(byId.get(id)?.result, id).toBe('executed');
      // The fix is already in place in this world: its apply step has nothing to do.
      expect(byId.get('fix.deregistration-delay.apply')?.result).toBe('skipped');
      expect(report.steps).toHaveLength(READ_ONLY_STEPS.length + MUTATING_STEPS.length + 1);
    });

    // PRODUCT BUG (reported): `--json` is "machine-readable output" (src/cli/main.ts), but `run`
    // without a TTY also writes the simple renderer's progress lines (❯ ✔ ›) to the same stdout
    // before the JSON report, so `runbook run … --json | jq` fails. runReport() above works around
    // it by taking the trailing document.
    it('stdout is exactly one JSON document', () => {
      expect(() => JSON.parse(r.stdout) as unknown).not.toThrow();
    });
  });

  describe('against a standalone sandbox (`runbook sandbox start`), inspected from outside afterwards', () => {
    let sb: StandaloneSandbox;
    let before: TgView[];
    const stateDir = freshDir('default-standalone');
    let runId = '';
    let code: number | null = null;
    let stderr = '';

    beforeAll(async () => {
      // Speed 3000 (model minutes pass in 20 ms): nothing here measures time, and it saves ~2 s.
      sb = await startStandaloneSandbox(['--scenario', 'default', '--speed', '3000']);
      before = await targetGroupsSeenByAws(sb);
      const r = await cli(stateDir, ['run', 'eks-1.20', '--yes', '--json', ...targetArgs(sb)], { env: runnerEnv() });
      code = r.code;
      stderr = r.stderr;
      runId = runReport(r.stdout).runId;
    }, 120_000);

    afterAll(async () => {
      await sb?.stop();
    });

    it('exits 0', () => {
      expect(code, stderr).toBe(0);
    });

    it('the world before the run is the one the scenario promises (so the checks below can tell a change)', () => {
      expect(before.map((t) => t.name)).toHaveLength(4);
      for (const tg of before) {
        expect(tg.loadBalancerArns, tg.name).toHaveLength(1);
        expect(tg.forwardingRules, tg.name).toHaveLength(1);
        expect(tg.targets.filter((t) => t.state === 'healthy'), tg.name).toHaveLength(5);
      }
    });

    it('aws: the control plane is ACTIVE on 1.20, after exactly one successful version update', async () => {
      const { cluster } = await aws(sb, 'eks', 'describe-cluster', '--name', CLUSTER);
      expect(cluster).toMatchObject({ status: 'ACTIVE', version: '1.20' });
      const { updateIds } = await aws(sb, 'eks', 'list-updates', '--name', CLUSTER);
      expect(updateIds).toHaveLength(1);
      const { update } = await aws(sb, 'eks', 'describe-update', '--name', CLUSTER, '--update-id', String(updateIds[0]));
      expect(update).toMatchObject({ type: 'VersionUpdate', status: 'Successful', errors: [] });
      expect(update.params).toContainEqual({ type: 'Version', value: '1.20' });
    });

    it('aws + kubectl: vpc-cni, coredns and kube-proxy are EKS-managed, ACTIVE, at the default version for 1.20, and their workloads say so', async () => {
      const { addons } = await aws(sb, 'eks', 'list-addons', '--cluster-name', CLUSTER);
      expect([...addons].sort()).toEqual([...ADDONS].sort());
      const workloads: Record<string, [string, string]> = { 'vpc-cni': ['daemonset', 'aws-node'], coredns: ['deployment', 'coredns'], 'kube-proxy': ['daemonset', 'kube-proxy'] };
      // One aws process costs ~0.5 s here: ask about the three add-ons side by side.
      await Promise.all(ADDONS.map(async (name) => {
        const { addons: [versions] } = await aws(sb, 'eks', 'describe-addon-versions', '--kubernetes-version', '1.20', '--addon-name', name);
        const defaultFor120 = (versions.addonVersions as { addonVersion: string; compatibilities: { clusterVersion: string; defaultVersion: boolean }[] }[]).find((v) =>
          v.compatibilities.some((c) => c.clusterVersion === '1.20' && c.defaultVersion),
        )?.addonVersion;
        expect(defaultFor120, name).toBeTruthy();
        const { addon } = await aws(sb, 'eks', 'describe-addon', '--cluster-name', CLUSTER, '--addon-name', name);
        expect(addon, name).toMatchObject({ addonName: name, status: 'ACTIVE', addonVersion: defaultFor120 });
        const [kind, obj] = workloads[name]!;
        const w = await kubectl(sb, '-n', 'kube-system', 'get', kind, obj);
        expect(w.metadata.labels, name).toMatchObject({ 'app.kubernetes.io/managed-by': 'EKS', 'eks.amazonaws.com/addon': name });
        expect(w.spec.template.spec.containers[0].image, name).toMatch(new RegExp(`:${defaultFor120!.replaceAll('.', '\\.')}$`));
      }));
    });

    it('aws + kubectl: both node groups are on 1.20 and every node is Ready with a v1.20 kubelet', async () => {
      const { nodegroups } = await aws(sb, 'eks', 'list-nodegroups', '--cluster-name', CLUSTER);
      expect([...nodegroups].sort()).toEqual(['ng-batch', 'ng-general']);
      for (const ng of nodegroups as string[]) {
        const { nodegroup } = await aws(sb, 'eks', 'describe-nodegroup', '--cluster-name', CLUSTER, '--nodegroup-name', ng);
        expect(nodegroup, ng).toMatchObject({ status: 'ACTIVE', version: '1.20' });
      }
      const nodes = (await kubectl(sb, 'get', 'nodes')).items as { metadata: { name: string }; status: { nodeInfo: { kubeletVersion: string }; conditions: { type: string; status: string }[] } }[];
      expect(nodes).toHaveLength(5);
      for (const n of nodes) {
        expect(n.status.nodeInfo.kubeletVersion, n.metadata.name).toMatch(/^v1\.20\./);
        expect(n.status.conditions.find((c) => c.type === 'Ready')?.status, n.metadata.name).toBe('True');
      }
    });

    it('aws elbv2: every target group is still attached (same rules) and has as many healthy targets as before — on the new nodes', async () => {
      const after = await targetGroupsSeenByAws(sb);
      expect(after.map((t) => t.arn)).toEqual(before.map((t) => t.arn));
      const nodeNames = new Set(((await kubectl(sb, 'get', 'nodes')).items as { spec: { providerID?: string }; metadata: { name: string } }[]).map((n) => n.spec.providerID?.split('/').pop() ?? n.metadata.name));
      for (const [i, tg] of after.entries()) {
        const was = before[i]!;
        expect(tg.loadBalancerArns, tg.name).toEqual(was.loadBalancerArns);
        expect(tg.forwardingRules, tg.name).toEqual(was.forwardingRules);
        const healthy = tg.targets.filter((t) => t.state === 'healthy');
        expect(healthy.length, tg.name).toBeGreaterThanOrEqual(was.targets.filter((t) => t.state === 'healthy').length);
        // The nodes were replaced: the healthy targets are the new instances, not leftovers.
        for (const t of healthy) expect(nodeNames.has(t.id), `${tg.name} target ${t.id} is a current node`).toBe(true);
      }
    });

    it('the sandbox journal holds exactly the planned mutations, in order, all accepted', async () => {
      const journal = await journalOf(sb.endpoint);
      const aws = journal.filter((j) => j.service !== 'kubernetes');
      expect(aws.map((j) => `${j.operation}${j.params?.body?.addonName ? `:${j.params.body.addonName}` : ''}`)).toEqual([
        'UpdateClusterVersion',
        'CreateAddon:vpc-cni',
        'CreateAddon:coredns',
        'CreateAddon:kube-proxy',
        'UpdateNodegroupVersion',
        'UpdateNodegroupVersion',
      ]);
      for (const j of journal) expect(j.status, `${j.operation}`).toBeLessThan(300);
    });

    it('the timeline (`runbook timeline --format json`) tells the story: preflight, fix verified, snapshot, each change approved via --yes then done, post-checks, completed', async () => {
      const { events, stats } = await timelineJson(stateDir, runId);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events[0]!.type).toBe('run.started');
      expect(events.at(-1)!.type).toBe('run.completed');
      expect(ofType(events, 'run.completed')).toHaveLength(1);
      expect(events.filter((e) => e.type.startsWith('incident.') || e.type.startsWith('rollback.') || e.type === 'step.failed' || e.type === 'guard.error')).toEqual([]);

      const completedAt = (id: string): number => indexOf(events, (e) => e.type === 'step.completed' && e.stepId === id, `step.completed ${id}`);
      const startedAt = (id: string): number => indexOf(events, (e) => e.type === 'step.started' && e.stepId === id, `step.started ${id}`);
      const preflight = READ_ONLY_STEPS.filter((s) => s.startsWith('preflight-'));
      // Preflight in its documented order, all before anything else.
      expect(preflight.map(completedAt)).toEqual([...preflight.map(completedAt)].sort((a, b) => a - b));
      const fixVerified = indexOf(events, (e) => e.type === 'fix.verified', 'fix.verified');
      expect(fixVerified).toBeGreaterThan(completedAt('preflight-addon-versions'));
      expect(stepEvents(events, 'step.skipped', 'fix.deregistration-delay.apply')).toHaveLength(1);
      expect(completedAt('snapshot-target-groups')).toBeGreaterThan(fixVerified);
      const guardOn = indexOf(events, (e) => e.type === 'guard.started', 'guard.started');
      const guardOff = indexOf(events, (e) => e.type === 'guard.stopped', 'guard.stopped');

      let prevDone = completedAt('snapshot-target-groups');
      for (const id of MUTATING_STEPS) {
        const approvals = stepEvents(events, 'approval.granted', id);
        expect(approvals, id).toHaveLength(1);
        expect(approvals[0]!.data?.via, id).toBe('--yes');
        expect(approvals[0]!.message, id).toMatch(/^Approved \(--yes\): .*prod-eu/);
        expect(approvals[0]!.actor, id).toBe('tester@ci');
        const approved = events.indexOf(approvals[0]!);
        expect(stepEvents(events, 'step.started', id), id).toHaveLength(1);
        expect(approved, id).toBeGreaterThan(prevDone);
        expect(startedAt(id), id).toBeGreaterThan(approved);
        expect(startedAt(id), `${id} runs under the guard`).toBeGreaterThan(guardOn);
        prevDone = completedAt(id);
        expect(prevDone, `${id} ends before the guard stops`).toBeLessThan(guardOff);
      }
      expect(startedAt('post-checks')).toBeGreaterThan(guardOff);
      expect(completedAt('post-checks')).toBe(events.length - 2);
      // Read-only steps never ask.
      for (const id of READ_ONLY_STEPS) expect(stepEvents(events, 'approval.granted', id), id).toEqual([]);
      const cp = stepEvents(events, 'step.completed', 'upgrade-control-plane')[0]!;
      expect(cp.data?.output).toMatchObject({ cluster: CLUSTER, version: '1.20', status: 'Successful' });
      expect(stats).toMatchObject({ outcome: 'completed', incidents: [], steps: { completed: READ_ONLY_STEPS.length + MUTATING_STEPS.length, failed: 0, rolledBack: 0 } });
    });

    // PRODUCT BUG (reported): docs/timeline.md promises "a completed control-plane step reports
    // `output.fromVersion` / `toVersion`", and the postmortem draft builds its **Versions:** line
    // from exactly those fields (src/timeline/postmortem.ts `versions()`). The control-plane step
    // (src/steps/control-plane.ts) returns { cluster, version, updateId, status, alreadyAtTarget }
    // instead, so the draft of a real eks-1.20 run never says 1.19 → 1.20.
    it('the control-plane step reports fromVersion → toVersion, so `runbook postmortem` names the versions', async () => {
      const { events } = await timelineJson(stateDir, runId);
      const cp = stepEvents(events, 'step.completed', 'upgrade-control-plane')[0]!;
      expect(cp.data?.output).toMatchObject({ fromVersion: '1.19', toVersion: '1.20' });
      const pm = await cli(stateDir, ['postmortem', runId]);
      expect(pm.code).toBe(0);
      expect(pm.stdout).toMatch(/\*\*Versions:\*\* .*1\.19 → 1\.20/);
    });
  });
});
