// The whole upgrade of the default world, step by step, as the engine would run it: the
// cluster, add-ons and nodes end on 1.20, every target group still attached and healthy.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eksUpgradeSteps } from '../../src/steps/index.js';
import { mutations, sandboxRun } from './helpers.js';

const s = eksUpgradeSteps({ from: '1.19', to: '1.20' });

describe('eks 1.19 → 1.20 on the default world', () => {
  let w: Awaited<ReturnType<typeof sandboxRun>>;
  beforeAll(async () => {
    w = await sandboxRun({});
    for (const step of [s.identity, s.cluster, s.nodegroupsHealthy, s.insights, s.addonVersions]) await w.run.run(step);
  });
  afterAll(async () => w?.close());

  it('the deregistration-delay fix is already in place', async () => {
    const check = await s.deregistrationDelay.check(w.run.ctx('fix.deregistration-delay'));
    expect(check).toMatchObject({ ok: true, message: expect.stringMatching(/all 4 target group\(s\)/) as unknown });
  });

  it('snapshots the four target groups of the shop ALB with their rules and healthy targets', async () => {
    const snap = await w.run.run(s.snapshot);
    expect(snap.targetGroups).toHaveLength(4);
    for (const tg of snap.targetGroups) {
      expect(tg.attachments).toHaveLength(1);
      expect(tg.healthy).toBeGreaterThan(0);
      expect(tg.targets.every((t) => t.nodegroup === 'ng-general' || t.nodegroup === 'ng-batch')).toBe(true);
    }
    expect(existsSync(snap.artefact!)).toBe(true);
  });

  it('upgrades the control plane once, and a repeated run re-attaches instead of sending another update', async () => {
    expect((await s.controlPlane.check!(w.run.ctx(s.controlPlane.id))).done).toBe(false);
    const out = await w.run.run(s.controlPlane);
    expect(out).toMatchObject({ version: '1.20', status: 'Successful', alreadyAtTarget: false });
    expect(w.run.statuses.some((l) => /^Waiting for control plane update [0-9a-f]{8}… to 1\.20 \((InProgress|Successful), (\d+ms|\d+(\.\d)?s)\)$/.test(l))).toBe(true);
    const probe = await s.controlPlane.check!(w.run.ctx(s.controlPlane.id));
    expect(probe).toMatchObject({ done: true, output: { updateId: out.updateId } });
    expect(mutations(w.sb).filter((m) => m === 'UpdateClusterVersion')).toHaveLength(1);
  });

  it('migrates each add-on to managed after backing up its manifests', async () => {
    for (const step of s.addonSteps) {
      const out = await w.run.run(step);
      expect(out.changed).toBe(true);
      const backup = JSON.parse(await readFile(out.backupFile, 'utf8')) as { items: { kind: string }[] };
      expect(backup.items.length).toBeGreaterThan(0);
    }
    const ds = await w.run.ctx('t').kube.getJson<{ metadata: { labels: Record<string, string> } }>(['get', 'daemonset', 'aws-node', '--namespace', 'kube-system']);
    expect(ds.metadata.labels['app.kubernetes.io/managed-by']).toBe('EKS');
    expect(mutations(w.sb, 'eks').filter((m) => m === 'CreateAddon')).toHaveLength(3);
  });

  it('rolls both node groups to 1.20', async () => {
    const out = await w.run.run(s.nodegroups);
    expect(out.nodegroups.map((n) => `${n.nodegroup}:${n.to}`)).toEqual(['ng-batch:1.20', 'ng-general:1.20']);
    expect((await s.nodegroups.check!(w.run.ctx(s.nodegroups.id))).done).toBe(true);
  });

  it('post-checks pass: cluster, add-ons, nodes, target groups', async () => {
    const out = await w.run.run(s.postChecks);
    expect(out.failed).toBe(0);
    expect(out.checks.filter((c) => c.check === 'target group')).toHaveLength(4);
    expect(out.checks.filter((c) => c.check === 'node').length).toBeGreaterThanOrEqual(5);
  });
});
