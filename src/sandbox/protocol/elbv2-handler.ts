import { isoUtc } from '../../ports/clock.js';
import * as elb from '../model/elbv2.js';
import { ApiError } from '../model/errors.js';
import type { Action, Listener, LoadBalancer, Rule, TargetGroup, World } from '../model/types.js';
import { decodeQuery } from './query.js';
import type { ErrorEncoder, HandlerContext, ResolvedCall, WireRequest, WireResponse } from './types.js';
import { queryError, queryResponse } from './xml.js';

export const ELBV2_NAMESPACE = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';

/** Canonical hosted zone of ALBs in each region (the one AWS publishes; eu-west-1 shown, others share a fallback). */
const ALB_ZONE: Record<string, string> = { 'eu-west-1': 'Z32O12XQLNTSW2', 'us-east-1': 'Z35SXDOTRQ7X7K', 'eu-central-1': 'Z215JYRZR1TBD5' };

export const elbv2Errors: ErrorEncoder = {
  error(code, message, status, requestId) {
    const type = status >= 500 ? 'Receiver' : 'Sender';
    return { status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body: queryError(ELBV2_NAMESPACE, type, code, message, requestId) };
  },
};

type Params = Record<string, unknown>;
type Op = (ctx: HandlerContext, p: Params) => Record<string, unknown>;

function list<T>(v: unknown): T[] | undefined {
  if (v === undefined || v === '') return v === '' ? [] : undefined;
  return Array.isArray(v) ? (v as T[]) : [v as T];
}
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : undefined);

function actionsIn(v: unknown): Partial<Action>[] | undefined {
  const raw = list<Record<string, unknown>>(v);
  return raw?.map((a) => {
    const fc = a['ForwardConfig'] as Record<string, unknown> | undefined;
    return {
      ...(a as Partial<Action>),
      ...(fc ? { ForwardConfig: { ...(fc as object), TargetGroups: list(fc['TargetGroups']) ?? [] } } : {}),
    };
  });
}

const OPS: Record<string, { mutating: boolean; op: Op }> = {
  DescribeLoadBalancers: {
    mutating: false,
    op: ({ world }, p) => {
      const page = elb.describeLoadBalancers(world, { LoadBalancerArns: list(p['LoadBalancerArns']), Names: list(p['Names']), Marker: str(p['Marker']), PageSize: num(p['PageSize']) });
      return { LoadBalancers: page.items.map((lb) => lbView(world, lb)), NextMarker: page.nextMarker };
    },
  },
  DescribeListeners: {
    mutating: false,
    op: ({ world }, p) => {
      const page = elb.describeListeners(world, { LoadBalancerArn: str(p['LoadBalancerArn']), ListenerArns: list(p['ListenerArns']), Marker: str(p['Marker']), PageSize: num(p['PageSize']) });
      return { Listeners: page.items.map(listenerView), NextMarker: page.nextMarker };
    },
  },
  DescribeRules: {
    mutating: false,
    op: ({ world }, p) => {
      const page = elb.describeRules(world, { ListenerArn: str(p['ListenerArn']), RuleArns: list(p['RuleArns']), Marker: str(p['Marker']), PageSize: num(p['PageSize']) });
      return { Rules: page.items.map(ruleView), NextMarker: page.nextMarker };
    },
  },
  DescribeTargetGroups: {
    mutating: false,
    op: ({ world }, p) => {
      const page = elb.describeTargetGroups(world, {
        LoadBalancerArn: str(p['LoadBalancerArn']),
        TargetGroupArns: list(p['TargetGroupArns']),
        Names: list(p['Names']),
        Marker: str(p['Marker']),
        PageSize: num(p['PageSize']),
      });
      const usage = elb.loadBalancersOf(world);
      return { TargetGroups: page.items.map((tg) => targetGroupView(tg, [...(usage.get(tg.arn) ?? [])])), NextMarker: page.nextMarker };
    },
  },
  DescribeTargetHealth: {
    mutating: false,
    op: ({ world, clock }, p) => {
      const views = elb.describeTargetHealth(world, clock.now(), { TargetGroupArn: str(p['TargetGroupArn']), Targets: list(p['Targets']) });
      return {
        TargetHealthDescriptions: views.map((v) => ({
          Target: { Id: v.id, Port: v.port, AvailabilityZone: v.zone },
          HealthCheckPort: String(v.port),
          TargetHealth: { State: v.state, Reason: v.reason, Description: v.description },
        })),
      };
    },
  },
  DescribeTargetGroupAttributes: {
    mutating: false,
    op: ({ world }, p) => ({ Attributes: elb.describeTargetGroupAttributes(world, str(p['TargetGroupArn'])) }),
  },
  ModifyTargetGroupAttributes: {
    mutating: true,
    op: ({ world }, p) => ({ Attributes: elb.modifyTargetGroupAttributes(world, str(p['TargetGroupArn']), list(p['Attributes'])) }),
  },
  RegisterTargets: {
    mutating: true,
    op: ({ world, clock }, p) => {
      elb.registerTargets(world, clock.now(), str(p['TargetGroupArn']), list(p['Targets']));
      return {};
    },
  },
  DeregisterTargets: {
    mutating: true,
    op: ({ world, clock }, p) => {
      elb.deregisterTargets(world, clock.now(), str(p['TargetGroupArn']), list(p['Targets']));
      return {};
    },
  },
  DescribeTags: {
    mutating: false,
    op: ({ world }, p) => ({ TagDescriptions: elb.describeTags(world, list(p['ResourceArns'])) }),
  },
  ModifyListener: {
    mutating: true,
    op: ({ world, clock }, p) => {
      const l = elb.modifyListener(world, clock.now(), {
        ListenerArn: str(p['ListenerArn']),
        Port: num(p['Port']),
        Protocol: str(p['Protocol']),
        SslPolicy: str(p['SslPolicy']),
        Certificates: list(p['Certificates']),
        DefaultActions: actionsIn(p['DefaultActions']),
      });
      return { Listeners: [listenerView(l)] };
    },
  },
  ModifyRule: {
    mutating: true,
    op: ({ world, clock }, p) => {
      const conditions = list<Record<string, unknown>>(p['Conditions'])?.map((c) => normaliseCondition(c));
      const r = elb.modifyRule(world, clock.now(), { RuleArn: str(p['RuleArn']), Conditions: conditions, Actions: actionsIn(p['Actions']) });
      return { Rules: [ruleView(r)] };
    },
  },
};

function normaliseCondition(c: Record<string, unknown>): Rule['conditions'][number] {
  const field = str(c['Field']) ?? '';
  const cfg = (k: string): string[] | undefined => list<string>((c[k] as Record<string, unknown> | undefined)?.['Values']);
  const values = list<string>(c['Values']) ?? cfg('HostHeaderConfig') ?? cfg('PathPatternConfig') ?? [];
  const out: Rule['conditions'][number] = { Field: field, Values: values };
  if (field === 'host-header') out.HostHeaderConfig = { Values: values };
  if (field === 'path-pattern') out.PathPatternConfig = { Values: values };
  return out;
}

export function resolveElbv2(req: WireRequest): ResolvedCall {
  const { action, params } = decodeQuery(req.body);
  const entry = Object.hasOwn(OPS, action) ? OPS[action] : undefined;
  return {
    service: 'elasticloadbalancing',
    operation: action || '(none)',
    mutating: entry?.mutating ?? /^(Create|Delete|Modify|Register|Deregister|Add|Remove|Set)/.test(action),
    throttled: action.startsWith('Describe'),
    params,
    run(ctx: HandlerContext): WireResponse {
      if (!entry) throw new ApiError('InvalidAction', `The action ${action || '(none)'} is not valid for this web service (the sandbox implements: ${Object.keys(OPS).join(', ')}).`);
      const result = entry.op(ctx, params);
      return { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': ctx.requestId }, body: queryResponse(ELBV2_NAMESPACE, action, result, ctx.requestId) };
    },
  };
}

// ---------------------------------------------------------------- views (model → wire shapes)

function lbView(world: World, lb: LoadBalancer): Record<string, unknown> {
  return {
    LoadBalancerArn: lb.arn,
    DNSName: lb.dnsName,
    CanonicalHostedZoneId: ALB_ZONE[world.region] ?? 'Z32O12XQLNTSW2',
    CreatedTime: isoUtc(lb.createdAt),
    LoadBalancerName: lb.name,
    Scheme: lb.scheme,
    VpcId: lb.vpcId,
    State: { Code: 'active' },
    Type: 'application',
    AvailabilityZones: lb.subnets.map((s) => ({ ZoneName: s.zone, SubnetId: s.subnetId, LoadBalancerAddresses: [] })),
    SecurityGroups: lb.securityGroups,
    IpAddressType: 'ipv4',
  };
}

function actionView(a: Action): Record<string, unknown> {
  return {
    Type: a.Type,
    TargetGroupArn: a.TargetGroupArn,
    Order: a.Order,
    RedirectConfig: a.RedirectConfig,
    FixedResponseConfig: a.FixedResponseConfig,
    ForwardConfig: a.ForwardConfig,
  };
}

function listenerView(l: Listener): Record<string, unknown> {
  return {
    ListenerArn: l.arn,
    LoadBalancerArn: l.loadBalancerArn,
    Port: l.port,
    Protocol: l.protocol,
    Certificates: l.certificates.length ? l.certificates : undefined,
    SslPolicy: l.sslPolicy ?? undefined,
    DefaultActions: l.defaultActions.map(actionView),
  };
}

function ruleView(r: Rule): Record<string, unknown> {
  return { RuleArn: r.arn, Priority: r.priority, Conditions: r.conditions, Actions: r.actions.map(actionView), IsDefault: r.isDefault };
}

function targetGroupView(tg: TargetGroup, lbArns: string[]): Record<string, unknown> {
  return {
    TargetGroupArn: tg.arn,
    TargetGroupName: tg.name,
    Protocol: tg.protocol,
    Port: tg.port,
    VpcId: tg.vpcId,
    HealthCheckProtocol: tg.healthCheck.protocol,
    HealthCheckPort: tg.healthCheck.port,
    HealthCheckEnabled: true,
    HealthCheckIntervalSeconds: tg.healthCheck.intervalSeconds,
    HealthCheckTimeoutSeconds: tg.healthCheck.timeoutSeconds,
    HealthyThresholdCount: tg.healthCheck.healthyThreshold,
    UnhealthyThresholdCount: tg.healthCheck.unhealthyThreshold,
    HealthCheckPath: tg.healthCheck.path,
    Matcher: { HttpCode: tg.healthCheck.matcher },
    LoadBalancerArns: lbArns,
    TargetType: tg.targetType,
    ProtocolVersion: 'HTTP1',
    IpAddressType: 'ipv4',
  };
}
