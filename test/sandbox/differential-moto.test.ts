/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-call -- the JSON printed by the aws CLI is untyped by nature; the assertions check its shape. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type {
  ElasticLoadBalancingV2Client} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/index.js';
import { aws, clients, until } from './helpers.js';

/**
 * The same ELBv2 sequence against moto_server and the sandbox; the parsed responses must have the
 * same shape (field paths and value types). Differences we mean to have are listed, with why;
 * any other difference fails the test.
 */
const DELIBERATE: Record<string, string> = {
  // Where AWS and moto differ, the sandbox follows AWS.
  'TargetHealthDescriptions[].Target.AvailabilityZone': 'AWS reports the zone of instance targets; moto omits it',
  'LoadBalancers[].AvailabilityZones[].LoadBalancerAddresses': 'AWS returns an (empty) list for ALBs; moto omits it',
  'Listeners[].AlpnPolicy': 'moto returns an empty list for every listener; AWS only for TLS listeners with an ALPN policy',
  'Listeners[].DefaultActions[].Order': 'AWS numbers actions (Order); moto omits it',
  'Rules[].Actions[].Order': 'AWS numbers actions (Order); moto omits it',
  'Rules[].Actions[].ForwardConfig': 'AWS returns ForwardConfig next to TargetGroupArn for forward actions; moto only echoes what it was given',
  'Rules[].Conditions[].Values': 'AWS returns the legacy Values next to HostHeaderConfig; moto only echoes what it was given',
  // Differences of set-up, not of behaviour: the sandbox ALB is the scenario's (HTTPS listener, security groups).
  'LoadBalancers[].SecurityGroups': 'the moto ALB is created without security groups',
  'Listeners[].Certificates': 'the sandbox listener compared is HTTPS; the moto one is HTTP',
  'Listeners[].DefaultActions[].FixedResponseConfig.MessageBody': 'the sandbox listener answers 404 with a body',
};

const usedDeliberate = new Set<string>();
function deliberate(path: string): boolean {
  const key = Object.keys(DELIBERATE).find((k) => path === k || path.startsWith(`${k}.`) || path.startsWith(`${k}[]`));
  if (key !== undefined) usedDeliberate.add(key);
  return key !== undefined;
}

type Shape = Map<string, Set<string>>;

function shapeOf(v: unknown, path = '', out: Shape = new Map()): Shape {
  const add = (t: string): void => {
    if (path === '') return;
    const s = out.get(path) ?? new Set<string>();
    s.add(t);
    out.set(path, s);
  };
  if (Array.isArray(v)) {
    add('array');
    for (const x of v) shapeOf(x, `${path}[]`, out);
  } else if (v instanceof Date) add('date');
  else if (v !== null && typeof v === 'object') {
    add('object');
    for (const [k, x] of Object.entries(v)) if (k !== '$metadata' && x !== undefined) shapeOf(x, path === '' ? k : `${path}.${k}`, out);
  } else add(typeof v);
  return out;
}

interface Diff {
  step: string;
  path: string;
  sandbox: string;
  moto: string;
}

function compare(step: string, sandbox: unknown, moto: unknown): Diff[] {
  const a = shapeOf(sandbox);
  const b = shapeOf(moto);
  const diffs: Diff[] = [];
  for (const path of new Set([...a.keys(), ...b.keys()])) {
    const ta = [...(a.get(path) ?? [])].sort().join('|') || '(absent)';
    const tb = [...(b.get(path) ?? [])].sort().join('|') || '(absent)';
    if (ta !== tb && !deliberate(path)) diffs.push({ step, path, sandbox: ta, moto: tb });
  }
  return diffs;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface World {
  elb: ElasticLoadBalancingV2Client;
  lbArn: string;
  tgArn: string;
  listenerArn: string;
  ruleArn: string;
  target: { Id: string; Port: number };
}

describe('differential: sandbox vs moto_server (ELBv2)', () => {
  let moto: ChildProcess;
  let motoEndpoint: string;
  let sb: RunningSandbox;

  beforeAll(async () => {
    const port = await freePort();
    moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    motoEndpoint = `http://127.0.0.1:${port}`;
    await until('moto_server to answer', async () => (await fetch(`${motoEndpoint}/moto-api/`).then((r) => r.ok).catch(() => false)) || undefined, 20_000);
    sb = await startSandbox({ scenario: 'default' });
  }, 30_000);

  afterAll(async () => {
    moto?.kill('SIGTERM');
    await sb?.close();
  });

  async function motoWorld(): Promise<World> {
    const fakeSb = { ...sb, endpoint: motoEndpoint };
    const vpc = (await aws(fakeSb, 'ec2', 'create-vpc', '--cidr-block', '10.0.0.0/16')).Vpc.VpcId as string;
    const subnets = await Promise.all(
      ['a', 'b'].map(async (z, i) => (await aws(fakeSb, 'ec2', 'create-subnet', '--vpc-id', vpc, '--cidr-block', `10.0.${i}.0/24`, '--availability-zone', `eu-west-1${z}`)).Subnet.SubnetId as string),
    );
    const ami = (await aws(fakeSb, 'ec2', 'describe-images', '--owners', 'amazon', '--max-items', '1')).Images[0].ImageId as string;
    const inst = await aws(fakeSb, 'ec2', 'run-instances', '--image-id', ami, '--count', '2', '--instance-type', 'm5.large', '--subnet-id', subnets[0]!);
    const ids = inst.Instances.map((i: any) => i.InstanceId as string);
    const { elb } = clients({ endpoint: motoEndpoint, region: 'eu-west-1' });
    const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'k8s-shop-main', Subnets: subnets, Type: 'application', Scheme: 'internet-facing' }))).LoadBalancers![0]!;
    await elb.send(new AddTagsCommand({ ResourceArns: [lb.LoadBalancerArn!], Tags: [{ Key: 'elbv2.k8s.aws/cluster', Value: 'prod-eu' }] }));
    const tg = (
      await elb.send(
        new CreateTargetGroupCommand({ Name: 'k8s-shop-web', Protocol: 'HTTP', Port: 30080, VpcId: vpc, TargetType: 'instance', HealthCheckPath: '/healthz', HealthCheckIntervalSeconds: 15, HealthyThresholdCount: 2, Matcher: { HttpCode: '200' } }),
      )
    ).TargetGroups![0]!;
    await elb.send(new AddTagsCommand({ ResourceArns: [tg.TargetGroupArn!], Tags: [{ Key: 'elbv2.k8s.aws/cluster', Value: 'prod-eu' }] }));
    const listener = (await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Port: 80, Protocol: 'HTTP', DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain' } }] }))).Listeners![0]!;
    const rule = (
      await elb.send(new CreateRuleCommand({ ListenerArn: listener.ListenerArn, Priority: 1, Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['shop.example.com'] } }], Actions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] }))
    ).Rules![0]!;
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: ids.map((Id: string) => ({ Id, Port: 30080 })) }));
    return { elb, lbArn: lb.LoadBalancerArn!, tgArn: tg.TargetGroupArn!, listenerArn: listener.ListenerArn!, ruleArn: rule.RuleArn!, target: { Id: ids[0]!, Port: 30080 } };
  }

  async function sandboxWorld(): Promise<World> {
    const { elb } = clients(sb);
    const lb = (await elb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers![0]!;
    const tg = (await elb.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).TargetGroups!.find((t) => t.TargetGroupName!.startsWith('k8s-shop-web'))!;
    const listener = (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).Listeners!.find((l) => l.Port === 443)!;
    const rule = (await elb.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules!.find((r) => r.Priority === '4')!;
    const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }));
    const t = health.TargetHealthDescriptions![0]!.Target!;
    return { elb, lbArn: lb.LoadBalancerArn!, tgArn: tg.TargetGroupArn!, listenerArn: listener.ListenerArn!, ruleArn: rule.RuleArn!, target: { Id: t.Id!, Port: t.Port! } };
  }

  /** The sequence: every ELBv2 operation both implement, in the order a runbook would use them. */
  async function sequence(w: World): Promise<[string, unknown][]> {
    const out: [string, unknown][] = [];
    const step = async (name: string, p: Promise<unknown>): Promise<void> => {
      out.push([name, await p.catch((e: { name?: string; $metadata?: { httpStatusCode?: number } }) => ({ error: e.name, status: e.$metadata?.httpStatusCode }))]);
    };
    await step('DescribeLoadBalancers', w.elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [w.lbArn] })));
    await step('DescribeListeners', w.elb.send(new DescribeListenersCommand({ ListenerArns: [w.listenerArn] })));
    await step('DescribeRules', w.elb.send(new DescribeRulesCommand({ RuleArns: [w.ruleArn] })));
    await step('DescribeTargetGroups', w.elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [w.tgArn] })));
    await step('DescribeTargetHealth', w.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: w.tgArn, Targets: [w.target] })));
    await step('DescribeTargetGroupAttributes', w.elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: w.tgArn })));
    await step('ModifyTargetGroupAttributes', w.elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: w.tgArn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '600' }] })));
    await step('DescribeTags', w.elb.send(new DescribeTagsCommand({ ResourceArns: [w.lbArn, w.tgArn] })));
    await step('DeregisterTargets', w.elb.send(new DeregisterTargetsCommand({ TargetGroupArn: w.tgArn, Targets: [w.target] })));
    await step('RegisterTargets', w.elb.send(new RegisterTargetsCommand({ TargetGroupArn: w.tgArn, Targets: [w.target] })));
    await step('ModifyRule', w.elb.send(new ModifyRuleCommand({ RuleArn: w.ruleArn, Actions: [{ Type: 'forward', TargetGroupArn: w.tgArn }] })));
    await step('ModifyListener', w.elb.send(new ModifyListenerCommand({ ListenerArn: w.listenerArn, DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain' } }] })));
    await step('Error: unknown target group', w.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: `${w.tgArn.slice(0, -4)}0000` })));
    await step('Error: bad attribute value', w.elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: w.tgArn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '99999' }] })));
    return out;
  }

  it('answers every step with the shape moto answers with, apart from the listed deliberate differences', async () => {
    const [m, s] = await Promise.all([motoWorld().then(sequence), sandboxWorld().then(sequence)]);
    expect(s.map(([n]) => n)).toEqual(m.map(([n]) => n));
    const diffs = s.flatMap(([name, sv], i) => compare(name, sv, m[i]![1]));
    expect(diffs).toEqual([]);
    // The list of deliberate differences stays honest: each one is actually seen.
    expect(Object.keys(DELIBERATE).filter((k) => !usedDeliberate.has(k))).toEqual([]);
    // Errors are the same errors, not merely the same shape.
    expect(s.find(([n]) => n === 'Error: unknown target group')?.[1]).toEqual(m.find(([n]) => n === 'Error: unknown target group')?.[1]);
    expect(s.find(([n]) => n === 'Error: unknown target group')?.[1]).toEqual({ error: 'TargetGroupNotFoundException', status: 400 });
  }, 60_000);

  it('drains where moto cannot: a deregistered target is draining in the sandbox, gone at once in moto', async () => {
    const { elb } = clients(sb);
    const w = await sandboxWorld();
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: w.tgArn, Targets: [w.target] }));
    const h = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: w.tgArn, Targets: [w.target] }));
    expect(h.TargetHealthDescriptions?.[0]?.TargetHealth?.State).toBe('draining');
  });
});
