import {
  CreateAddonCommand,
  DescribeAddonCommand,
  UpdateNodegroupVersionCommand,
} from '@aws-sdk/client-eks';
import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyRuleCommand,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/index.js';
import { clients, ManualClock } from './helpers.js';

/**
 * 2021-06-30: migrating the add-ons to EKS-managed detached every target group of the ALB while
 * the deregistration-delay fix from an earlier postmortem was missing. The world runs on a
 * hand-moved clock at speed 1, so every instant below is exact.
 */

const open: RunningSandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function start(scenario: string, clock: ManualClock): Promise<RunningSandbox> {
  const sb = await startSandbox({ scenario, speed: 1, clock });
  open.push(sb);
  return sb;
}

async function albTargetGroups(elb: ElasticLoadBalancingV2Client): Promise<string[]> {
  const out = await elb.send(new DescribeTargetGroupsCommand({}));
  return (out.TargetGroups ?? []).map((t) => t.TargetGroupArn!);
}

async function healthyCounts(elb: ElasticLoadBalancingV2Client, arns: string[]): Promise<number[]> {
  return Promise.all(
    arns.map(async (arn) => {
      const h = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
      return (h.TargetHealthDescriptions ?? []).filter((d) => d.TargetHealth?.State === 'healthy').length;
    }),
  );
}

async function forwardedGroups(elb: ElasticLoadBalancingV2Client, lbArn: string): Promise<Set<string>> {
  const out = new Set<string>();
  const ls = await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }));
  for (const l of ls.Listeners ?? []) {
    const rules = await elb.send(new DescribeRulesCommand({ ListenerArn: l.ListenerArn }));
    for (const r of rules.Rules ?? []) for (const a of r.Actions ?? []) if (a.TargetGroupArn) out.add(a.TargetGroupArn);
  }
  return out;
}

describe('scenario 2021-06-30', () => {
  it('detaches every target group of the ALB after vpc-cni is taken over with OVERWRITE, and records when', async () => {
    const clock = new ManualClock();
    const sb = await start('2021-06-30', clock);
    const { eks, elb } = clients(sb);
    const tgs = await albTargetGroups(elb);
    expect(tgs).toHaveLength(4);
    expect(await healthyCounts(elb, tgs)).toEqual([5, 5, 5, 5]);
    const lbArn = (await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tgs[0]!] }))).TargetGroups![0]!.LoadBalancerArns![0]!;

    const callAt = clock.now();
    await eks.send(new CreateAddonCommand({ clusterName: 'prod-eu', addonName: 'vpc-cni', addonVersion: 'v1.7.10-eksbuild.1', resolveConflicts: 'OVERWRITE' }));
    // The takeover needs a moment in the model before the damage shows.
    clock.advance(19_000);
    expect(await healthyCounts(elb, tgs)).toEqual([5, 5, 5, 5]);
    clock.advance(1_000);

    expect(await healthyCounts(elb, tgs)).toEqual([0, 0, 0, 0]);
    for (const arn of tgs) {
      const h = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
      expect(h.TargetHealthDescriptions).toEqual([]);
    }
    const described = await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: tgs }));
    expect(described.TargetGroups!.map((t) => t.LoadBalancerArns)).toEqual([[], [], [], []]);
    expect(await forwardedGroups(elb, lbArn)).toEqual(new Set());

    const records = sb.faultRecords().filter((r) => r.kind === 'target-groups-detached');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ cause: 'incident', trigger: 'CreateAddon:vpc-cni', cluster: 'prod-eu', loadBalancerArns: [lbArn], protectedTargetGroupArns: [] });
    expect(new Set(records[0]!.targetGroupArns)).toEqual(new Set(tgs));
    expect(Date.parse(records[0]!.modelAt)).toBe(callAt + 20_000);
    expect(Date.parse(records[0]!.at)).toBe(callAt + 20_000);
    // The add-on itself ends up fine: the damage is elsewhere, which is why it went unnoticed.
    expect((await eks.send(new DescribeAddonCommand({ clusterName: 'prod-eu', addonName: 'vpc-cni' }))).addon?.status).toBe('CREATING');
    clock.advance(10_000);
    expect((await eks.send(new DescribeAddonCommand({ clusterName: 'prod-eu', addonName: 'vpc-cni' }))).addon?.status).toBe('ACTIVE');
  });

  it('does not happen when the deregistration-delay fix is applied first', async () => {
    const clock = new ManualClock();
    const sb = await start('2021-06-30', clock);
    const { eks, elb } = clients(sb);
    const tgs = await albTargetGroups(elb);
    for (const arn of tgs) {
      await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '600' }] }));
    }
    await eks.send(new CreateAddonCommand({ clusterName: 'prod-eu', addonName: 'vpc-cni', addonVersion: 'v1.7.10-eksbuild.1', resolveConflicts: 'OVERWRITE' }));
    await eks.send(new CreateAddonCommand({ clusterName: 'prod-eu', addonName: 'kube-proxy', addonVersion: 'v1.19.6-eksbuild.2', resolveConflicts: 'OVERWRITE' }));
    clock.advance(120_000);
    expect(await healthyCounts(elb, tgs)).toEqual([5, 5, 5, 5]);
    expect(sb.faultRecords().filter((r) => r.kind === 'target-groups-detached')).toEqual([]);
  });

  it('spares exactly the target groups that carry the fix', async () => {
    const clock = new ManualClock();
    const sb = await start('2021-06-30', clock);
    const { eks, elb } = clients(sb);
    const tgs = await albTargetGroups(elb);
    await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tgs[0], Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '900' }] }));
    await eks.send(new CreateAddonCommand({ clusterName: 'prod-eu', addonName: 'kube-proxy', addonVersion: 'v1.19.6-eksbuild.2', resolveConflicts: 'OVERWRITE' }));
    clock.advance(30_000);
    expect(await healthyCounts(elb, tgs)).toEqual([5, 0, 0, 0]);
    const [rec] = sb.faultRecords();
    expect(rec?.protectedTargetGroupArns).toEqual([tgs[0]]);
  });

  it('is set off by rolling a node group too', async () => {
    const clock = new ManualClock();
    const sb = await start('2021-06-30', clock);
    const { eks, elb } = clients(sb);
    const tgs = await albTargetGroups(elb);
    await eks.send(new UpdateNodegroupVersionCommand({ clusterName: 'prod-eu', nodegroupName: 'ng-batch' }));
    clock.advance(20_000);
    expect(await healthyCounts(elb, tgs)).toEqual([0, 0, 0, 0]);
    expect(sb.faultRecords()[0]).toMatchObject({ trigger: 'UpdateNodegroupVersion', cause: 'incident' });
  });

  it('is not set off by a CreateAddon that takes nothing over (NONE leaves the self-managed workload alone)', async () => {
    const clock = new ManualClock();
    const sb = await start('2021-06-30', clock);
    const { eks, elb } = clients(sb);
    await eks.send(new CreateAddonCommand({ clusterName: 'prod-eu', addonName: 'vpc-cni', addonVersion: 'v1.7.10-eksbuild.1', resolveConflicts: 'NONE' }));
    clock.advance(60_000);
    const addon = await eks.send(new DescribeAddonCommand({ clusterName: 'prod-eu', addonName: 'vpc-cni' }));
    expect(addon.addon?.status).toBe('CREATE_FAILED');
    expect(addon.addon?.health?.issues?.[0]?.code).toBe('ConfigurationConflict');
    expect(await healthyCounts(elb, await albTargetGroups(elb))).toEqual([5, 5, 5, 5]);
  });

  it('can be repaired the way the guard does it: re-point the rules, re-register the targets', async () => {
    const clock = new ManualClock();
    const sb = await start('2021-06-30', clock);
    const { eks, elb } = clients(sb);
    const tgs = await albTargetGroups(elb);
    const lbArn = (await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tgs[0]!] }))).TargetGroups![0]!.LoadBalancerArns![0]!;
    // Snapshot before the change.
    const listeners = (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }))).Listeners!;
    const rules = (await Promise.all(listeners.map((l) => elb.send(new DescribeRulesCommand({ ListenerArn: l.ListenerArn }))))).flatMap((r) => r.Rules!);
    const targets = await Promise.all(tgs.map((arn) => elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))));

    await eks.send(new CreateAddonCommand({ clusterName: 'prod-eu', addonName: 'vpc-cni', addonVersion: 'v1.7.10-eksbuild.1', resolveConflicts: 'OVERWRITE' }));
    clock.advance(25_000);
    expect(await healthyCounts(elb, tgs)).toEqual([0, 0, 0, 0]);

    for (const r of rules.filter((x) => !x.IsDefault)) await elb.send(new ModifyRuleCommand({ RuleArn: r.RuleArn, Actions: r.Actions }));
    for (const [i, arn] of tgs.entries()) {
      const t = targets[i]!.TargetHealthDescriptions!.map((d) => ({ Id: d.Target!.Id!, Port: d.Target!.Port! }));
      await elb.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: t }));
    }
    // Registered targets go through health checks: initial first, healthy after interval × threshold (15 s × 2).
    const states = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgs[0] }))).TargetHealthDescriptions!.map((d) => d.TargetHealth!.State);
    expect(new Set(states)).toEqual(new Set(['initial']));
    clock.advance(30_000);
    expect(await healthyCounts(elb, tgs)).toEqual([5, 5, 5, 5]);
    expect(await forwardedGroups(elb, lbArn)).toEqual(new Set(tgs));
  });
});

describe('scenario default', () => {
  it('carries the fix, so the same migration leaves the targets healthy', async () => {
    const clock = new ManualClock();
    const sb = await start('default', clock);
    const { eks, elb } = clients(sb);
    await eks.send(new CreateAddonCommand({ clusterName: 'prod-eu', addonName: 'vpc-cni', addonVersion: 'v1.7.10-eksbuild.1', resolveConflicts: 'OVERWRITE' }));
    await eks.send(new UpdateNodegroupVersionCommand({ clusterName: 'prod-eu', nodegroupName: 'ng-general' }));
    clock.advance(60_000);
    const tgs = await albTargetGroups(elb);
    const counts = await healthyCounts(elb, tgs);
    // A node roll is under way: at least the nodes not yet replaced stay healthy in every group.
    expect(counts.every((c) => c >= 4)).toBe(true);
    expect(sb.faultRecords()).toEqual([]);
  });
});

describe('forced faults (for testing the guard)', () => {
  it('detachTargetGroupsOn detaches at the matching call even with the fix in place, once', async () => {
    const clock = new ManualClock();
    const sb = await start('default', clock);
    const { eks, elb } = clients(sb);
    sb.setFaults({ detachTargetGroupsOn: ['CreateAddon:vpc-cni'] });
    const tgs = await albTargetGroups(elb);
    await eks.send(new CreateAddonCommand({ clusterName: 'prod-eu', addonName: 'coredns', addonVersion: 'v1.8.0-eksbuild.1', resolveConflicts: 'OVERWRITE' }));
    expect(await healthyCounts(elb, tgs)).toEqual([5, 5, 5, 5]);
    const at = clock.now();
    await eks.send(new CreateAddonCommand({ clusterName: 'prod-eu', addonName: 'vpc-cni', addonVersion: 'v1.7.10-eksbuild.1', resolveConflicts: 'OVERWRITE' }));
    expect(await healthyCounts(elb, tgs)).toEqual([0, 0, 0, 0]);
    const recs = sb.faultRecords();
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ cause: 'forced', trigger: 'CreateAddon:vpc-cni' });
    expect(Date.parse(recs[0]!.modelAt)).toBe(at);
    expect(sb.faults().detachTargetGroupsOn).toEqual([]);
  });

  it('detachAt fires at a model moment, relative or now', async () => {
    const clock = new ManualClock();
    const sb = await start('default', clock);
    const { elb } = clients(sb);
    const tgs = await albTargetGroups(elb);
    sb.setFaults({ detachAt: '+90s' });
    clock.advance(89_000);
    expect(await healthyCounts(elb, tgs)).toEqual([5, 5, 5, 5]);
    clock.advance(1_000);
    expect(await healthyCounts(elb, tgs)).toEqual([0, 0, 0, 0]);
    expect(sb.faults().detachAt).toBeNull();
    expect(sb.faultRecords()[0]?.trigger).toMatch(/^detachAt /);
  });
});
