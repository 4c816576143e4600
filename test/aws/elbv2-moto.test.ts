// The ELBv2 helpers and target-group steps against moto_server over HTTP: a cluster's ALB found
// by its controller tag, a snapshot of its target groups, a detachment, and the restore.
import { readFile } from 'node:fs/promises';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  ModifyRuleCommand,
  RegisterTargetsCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeTargetGroupAttributes, describeTargetGroups, findClusterLoadBalancers } from '../../src/aws/elbv2.js';
import { elbv2DescribeBudget } from '../../src/aws/limiter.js';
import type { AwsClients } from '../../src/aws/types.js';
import { deregistrationDelayFix } from '../../src/steps/deregistration-delay.js';
import { targetGroupSnapshotStep } from '../../src/steps/snapshot.js';
import { targetGroupGuard } from '../../src/steps/target-group-guard.js';
import { noKube, testRun, type TestRun } from '../steps/helpers.js';
import { hasMoto, startMoto, type Moto } from './moto.js';

describe.skipIf(!hasMoto)('ELBv2 helpers and target-group steps against moto', () => {
  let moto: Moto;
  let aws: AwsClients;
  let elb: ElasticLoadBalancingV2Client;
  let run: TestRun;
  const tg: Record<string, string> = {};
  let ruleArn = '';
  let lbArn = '';

  beforeAll(async () => {
    moto = await startMoto();
    aws = moto.clients();
    elb = await aws.elbv2();
    // No EC2 SDK client in this project: the aws CLI makes the VPC the ALB needs.
    const vpc = (await moto.cli(['ec2', 'create-vpc', '--cidr-block', '10.0.0.0/16'])) as { Vpc: { VpcId: string } };
    const vpcId = vpc.Vpc.VpcId;
    const subnets: { Subnet?: { SubnetId?: string } }[] = [];
    for (const [i, z] of ['a', 'b'].entries()) {
      subnets.push((await moto.cli(['ec2', 'create-subnet', '--vpc-id', vpcId, '--cidr-block', `10.0.${i}.0/24`, '--availability-zone', `eu-west-1${z}`])) as { Subnet: { SubnetId: string } });
    }
    const mkLb = async (name: string, cluster: string) =>
      (
        await elb.send(
          new CreateLoadBalancerCommand({
            Name: name,
            Subnets: subnets.map((s) => s.Subnet?.SubnetId ?? ''),
            Tags: [{ Key: 'elbv2.k8s.aws/cluster', Value: cluster }],
          }),
        )
      ).LoadBalancers?.[0]?.LoadBalancerArn ?? '';
    lbArn = await mkLb('k8s-prod-web', 'prod-eu');
    const otherLb = await mkLb('k8s-staging-web', 'staging');
    for (const name of ['tg-web', 'tg-api', 'tg-other']) {
      const res = await elb.send(new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 8080, VpcId: vpcId, TargetType: 'ip' }));
      tg[name] = res.TargetGroups?.[0]?.TargetGroupArn ?? '';
    }
    const listener = await elb.send(
      new CreateListenerCommand({ LoadBalancerArn: lbArn, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg['tg-web'] }] }),
    );
    const rule = await elb.send(
      new CreateRuleCommand({
        ListenerArn: listener.Listeners?.[0]?.ListenerArn,
        Priority: 10,
        Conditions: [{ Field: 'path-pattern', Values: ['/api/*'] }],
        Actions: [{ Type: 'forward', TargetGroupArn: tg['tg-api'] }],
      }),
    );
    ruleArn = rule.Rules?.[0]?.RuleArn ?? '';
    await elb.send(new CreateListenerCommand({ LoadBalancerArn: otherLb, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg['tg-other'] }] }));
    for (const name of ['tg-web', 'tg-api', 'tg-other']) {
      await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg[name], Targets: [{ Id: '10.0.0.10', Port: 8080 }, { Id: '10.0.1.11', Port: 8080 }] }));
    }
    run = await testRun({ params: { cluster: 'prod-eu', region: 'eu-west-1', requiredDeregistrationDelay: 600 }, aws, kube: noKube });
  }, 60_000);

  afterAll(async () => {
    await run?.cleanup();
    await moto?.close();
  });

  it('finds only the load balancers tagged for the cluster', async () => {
    const io = { client: elb, budget: elbv2DescribeBudget(aws) };
    const lbs = await findClusterLoadBalancers(io, 'prod-eu');
    expect(lbs.map((l) => l.LoadBalancerName)).toEqual(['k8s-prod-web']);
    const tgs = await describeTargetGroups(io, { LoadBalancerArn: lbArn });
    expect(tgs.map((t) => t.TargetGroupName).sort()).toEqual(['tg-api', 'tg-web']);
  });

  it('known fix: reports the groups below the required delay, applies it, rolls each back', async () => {
    const fix = deregistrationDelayFix();
    const ctx = run.ctx('fix.deregistration-delay');
    const missing = await fix.check(ctx);
    expect(missing.ok).toBe(false);
    if (missing.ok) return;
    expect(missing.findings.map((f) => f['targetGroup']).sort()).toEqual(['tg-api', 'tg-web']);
    expect(missing.findings.every((f) => f['current'] === 300 && f['required'] === 600)).toBe(true);

    const applied = await fix.apply!.run(ctx, missing);
    expect(applied.changed.map((c) => c.previous)).toEqual(['300', '300']);
    expect(await fix.check(ctx)).toMatchObject({ ok: true });
    const io = { client: elb, budget: elbv2DescribeBudget(aws) };
    expect((await describeTargetGroupAttributes(io, tg['tg-other']!))['deregistration_delay.timeout_seconds']).toBe('300');

    await fix.apply!.rollback!(ctx, applied);
    expect(await fix.check(ctx)).toMatchObject({ ok: false });
    await fix.apply!.run(ctx, missing); // leave it applied for the snapshot below
  });

  it('snapshot records attachments, targets and attributes, and writes the artefact', async () => {
    const snap = await run.run(targetGroupSnapshotStep());
    expect(snap.targetGroups.map((t) => t.name)).toEqual(['tg-api', 'tg-web']);
    const api = snap.targetGroups.find((t) => t.name === 'tg-api')!;
    expect(api.attachments).toHaveLength(1);
    expect(api.attachments[0]).toMatchObject({ ruleArn, isDefault: false, priority: '10' });
    expect(api.targets.map((t) => `${t.id}:${t.port}`).sort()).toEqual(['10.0.0.10:8080', '10.0.1.11:8080']);
    expect(api.attributes['deregistration_delay.timeout_seconds']).toBe('600');
    const web = snap.targetGroups.find((t) => t.name === 'tg-web')!;
    expect(web.attachments[0]?.isDefault).toBe(true);
    const onDisk = JSON.parse(await readFile(snap.artefact!, 'utf8')) as { targetGroups: unknown[] };
    expect(onDisk.targetGroups).toHaveLength(2);
  });

  it('guard: sees a detached group, restores the rule and the targets from the snapshot', async () => {
    const snapshot = targetGroupSnapshotStep();
    const guard = targetGroupGuard(snapshot);
    const gctx = run.guardCtx(guard.id);
    expect(await guard.poll(gctx)).toBeNull();

    // The incident: the API rule stops forwarding, the targets go.
    await elb.send(
      new ModifyRuleCommand({ RuleArn: ruleArn, Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain' } }] }),
    );
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: tg['tg-api'], Targets: [{ Id: '10.0.0.10', Port: 8080 }, { Id: '10.0.1.11', Port: 8080 }] }));

    const finding = await guard.poll(gctx);
    expect(finding?.summary).toMatch(/tg-api lost its attachment/);
    expect(finding?.summary).not.toMatch(/tg-web/);

    await guard.remediate!(gctx, finding!);
    expect(run.notes.some((n) => /Restored tg-api from the snapshot: 1 forwarding rule\(s\) restored, 2 target\(s\) re-registered/.test(n.message))).toBe(true);
    expect(await guard.poll(gctx)).toBeNull();
  });
});
