import { DescribeClusterCommand, ListClustersCommand, ListNodegroupsCommand, paginateListNodegroups } from '@aws-sdk/client-eks';
import {
  DeregisterTargetsCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
  paginateDescribeTargetGroups,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaleScenario, startSandbox, type RunningSandbox } from '../../src/sandbox/index.js';
import { clients, ManualClock } from './helpers.js';

describe('AWS SDK v3 against the default scenario', () => {
  let sb: RunningSandbox;
  const clock = new ManualClock();
  beforeAll(async () => {
    sb = await startSandbox({ scenario: 'default', speed: 1, clock });
  });
  afterAll(async () => {
    await sb.close();
  });

  it('STS says which account the caller acts on', async () => {
    const { sts } = clients(sb);
    const id = await sts.send(new GetCallerIdentityCommand({}));
    expect(id).toMatchObject({ Account: '111122223333', Arn: 'arn:aws:iam::111122223333:user/sandbox-operator' });
    expect(id.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('EKS answers with request ids and typed errors', async () => {
    const { eks } = clients(sb);
    expect((await eks.send(new ListClustersCommand({}))).clusters).toEqual(['prod-eu']);
    const c = await eks.send(new DescribeClusterCommand({ name: 'prod-eu' }));
    expect(c.cluster?.createdAt).toBeInstanceOf(Date);
    expect(c.cluster?.endpoint).toBe(`${sb.endpoint}/k8s/prod-eu`);
    const err = await eks.send(new DescribeClusterCommand({ name: 'staging' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ResourceNotFoundException', message: 'No cluster found for name: staging.', $metadata: { httpStatusCode: 404 } });
    const pages: string[][] = [];
    for await (const p of paginateListNodegroups({ client: eks, pageSize: 1 }, { clusterName: 'prod-eu' })) pages.push(p.nodegroups ?? []);
    expect(pages).toEqual([['ng-batch'], ['ng-general']]);
    expect((await eks.send(new ListNodegroupsCommand({ clusterName: 'prod-eu' }))).nodegroups).toHaveLength(2);
  });

  it('ELBv2: describe, attributes (validated), tags, register/deregister with draining, listener changes', async () => {
    const { elb } = clients(sb);
    const lbs = await elb.send(new DescribeLoadBalancersCommand({}));
    const lb = lbs.LoadBalancers![0]!;
    expect(lb).toMatchObject({ Type: 'application', Scheme: 'internet-facing', State: { Code: 'active' } });
    expect(lb.CreatedTime).toBeInstanceOf(Date);
    const tags = await elb.send(new DescribeTagsCommand({ ResourceArns: [lb.LoadBalancerArn!] }));
    expect(tags.TagDescriptions![0]!.Tags).toEqual(expect.arrayContaining([{ Key: 'elbv2.k8s.aws/cluster', Value: 'prod-eu' }, { Key: 'ingress.k8s.aws/stack', Value: 'shop/main' }]));

    const tg = (await elb.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).TargetGroups![0]!;
    const attrs = await elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn }));
    expect(attrs.Attributes).toContainEqual({ Key: 'deregistration_delay.timeout_seconds', Value: '600' });
    await expect(elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '3601' }] }))).rejects.toMatchObject({ name: 'InvalidConfigurationRequestException' });
    await expect(elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn, Attributes: [{ Key: 'no.such.key', Value: '1' }] }))).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn + 'x' }))).rejects.toMatchObject({ name: 'TargetGroupNotFoundException', $metadata: { httpStatusCode: 400 } });
    await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '120' }] }));

    const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }));
    const victim = health.TargetHealthDescriptions![0]!.Target!;
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: victim.Id!, Port: victim.Port! }] }));
    const draining = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: victim.Id!, Port: victim.Port! }] }));
    expect(draining.TargetHealthDescriptions![0]!.TargetHealth).toEqual({ State: 'draining', Reason: 'Target.DeregistrationInProgress', Description: 'Target deregistration is in progress' });
    clock.advance(120_000);
    expect((await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }))).TargetHealthDescriptions).toHaveLength(4);
    await expect(elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: 'i-0000000000000dead' }] }))).rejects.toMatchObject({ name: 'InvalidTargetException' });
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: victim.Id!, Port: victim.Port! }] }));
    const back = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: victim.Id! }] }));
    expect(back.TargetHealthDescriptions![0]!.TargetHealth?.State).toBe('initial');
    clock.advance(30_000);
    expect((await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: victim.Id! }] }))).TargetHealthDescriptions![0]!.TargetHealth?.State).toBe('healthy');

    // Point the HTTP listener's default action at the group, then back.
    const { Listeners } = await elb.send(new ModifyListenerCommand({ ListenerArn: (await listener80(sb)).ListenerArn, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] }));
    expect(Listeners![0]!.DefaultActions![0]).toMatchObject({ Type: 'forward', TargetGroupArn: tg.TargetGroupArn, ForwardConfig: { TargetGroups: [{ TargetGroupArn: tg.TargetGroupArn, Weight: 1 }] } });
  });

  it('journals every mutating call, and only those', async () => {
    const ops = sb.journal().map((j) => `${j.service}:${j.operation}:${j.status}`);
    expect(ops).toEqual([
      'elasticloadbalancing:ModifyTargetGroupAttributes:400',
      'elasticloadbalancing:ModifyTargetGroupAttributes:400',
      'elasticloadbalancing:ModifyTargetGroupAttributes:200',
      'elasticloadbalancing:DeregisterTargets:200',
      'elasticloadbalancing:RegisterTargets:400',
      'elasticloadbalancing:RegisterTargets:200',
      'elasticloadbalancing:ModifyListener:200',
    ]);
    expect(sb.journal()[2]!.params).toMatchObject({ TargetGroupArn: expect.stringContaining(':targetgroup/'), Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '120' }] });
  });
});

async function listener80(sb: RunningSandbox) {
  const { elb } = clients(sb);
  const lb = (await elb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers![0]!;
  const { DescribeListenersCommand } = await import('@aws-sdk/client-elastic-load-balancing-v2');
  return (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).Listeners!.find((l) => l.Port === 80)!;
}

describe('AWS SDK v3: pagination, throttling, injected errors', () => {
  let sb: RunningSandbox;
  beforeAll(async () => {
    sb = await startSandbox({ scenario: scaleScenario({ targetGroups: 450, targetsPerGroup: 2 }) });
  });
  afterAll(async () => {
    await sb.close();
  });

  it('DescribeTargetGroups pages with Marker/PageSize (PageSize in the input; at most 400)', async () => {
    const { elb } = clients(sb);
    const sizes: number[] = [];
    for await (const page of paginateDescribeTargetGroups({ client: elb }, { PageSize: 100 })) sizes.push(page.TargetGroups?.length ?? 0);
    expect(sizes).toEqual([100, 100, 100, 100, 50]);
    const all: string[] = [];
    for await (const page of paginateDescribeTargetGroups({ client: elb }, {})) all.push(...(page.TargetGroups ?? []).map((t) => t.TargetGroupName!));
    expect(all).toHaveLength(450);
    expect(new Set(all).size).toBe(450);
    await expect(elb.send(new DescribeTargetGroupsCommand({ PageSize: 401 }))).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('throttles Describe* with a token bucket (40, refill 10/s) answered as Throttling; the SDK retries through it', async () => {
    sb.setFaults({ throttling: true });
    try {
      const tgArn = (await clients(sb).elb.send(new DescribeTargetGroupsCommand({ PageSize: 1 }))).TargetGroups![0]!.TargetGroupArn!;
      const impatient = clients(sb, { attempts: 1 }).elb;
      const results = await Promise.allSettled(Array.from({ length: 60 }, () => impatient.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }))));
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(38);
      expect(rejected.length).toBeGreaterThanOrEqual(15);
      expect(rejected[0]!.reason).toMatchObject({ name: 'Throttling', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });

      // One client per caller: each has its own retry quota, as separate processes would.
      const ok = await Promise.all(Array.from({ length: 12 }, () => clients(sb, { attempts: 30, backoffMs: 100 }).elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }))));
      expect(ok.every((r) => r.TargetHealthDescriptions?.length === 2)).toBe(true);
      expect(ok.some((r) => (r.$metadata.attempts ?? 1) > 1)).toBe(true);

      const eksImpatient = clients(sb, { attempts: 1 }).eks;
      const eksResults = await Promise.allSettled(Array.from({ length: 50 }, () => eksImpatient.send(new DescribeClusterCommand({ name: 'prod-eu' }))));
      const eksErr = eksResults.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(eksErr?.reason).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } });
      expect(sb.faultRecords().some((r) => r.kind === 'throttled')).toBe(true);
    } finally {
      sb.setFaults({ throttling: false });
    }
  }, 30_000);

  it('injects 5xx at a rate; the SDK retries them; latency is added', async () => {
    sb.setFaults({ errorRate: 1 });
    const { eks } = clients(sb, { attempts: 2 });
    await expect(eks.send(new DescribeClusterCommand({ name: 'prod-eu' }))).rejects.toMatchObject({ name: 'ServiceUnavailableException', $metadata: { httpStatusCode: 503, attempts: 2 } });
    sb.setFaults({ errorRate: 0.5 });
    const patient = clients(sb, { attempts: 20, backoffMs: 1 }).elb;
    const out = await Promise.all(Array.from({ length: 10 }, () => patient.send(new DescribeLoadBalancersCommand({}))));
    expect(out.map((o) => o.LoadBalancers?.length)).toEqual(Array(10).fill(5));
    expect(out.some((o) => (o.$metadata.attempts ?? 1) > 1)).toBe(true);
    sb.setFaults({ errorRate: 0, latencyMs: 150 });
    const t0 = Date.now();
    await eks.send(new ListClustersCommand({}));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    sb.setFaults({ latencyMs: 0 });
  });
});
