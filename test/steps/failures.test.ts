// When things go wrong: a failed add-on creation puts the self-managed add-on back; a runner
// that dies mid-update re-attaches with the same token; a detachment is seen and restored.
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { eksUpgradeSteps } from '../../src/steps/index.js';
import { mutations, sandboxRun } from './helpers.js';

const s = eksUpgradeSteps({ from: '1.19', to: '1.20' });
type World = Awaited<ReturnType<typeof sandboxRun>>;
const open: World[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((w) => w.close()));
});
async function world(o: Parameters<typeof sandboxRun>[0]): Promise<World> {
  const w = await sandboxRun(o);
  open.push(w);
  return w;
}

interface Workload {
  metadata: { labels?: Record<string, string> };
  spec: { template: { spec: { containers: { image: string }[] } } };
}

describe('a Failed add-on creation', () => {
  it('fails the step after deleting the managed add-on (preserve) and re-applying the backup', async () => {
    const w = await world({ faults: { failNextUpdate: ['addon:coredns'] } });
    for (const step of [s.cluster, s.addonVersions, s.controlPlane]) await w.run.run(step);
    const kube = w.run.ctx('t').kube;
    const before = await kube.getJson<Workload>(['get', 'deployment', 'coredns', '--namespace', 'kube-system']);
    const coredns = s.addonSteps.find((x) => x.id === 'addon-coredns')!;

    const err = await w.run.run(coredns).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STEP_FAILED' });
    expect((err as Error).message).toMatch(/coredns did not become ACTIVE at v1\.8\.3-eksbuild\.1: CREATE_FAILED.*rolled back: managed add-on deleted with preserve and the backup re-applied/);

    const ops = mutations(w.sb, 'eks');
    expect(ops.slice(-2)).toEqual(['CreateAddon', 'DeleteAddon']);
    expect(w.sb.journal().find((j) => j.operation === 'DeleteAddon')?.params).toMatchObject({ query: { preserve: 'true' } });
    expect(w.sb.journal().some((j) => j.service === 'kubernetes')).toBe(true);
    const after = await kube.getJson<Workload>(['get', 'deployment', 'coredns', '--namespace', 'kube-system']);
    expect(after.spec.template.spec.containers[0]?.image).toBe(before.spec.template.spec.containers[0]?.image);
    const backupFile = (w.run.memo.get('addon-coredns')?.['before'] as { backupFile: string }).backupFile;
    expect(JSON.parse(await readFile(backupFile, 'utf8'))).toMatchObject({ kind: 'List' });
  });
});

describe('a Failed control-plane update', () => {
  it('fails the step, forgets the token, and a retry starts a new update that succeeds', async () => {
    const w = await world({ faults: { failNextUpdate: ['cluster-version'] } });
    await w.run.run(s.cluster);
    await expect(w.run.run(s.controlPlane)).rejects.toMatchObject({ code: 'STEP_FAILED', message: expect.stringMatching(/ended Failed/) as unknown });
    expect(w.run.memo.get(s.controlPlane.id)?.['clientRequestToken']).toBeUndefined();
    const out = await w.run.run(s.controlPlane);
    expect(out.version).toBe('1.20');
    const tokens = w.sb.journal().filter((j) => j.operation === 'UpdateClusterVersion').map((j) => (j.params as { body: { clientRequestToken: string } }).body.clientRequestToken);
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).not.toBe(tokens[1]);
  });
});

describe('a runner that dies during the control-plane update', () => {
  async function killedMidUpdate(w: World): Promise<string> {
    await w.run.run(s.cluster);
    const ac = new AbortController();
    const first = s.controlPlane.run(w.run.ctx(s.controlPlane.id, { signal: ac.signal }));
    // Wait until the call went out, then "kill" the runner.
    for (let i = 0; i < 200 && !mutations(w.sb).includes('UpdateClusterVersion'); i++) await new Promise((r) => setTimeout(r, 10));
    ac.abort(Object.assign(new Error('killed'), { name: 'AbortError' }));
    await expect(first).rejects.toThrow();
    const token = w.run.memo.get(s.controlPlane.id)?.['clientRequestToken'];
    expect(typeof token).toBe('string');
    return token as string;
  }

  it('on resume, check() re-attaches to the running update and sends nothing', async () => {
    const w = await world({ speed: 400 });
    const token = await killedMidUpdate(w);
    const probe = await s.controlPlane.check!(w.run.ctx(s.controlPlane.id));
    expect(probe).toMatchObject({ done: true, output: { version: '1.20', status: 'Successful' }, reason: expect.stringMatching(/^re-attached to update/) as unknown });
    const calls = w.sb.journal().filter((j) => j.operation === 'UpdateClusterVersion');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.params).toMatchObject({ body: { version: '1.20', clientRequestToken: token } });
  });

  it('a retried run() sends the checkpointed token again and EKS answers with the same update', async () => {
    const w = await world({ speed: 400 });
    const token = await killedMidUpdate(w);
    const out = await s.controlPlane.run(w.run.ctx(s.controlPlane.id));
    const calls = w.sb.journal().filter((j) => j.operation === 'UpdateClusterVersion');
    expect(calls.map((c) => (c.params as { body: { clientRequestToken: string } }).body.clientRequestToken)).toEqual([token, token]);
    expect(out.updateId).toBe(w.run.memo.get(s.controlPlane.id)?.['updateId']);
    const world_ = w.sb.world();
    expect(Object.keys(world_.clusters['prod-eu']!.updates)).toHaveLength(1);
  });
});

describe('the target-group guard in the 2021-06-30 world', () => {
  it('sees every target group detached and restores rules and targets from the snapshot', async () => {
    const w = await world({ scenario: '2021-06-30' });
    await w.run.run(s.snapshot);
    const gctx = w.run.guardCtx(s.guard.id);
    expect(await s.guard.poll(gctx)).toBeNull();

    w.sb.setFaults({ detachAt: 'now' });
    const finding = await s.guard.poll(gctx);
    expect(finding?.summary).toMatch(/^4 of 4 target group\(s\) out of service: k8s-shop-api-0e8d7c6b5a lost its attachment/);
    expect(w.sb.faultRecords().some((f) => f.kind === 'target-groups-detached')).toBe(true);

    await s.guard.remediate!(gctx, finding!);
    const restored = w.run.notes.filter((n) => n.message.startsWith('Restored '));
    expect(restored).toHaveLength(4);
    expect(restored.every((n) => /1 forwarding rule\(s\) restored, \d+ target\(s\) re-registered/.test(n.message))).toBe(true);
    expect(await s.guard.poll(gctx)).toBeNull();
    expect(mutations(w.sb, 'elasticloadbalancing').filter((m) => m === 'ModifyRule')).toHaveLength(4);
  });

  it('after a node roll replaced the instances, the restore brings the groups back without re-registering gone instances', async () => {
    const w = await world({ scenario: '2021-06-30' });
    for (const step of [s.cluster, s.snapshot, s.controlPlane, s.nodegroups]) await w.run.run(step);
    // The incident fires 20 model-seconds after UpdateNodegroupVersion; wait for it to be recorded.
    for (let i = 0; i < 100 && !w.sb.faultRecords().some((f) => f.kind === 'target-groups-detached'); i++) await new Promise((r) => setTimeout(r, 20));
    const gctx = w.run.guardCtx(s.guard.id);
    const finding = await s.guard.poll(gctx);
    expect(finding?.summary).toMatch(/^4 of 4 target group\(s\) out of service/);

    await s.guard.remediate!(gctx, finding!);
    expect(await s.guard.poll(gctx)).toBeNull();
    const live = new Set(Object.values(w.sb.world().instances).filter((i) => i.state === 'running').map((i) => i.id));
    const registered = w.sb
      .journal()
      .filter((j) => j.operation === 'RegisterTargets')
      .flatMap((j) => ((j.params as { Targets?: { Id: string }[] }).Targets ?? []).map((t) => t.Id));
    expect(registered.every((id) => live.has(id))).toBe(true);
    expect(w.run.notes.filter((n) => n.message.startsWith('Restored ')).every((n) => !/no longer exist/.test(n.message))).toBe(true);
  });
});
