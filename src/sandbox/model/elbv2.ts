import { ApiError } from './errors.js';
import type { Action, Condition, Listener, LoadBalancer, Rule, TargetGroup, World } from './types.js';
import { deregisterTarget, forwardTargets, registerTarget, restartHealthChecks, targetGroupUsage } from './world.js';

/** ELBv2 operations on the model. Error codes are ELBv2's (`TargetGroupNotFound`, `ValidationError`, …). */

export interface Page<T> {
  items: T[];
  nextMarker: string | undefined;
}

/** Markers are opaque to callers; here they are the offset of the next item. */
export function paginate<T>(items: T[], marker: string | undefined, pageSize: number | undefined, max = 400): Page<T> {
  if (pageSize !== undefined && (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > max)) {
    throw new ApiError('ValidationError', `1 validation error detected: Value '${pageSize}' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and ${max}`);
  }
  let start = 0;
  if (marker !== undefined && marker !== '') {
    const decoded = Number(Buffer.from(marker, 'base64').toString('utf8').replace(/^m:/, ''));
    if (!Number.isInteger(decoded) || decoded < 0) throw new ApiError('ValidationError', 'The specified marker is not valid');
    start = decoded;
  }
  const size = pageSize ?? max;
  const page = items.slice(start, start + size);
  const next = start + size < items.length ? Buffer.from(`m:${start + size}`).toString('base64') : undefined;
  return { items: page, nextMarker: next };
}

function mustTargetGroup(world: World, arn: string | undefined): TargetGroup {
  const tg = arn !== undefined && Object.hasOwn(world.elb.targetGroups, arn) ? world.elb.targetGroups[arn] : undefined;
  if (!tg) throw new ApiError('TargetGroupNotFound', `Target groups '${arn ?? ''}' not found`);
  return tg;
}

function mustLoadBalancer(world: World, arn: string): LoadBalancer {
  const lb = Object.hasOwn(world.elb.loadBalancers, arn) ? world.elb.loadBalancers[arn] : undefined;
  if (!lb) throw new ApiError('LoadBalancerNotFound', `Load balancer '${arn}' not found`);
  return lb;
}

function mustListener(world: World, arn: string): Listener {
  const l = Object.hasOwn(world.elb.listeners, arn) ? world.elb.listeners[arn] : undefined;
  if (!l) throw new ApiError('ListenerNotFound', `Listener '${arn}' not found`);
  return l;
}

export function describeLoadBalancers(world: World, q: { LoadBalancerArns?: string[]; Names?: string[]; Marker?: string; PageSize?: number }): Page<LoadBalancer> {
  let items = Object.values(world.elb.loadBalancers);
  if (q.LoadBalancerArns?.length) items = q.LoadBalancerArns.map((a) => mustLoadBalancer(world, a));
  else if (q.Names?.length) {
    items = q.Names.map((n) => {
      const lb = Object.values(world.elb.loadBalancers).find((x) => x.name === n);
      if (!lb) throw new ApiError('LoadBalancerNotFound', `Load balancers '[${n}]' not found`);
      return lb;
    });
  }
  return paginate(items, q.Marker, q.PageSize);
}

export function describeListeners(world: World, q: { LoadBalancerArn?: string; ListenerArns?: string[]; Marker?: string; PageSize?: number }): Page<Listener> {
  if (q.LoadBalancerArn === undefined && !q.ListenerArns?.length) {
    throw new ApiError('ValidationError', 'You must specify either listener ARNs or a load balancer ARN');
  }
  const items = q.ListenerArns?.length
    ? q.ListenerArns.map((a) => mustListener(world, a))
    : mustLoadBalancer(world, q.LoadBalancerArn ?? '').listenerArns.map((a) => mustListener(world, a));
  return paginate(items, q.Marker, q.PageSize);
}

/** Rules in AWS order: by priority, the listener's default rule last. */
export function describeRules(world: World, q: { ListenerArn?: string; RuleArns?: string[]; Marker?: string; PageSize?: number }): Page<Rule> {
  if (q.ListenerArn === undefined && !q.RuleArns?.length) throw new ApiError('ValidationError', 'You must specify either listener ARN or rule ARNs');
  let items: Rule[];
  if (q.RuleArns?.length) {
    items = q.RuleArns.map((a) => {
      const r = findRule(world, a);
      if (!r) throw new ApiError('RuleNotFound', `One or more rules not found`);
      return r;
    });
  } else {
    const l = mustListener(world, q.ListenerArn ?? '');
    items = l.ruleArns
      .map((a) => world.elb.rules[a])
      .filter((r): r is Rule => r !== undefined)
      .sort((a, b) => Number(a.priority) - Number(b.priority));
    items.push(defaultRule(l));
  }
  return paginate(items, q.Marker, q.PageSize);
}

/** The default rule is the listener's default actions seen as a rule; its ARN derives from the listener's. */
export function defaultRule(l: Listener): Rule {
  return { arn: defaultRuleArn(l.arn), listenerArn: l.arn, priority: 'default', isDefault: true, conditions: [], actions: l.defaultActions };
}

function defaultRuleArn(listenerArn: string): string {
  return `${listenerArn.replace(':listener/', ':listener-rule/')}/${[...listenerArn].reverse().join('').replace(/[^0-9a-f]/g, '').slice(0, 16).padEnd(16, '0')}`;
}

function findRule(world: World, arn: string): Rule | undefined {
  if (Object.hasOwn(world.elb.rules, arn)) return world.elb.rules[arn];
  const l = Object.values(world.elb.listeners).find((x) => defaultRuleArn(x.arn) === arn);
  return l ? defaultRule(l) : undefined;
}

export function describeTargetGroups(world: World, q: { LoadBalancerArn?: string; TargetGroupArns?: string[]; Names?: string[]; Marker?: string; PageSize?: number }): Page<TargetGroup> {
  let items: TargetGroup[];
  if (q.TargetGroupArns?.length) {
    items = q.TargetGroupArns.map((a) => mustTargetGroup(world, a));
  } else if (q.Names?.length) {
    items = q.Names.map((n) => {
      const tg = Object.values(world.elb.targetGroups).find((x) => x.name === n);
      if (!tg) throw new ApiError('TargetGroupNotFound', `One or more target groups not found`);
      return tg;
    });
  } else if (q.LoadBalancerArn !== undefined) {
    mustLoadBalancer(world, q.LoadBalancerArn);
    const usage = targetGroupUsage(world);
    items = world.elb.targetGroupOrder.map((a) => world.elb.targetGroups[a]).filter((tg): tg is TargetGroup => tg !== undefined && (usage.get(tg.arn)?.has(q.LoadBalancerArn ?? '') ?? false));
  } else {
    items = world.elb.targetGroupOrder.map((a) => world.elb.targetGroups[a]).filter((tg): tg is TargetGroup => tg !== undefined);
  }
  return paginate(items, q.Marker, q.PageSize);
}

export interface TargetHealthView {
  id: string;
  port: number;
  zone: string | undefined;
  state: 'initial' | 'healthy' | 'unhealthy' | 'unused' | 'draining' | 'unavailable';
  reason: string | undefined;
  description: string | undefined;
}

/** Health is derived from timestamps at `now`; nothing ticks in the background. */
export function describeTargetHealth(world: World, now: number, q: { TargetGroupArn?: string; Targets?: { Id?: string; Port?: number }[] }): TargetHealthView[] {
  const tg = mustTargetGroup(world, q.TargetGroupArn);
  tg.targets = tg.targets.filter((t) => t.drainUntil === null || t.drainUntil > now);
  const inUse = targetGroupUsage(world).has(tg.arn);
  const view = (t: TargetGroup['targets'][number]): TargetHealthView => {
    const inst = Object.hasOwn(world.instances, t.id) ? world.instances[t.id] : undefined;
    const base = { id: t.id, port: t.port, zone: inst?.zone };
    if (t.drainUntil !== null) return { ...base, state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' };
    if (!inUse) return { ...base, state: 'unused', reason: 'Target.NotInUse', description: 'Target group is not configured to receive traffic from the load balancer' };
    if (inst && inst.state !== 'running') return { ...base, state: 'unused', reason: 'Target.InvalidState', description: `Target is in the ${inst.state} state` };
    if (now < t.healthyAt) return { ...base, state: 'initial', reason: 'Elb.RegistrationInProgress', description: 'Target registration is in progress' };
    return { ...base, state: 'healthy', reason: undefined, description: undefined };
  };
  if (!q.Targets?.length) return tg.targets.map(view);
  return q.Targets.map((req) => {
    const t = tg.targets.find((x) => x.id === req.Id && (req.Port === undefined || x.port === req.Port));
    if (t) return view(t);
    if (req.Id === undefined || !(req.Id in world.instances)) throw new ApiError('InvalidTarget', `The following targets are not valid instances: '${req.Id ?? ''}'`);
    return { id: req.Id, port: req.Port ?? tg.port, zone: undefined, state: 'unused', reason: 'Target.NotRegistered', description: 'Target is not registered to the target group' };
  });
}

export function describeTargetGroupAttributes(world: World, arn: string | undefined): { Key: string; Value: string }[] {
  const tg = mustTargetGroup(world, arn);
  return Object.entries(tg.attributes).map(([Key, Value]) => ({ Key, Value }));
}

const BOOL = /^(true|false)$/;
const ATTRIBUTE_RULES: Record<string, (v: string) => string | null> = {
  'deregistration_delay.timeout_seconds': (v) => (/^\d+$/.test(v) && Number(v) <= 3600 ? null : 'must be an integer between 0 and 3600'),
  'stickiness.enabled': (v) => (BOOL.test(v) ? null : "must be 'true' or 'false'"),
  'stickiness.type': (v) => (['lb_cookie', 'app_cookie'].includes(v) ? null : "must be 'lb_cookie' or 'app_cookie'"),
  'stickiness.lb_cookie.duration_seconds': (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 604800 ? null : 'must be an integer between 1 and 604800'),
  'stickiness.app_cookie.cookie_name': () => null,
  'stickiness.app_cookie.duration_seconds': (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 604800 ? null : 'must be an integer between 1 and 604800'),
  'load_balancing.algorithm.type': (v) => (['round_robin', 'least_outstanding_requests', 'weighted_random'].includes(v) ? null : 'is not a supported algorithm'),
  'load_balancing.algorithm.anomaly_mitigation': (v) => (['on', 'off'].includes(v) ? null : "must be 'on' or 'off'"),
  'load_balancing.cross_zone.enabled': (v) => (['true', 'false', 'use_load_balancer_configuration'].includes(v) ? null : "must be 'true', 'false' or 'use_load_balancer_configuration'"),
  'slow_start.duration_seconds': (v) => (/^\d+$/.test(v) && (Number(v) === 0 || (Number(v) >= 30 && Number(v) <= 900)) ? null : 'must be 0 or between 30 and 900'),
  'target_group_health.dns_failover.minimum_healthy_targets.count': (v) => (v === 'off' || /^\d+$/.test(v) ? null : "must be 'off' or an integer"),
  'target_group_health.dns_failover.minimum_healthy_targets.percentage': (v) => (v === 'off' || /^\d+$/.test(v) ? null : "must be 'off' or an integer"),
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': (v) => (/^\d+$/.test(v) ? null : 'must be an integer'),
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': (v) => (v === 'off' || /^\d+$/.test(v) ? null : "must be 'off' or an integer"),
};

export function modifyTargetGroupAttributes(world: World, arn: string | undefined, attributes: { Key?: string; Value?: string }[] | undefined): { Key: string; Value: string }[] {
  const tg = mustTargetGroup(world, arn);
  if (!attributes?.length) throw new ApiError('ValidationError', "1 validation error detected: Value null at 'attributes' failed to satisfy constraint: Member must not be null");
  for (const a of attributes) {
    const key = a.Key ?? '';
    const rule = ATTRIBUTE_RULES[key];
    if (!rule) throw new ApiError('ValidationError', `Target group attribute key '${key}' is not recognized`);
    const problem = rule(a.Value ?? '');
    if (problem) throw new ApiError('InvalidConfigurationRequest', `Target group attribute '${key}' value '${a.Value ?? ''}' is invalid: it ${problem}`);
  }
  for (const a of attributes) tg.attributes[a.Key ?? ''] = a.Value ?? '';
  return describeTargetGroupAttributes(world, arn);
}

function checkTargets(world: World, tg: TargetGroup, targets: { Id?: string; Port?: number }[] | undefined): { Id: string; Port: number }[] {
  if (!targets?.length) throw new ApiError('ValidationError', "1 validation error detected: Value null at 'targets' failed to satisfy constraint: Member must not be null");
  return targets.map((t) => {
    const id = t.Id ?? '';
    const port = t.Port ?? tg.port;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ApiError('ValidationError', `Port ${port} is not valid`);
    return { Id: id, Port: port };
  });
}

export function registerTargets(world: World, now: number, arn: string | undefined, targets: { Id?: string; Port?: number }[] | undefined): void {
  const tg = mustTargetGroup(world, arn);
  const list = checkTargets(world, tg, targets);
  const bad = list.filter((t) => world.instances[t.Id]?.state !== 'running');
  if (bad.length) {
    throw new ApiError('InvalidTarget', `The following targets are not in a running state and cannot be registered: ${bad.map((b) => `'${b.Id}'`).join(', ')}`);
  }
  for (const t of list) registerTarget(world, tg, t.Id, t.Port, now);
}

export function deregisterTargets(world: World, now: number, arn: string | undefined, targets: { Id?: string; Port?: number }[] | undefined): void {
  const tg = mustTargetGroup(world, arn);
  tg.targets = tg.targets.filter((t) => t.drainUntil === null || t.drainUntil > now);
  const list = checkTargets(world, tg, targets);
  const missing = list.filter((t) => !tg.targets.some((x) => x.id === t.Id && x.port === t.Port));
  if (missing.length) throw new ApiError('InvalidTarget', `The following targets are not registered in target group '${tg.name}': ${missing.map((m) => `'${m.Id}'`).join(', ')}`);
  const inUse = targetGroupUsage(world).has(tg.arn);
  for (const t of list) deregisterTarget(world, tg, t.Id, now, t.Port, inUse);
}

export function describeTags(world: World, arns: string[] | undefined): { ResourceArn: string; Tags: { Key: string; Value: string }[] }[] {
  if (!arns?.length) throw new ApiError('ValidationError', "1 validation error detected: Value null at 'resourceArns' failed to satisfy constraint: Member must not be null");
  if (arns.length > 20) throw new ApiError('ValidationError', `1 validation error detected: Value at 'resourceArns' failed to satisfy constraint: Member must have length less than or equal to 20`);
  return arns.map((arn) => {
    const tags = Object.hasOwn(world.elb.tags, arn) ? world.elb.tags[arn] : undefined;
    if (tags === undefined) {
      if (arn.includes(':targetgroup/')) throw new ApiError('TargetGroupNotFound', `Target groups '${arn}' not found`);
      if (arn.includes(':listener-rule/')) throw new ApiError('RuleNotFound', `One or more rules not found`);
      if (arn.includes(':listener/')) throw new ApiError('ListenerNotFound', `One or more listeners not found`);
      throw new ApiError('LoadBalancerNotFound', `Load balancers '[${arn}]' not found`);
    }
    return { ResourceArn: arn, Tags: tags };
  });
}

/** Validates and normalises actions as AWS stores them (forward carries both forms). */
function normaliseActions(world: World, actions: Partial<Action>[]): Action[] {
  if (actions.length === 0) throw new ApiError('ValidationError', 'At least one action must be specified');
  return actions.map((a, i) => {
    const type = a.Type;
    const order = a.Order ?? i + 1;
    if (type === 'forward') {
      const tgs = a.ForwardConfig?.TargetGroups?.length ? a.ForwardConfig.TargetGroups : a.TargetGroupArn !== undefined ? [{ TargetGroupArn: a.TargetGroupArn, Weight: 1 }] : [];
      if (tgs.length === 0) throw new ApiError('ValidationError', 'A target group ARN must be specified for a forward action');
      for (const t of tgs) mustTargetGroup(world, t.TargetGroupArn);
      const list = tgs.map((t) => ({ TargetGroupArn: t.TargetGroupArn, Weight: t.Weight ?? 1 }));
      return {
        Type: 'forward',
        Order: order,
        ...(list.length === 1 ? { TargetGroupArn: list[0]?.TargetGroupArn } : {}),
        ForwardConfig: { TargetGroups: list, TargetGroupStickinessConfig: a.ForwardConfig?.TargetGroupStickinessConfig ?? { Enabled: false } },
      };
    }
    if (type === 'fixed-response') {
      if (!a.FixedResponseConfig?.StatusCode) throw new ApiError('ValidationError', 'A fixed-response action requires a status code');
      return { Type: 'fixed-response', Order: order, FixedResponseConfig: a.FixedResponseConfig };
    }
    if (type === 'redirect') {
      if (!a.RedirectConfig?.StatusCode) throw new ApiError('ValidationError', 'A redirect action requires a status code');
      return { Type: 'redirect', Order: order, RedirectConfig: a.RedirectConfig };
    }
    throw new ApiError('ValidationError', `Action type '${String(type)}' must be one of [forward, fixed-response, redirect]`);
  });
}

export function modifyListener(
  world: World,
  now: number,
  q: { ListenerArn?: string; Port?: number; Protocol?: string; SslPolicy?: string; Certificates?: { CertificateArn?: string }[]; DefaultActions?: Partial<Action>[] },
): Listener {
  const l = mustListener(world, q.ListenerArn ?? '');
  const before = targetGroupUsage(world);
  if (q.DefaultActions !== undefined) l.defaultActions = normaliseActions(world, q.DefaultActions);
  if (q.Port !== undefined) l.port = q.Port;
  if (q.Protocol !== undefined) l.protocol = q.Protocol;
  if (q.SslPolicy !== undefined) l.sslPolicy = q.SslPolicy;
  if (q.Certificates !== undefined) l.certificates = q.Certificates.map((c) => ({ CertificateArn: c.CertificateArn ?? '' }));
  restartHealthChecks(world, before, now);
  return l;
}

export function modifyRule(world: World, now: number, q: { RuleArn?: string; Conditions?: Condition[]; Actions?: Partial<Action>[] }): Rule {
  const r = findRule(world, q.RuleArn ?? '');
  if (!r) throw new ApiError('RuleNotFound', 'One or more rules not found');
  const before = targetGroupUsage(world);
  if (r.isDefault) {
    if (q.Conditions?.length) throw new ApiError('OperationNotPermitted', 'Default rule conditions cannot be modified');
    const l = mustListener(world, r.listenerArn);
    if (q.Actions !== undefined) l.defaultActions = normaliseActions(world, q.Actions);
    restartHealthChecks(world, before, now);
    return defaultRule(l);
  }
  if (q.Actions !== undefined) r.actions = normaliseActions(world, q.Actions);
  if (q.Conditions !== undefined) r.conditions = q.Conditions;
  restartHealthChecks(world, before, now);
  return r;
}

/** Load balancers sending traffic to each target group, for the TargetGroup view. */
export function loadBalancersOf(world: World): Map<string, Set<string>> {
  return targetGroupUsage(world);
}

export { forwardTargets };
