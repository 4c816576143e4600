import { relativeMs, type FaultSettings } from '../faults.js';
import { addonEntry, kubernetesRelease } from './catalog.js';
import { launchNode, MANAGED_BY_LABEL, ADDON_LABEL, putAddonWorkload } from './cluster-objects.js';
import { deleteObject, getObject, putObject, resourceByKind } from './kube.js';
import type { Action, Cluster, FaultRecordData, TargetGroup, World, WorldEvent } from './types.js';

/**
 * Time and consequences. Operations schedule events; `advance` applies every event whose time
 * has come, in time order, whenever a request arrives. No timers: the world is a function of
 * its history and the clock.
 */
export function advance(world: World, now: number): void {
  while (world.events.length > 0 && (world.events[0]?.at ?? Infinity) <= now) {
    const e = world.events.shift() as WorldEvent;
    world.now = Math.max(world.now, e.at);
    applyEvent(world, e);
  }
  world.now = Math.max(world.now, now);
}

export function schedule(world: World, e: WorldEvent): void {
  // Stable insert: events at the same time keep their scheduling order.
  let i = world.events.length;
  while (i > 0 && (world.events[i - 1]?.at ?? 0) > e.at) i--;
  world.events.splice(i, 0, e);
}

export function cluster(world: World, name: string): Cluster | undefined {
  return Object.hasOwn(world.clusters, name) ? world.clusters[name] : undefined;
}

function applyEvent(world: World, e: WorldEvent): void {
  const c = cluster(world, e.cluster);
  if (!c) return;
  switch (e.kind) {
    case 'cluster-status':
      c.status = e.status;
      return;
    case 'cluster-update-done':
      return finishClusterUpdate(world, c, e.updateId, e.fail, e.at);
    case 'addon-done':
      return finishAddon(world, c, e);
    case 'node-join':
      return nodeJoins(world, c, e.nodegroup, e.at, e.version, e.releaseVersion);
    case 'node-leave':
      return nodeLeaves(world, c, e.node, e.at);
    case 'nodegroup-update-done':
      return finishNodegroupUpdate(world, c, e.nodegroup, e.updateId, e.fail, e.at);
    case 'detach':
      if (e.cause === 'forced' && e.trigger.startsWith('detachAt')) world.faults.detachAt = null;
      return detachTargetGroups(world, c, e.at, e.cause, e.trigger);
  }
}

function finishClusterUpdate(world: World, c: Cluster, updateId: string, fail: boolean, at: number): void {
  const u = c.updates[updateId];
  if (!u) return;
  c.status = 'ACTIVE';
  if (fail) {
    u.status = 'Failed';
    u.errors = [{ errorCode: 'Unknown', errorMessage: 'The control plane upgrade did not complete (injected failure); the cluster stays on its current version.', resourceIds: [c.name] }];
    recordFault(world, { modelAt: at, kind: 'update-failed', cause: 'fault-injection', trigger: 'cluster-version', cluster: c.name, loadBalancerArns: [], targetGroupArns: [], protectedTargetGroupArns: [], detail: `update ${updateId} failed` });
    return;
  }
  u.status = 'Successful';
  const version = u.params.find((p) => p.type === 'Version')?.value ?? c.version;
  c.version = version;
  c.platformVersion = kubernetesRelease(version)?.platformVersion ?? c.platformVersion;
}

function finishAddon(world: World, c: Cluster, e: Extract<WorldEvent, { kind: 'addon-done' }>): void {
  const addon = c.addons[e.addon];
  if (!addon) return;
  addon.modifiedAt = e.at;
  const update = e.updateId ? c.updates[e.updateId] : undefined;
  if (e.op === 'delete') {
    delete c.addons[e.addon];
    const entry = addonEntry(e.addon);
    if (!entry) return;
    const r = resourceByKind(entry.workload.kind);
    if (!e.preserve) {
      deleteObject(c.kube, r, 'kube-system', entry.workload.name);
      return;
    }
    // Preserved: the workload stays and runs on as a self-managed one.
    const obj = getObject(c.kube, r, 'kube-system', entry.workload.name);
    if (obj?.metadata.labels) {
      const labels = { ...obj.metadata.labels };
      delete labels[MANAGED_BY_LABEL];
      delete labels[ADDON_LABEL];
      delete labels['app.kubernetes.io/version'];
      putObject(c.kube, r, { ...obj, metadata: { ...obj.metadata, labels } }, e.at);
    }
    return;
  }
  if (e.fail) {
    addon.status = e.op === 'create' ? 'CREATE_FAILED' : 'DEGRADED';
    addon.issues = [{ code: 'InsufficientNumberOfReplicas', message: 'The add-on is unhealthy because it doesn\'t have the desired number of replicas (injected failure).', resourceIds: [] }];
    if (update) {
      update.status = 'Failed';
      update.errors = [{ errorCode: 'InsufficientNumberOfReplicas', errorMessage: 'The add-on is unhealthy because it doesn\'t have the desired number of replicas.', resourceIds: [] }];
    }
    recordFault(world, { modelAt: e.at, kind: 'update-failed', cause: 'fault-injection', trigger: `addon:${e.addon}`, cluster: c.name, loadBalancerArns: [], targetGroupArns: [], protectedTargetGroupArns: [], detail: `${e.op} of add-on ${e.addon} failed` });
    return;
  }
  const conflict = e.op === 'create' && !e.overwrite ? addonConflict(world, c, e.addon, addon.version) : null;
  if (conflict) {
    addon.status = 'CREATE_FAILED';
    addon.issues = [{ code: 'ConfigurationConflict', message: `Conflicts found when trying to apply. Will not continue due to resolve conflicts mode. Conflicts:\n${conflict}`, resourceIds: [] }];
    return;
  }
  addon.status = 'ACTIVE';
  addon.issues = [];
  if (update) update.status = 'Successful';
  putAddonWorkload(world, c, e.addon, addon.version, addon.version, e.at);
}

/** A self-managed workload conflicts with the add-on when EKS would change a field of it. */
export function addonConflict(world: World, c: Cluster, name: string, version: string): string | null {
  const entry = addonEntry(name);
  if (!entry) return null;
  const obj = getObject(c.kube, resourceByKind(entry.workload.kind), 'kube-system', entry.workload.name);
  if (!obj) return null;
  const spec = obj['spec'] as { template?: { spec?: { containers?: { name?: string; image?: string }[] } } } | undefined;
  const container = spec?.template?.spec?.containers?.find((x) => x.name === entry.workload.container);
  const wanted = `602401143452.dkr.ecr.${world.region}.amazonaws.com/${entry.workload.repository}:${version}`;
  if (container?.image === wanted) return null;
  return `${entry.workload.kind}.apps ${entry.workload.name} - .spec.template.spec.containers[name="${entry.workload.container}"].image`;
}

function nodeJoins(world: World, c: Cluster, ngName: string, at: number, version: string, releaseVersion: string): void {
  const ng = c.nodegroups[ngName];
  if (!ng) return;
  const nodeName = launchNode(world, c, ng, at, { version, releaseVersion });
  const inst = Object.values(world.instances).find((i) => i.nodeName === nodeName);
  if (!inst) return;
  // The load balancer controller registers new nodes in the target groups bound to the cluster.
  for (const tg of targetGroupsOf(world, c.name)) {
    if (tg.followsNodegroups && !tg.followsNodegroups.includes(ngName)) continue;
    registerTarget(world, tg, inst.id, tg.port, at);
  }
}

function nodeLeaves(world: World, c: Cluster, nodeName: string, at: number): void {
  const inst = Object.values(world.instances).find((i) => i.nodeName === nodeName && i.state === 'running');
  if (inst) {
    for (const tg of targetGroupsOf(world, c.name)) {
      if (tg.targets.some((t) => t.id === inst.id && t.drainUntil === null)) deregisterTarget(world, tg, inst.id, at);
    }
    inst.state = 'terminated';
  }
  deleteObject(c.kube, resourceByKind('Node'), undefined, nodeName);
  for (const ng of Object.values(c.nodegroups)) ng.nodes = ng.nodes.filter((n) => n !== nodeName);
}

function finishNodegroupUpdate(world: World, c: Cluster, ngName: string, updateId: string, fail: boolean, at: number): void {
  const ng = c.nodegroups[ngName];
  const u = c.updates[updateId];
  if (!ng || !u) return;
  ng.status = 'ACTIVE';
  ng.modifiedAt = at;
  if (fail) {
    u.status = 'Failed';
    u.errors = [{ errorCode: 'PodEvictionFailure', errorMessage: 'Reached max retries while trying to evict pods from nodes in node group (injected failure)', resourceIds: [...ng.nodes] }];
    recordFault(world, { modelAt: at, kind: 'update-failed', cause: 'fault-injection', trigger: `nodegroup:${ngName}`, cluster: c.name, loadBalancerArns: [], targetGroupArns: [], protectedTargetGroupArns: [], detail: `update ${updateId} of node group ${ngName} failed` });
    return;
  }
  u.status = 'Successful';
  ng.version = u.params.find((p) => p.type === 'Version')?.value ?? ng.version;
  ng.releaseVersion = u.params.find((p) => p.type === 'ReleaseVersion')?.value ?? ng.releaseVersion;
}

// ---------------------------------------------------------------- target groups

export function targetGroupsOf(world: World, clusterName: string): TargetGroup[] {
  const out: TargetGroup[] = [];
  for (const arn of world.elb.targetGroupOrder) {
    const tg = world.elb.targetGroups[arn];
    if (tg && tg.cluster === clusterName) out.push(tg);
  }
  return out;
}

export function forwardTargets(a: Action): string[] {
  if (a.Type !== 'forward') return [];
  const arns = a.ForwardConfig?.TargetGroups.map((t) => t.TargetGroupArn) ?? [];
  if (a.TargetGroupArn !== undefined && !arns.includes(a.TargetGroupArn)) arns.push(a.TargetGroupArn);
  return arns;
}

/** Which load balancers send traffic to each target group (through listener defaults or rules). */
export function targetGroupUsage(world: World): Map<string, Set<string>> {
  const usage = new Map<string, Set<string>>();
  const add = (tg: string, lb: string): void => {
    let s = usage.get(tg);
    if (!s) usage.set(tg, (s = new Set()));
    s.add(lb);
  };
  for (const l of Object.values(world.elb.listeners)) {
    for (const a of l.defaultActions) for (const tg of forwardTargets(a)) add(tg, l.loadBalancerArn);
    for (const rArn of l.ruleArns) {
      const r = world.elb.rules[rArn];
      if (r) for (const a of r.actions) for (const tg of forwardTargets(a)) add(tg, l.loadBalancerArn);
    }
  }
  return usage;
}

export function healthyDelayMs(tg: TargetGroup): number {
  return tg.healthCheck.intervalSeconds * tg.healthCheck.healthyThreshold * 1000;
}

export function registerTarget(_world: World, tg: TargetGroup, id: string, port: number, at: number): void {
  const existing = tg.targets.find((t) => t.id === id && t.port === port);
  if (existing && existing.drainUntil === null) return;
  if (existing) tg.targets = tg.targets.filter((t) => t !== existing);
  tg.targets.push({ id, port, registeredAt: at, healthyAt: at + healthyDelayMs(tg), drainUntil: null });
}

/** In use: targets drain for the deregistration delay. Not in use: they go at once, as on AWS. */
export function deregisterTarget(world: World, tg: TargetGroup, id: string, at: number, port?: number, inUse?: boolean): void {
  const used = inUse ?? targetGroupUsage(world).has(tg.arn);
  const delayMs = Number(tg.attributes['deregistration_delay.timeout_seconds'] ?? '300') * 1000;
  for (const t of tg.targets) {
    if (t.id !== id || (port !== undefined && t.port !== port) || t.drainUntil !== null) continue;
    t.drainUntil = used && delayMs > 0 ? at + delayMs : at;
  }
  tg.targets = tg.targets.filter((t) => t.drainUntil === null || t.drainUntil > at);
}

/** When a target group starts receiving traffic again its targets go through health checks anew. */
export function restartHealthChecks(world: World, before: Map<string, Set<string>>, at: number): void {
  const after = targetGroupUsage(world);
  for (const arn of after.keys()) {
    if (before.has(arn)) continue;
    const tg = world.elb.targetGroups[arn];
    if (!tg) continue;
    for (const t of tg.targets) if (t.drainUntil === null) t.healthyAt = Math.max(t.healthyAt, at + healthyDelayMs(tg));
  }
}

export function isProtected(world: World, tg: TargetGroup): boolean {
  return Number(tg.attributes['deregistration_delay.timeout_seconds'] ?? '0') >= world.minimumDeregistrationDelaySeconds;
}

const SERVICE_UNAVAILABLE: Action = {
  Type: 'fixed-response',
  Order: 1,
  FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'Service Unavailable' },
};

/**
 * The incident: the cluster's load balancers stop forwarding to their target groups (rules that
 * forwarded answer 503) and the groups lose their targets. An incident spares groups that carry
 * the known fix; a forced fault does not.
 */
export function detachTargetGroups(world: World, c: Cluster, at: number, cause: 'incident' | 'forced', trigger: string): void {
  const lbArns = Object.values(world.elb.loadBalancers).filter((lb) => lb.cluster === c.name).map((lb) => lb.arn);
  const usage = targetGroupUsage(world);
  const attached = [...usage.entries()].filter(([, lbs]) => lbArns.some((l) => lbs.has(l))).map(([tg]) => tg);
  const victims = new Set<string>();
  const spared: string[] = [];
  for (const arn of attached) {
    const tg = world.elb.targetGroups[arn];
    if (!tg) continue;
    if (cause === 'incident' && isProtected(world, tg)) spared.push(arn);
    else victims.add(arn);
  }
  if (victims.size === 0) return;
  const strip = (actions: Action[]): Action[] =>
    actions.map((a) => {
      const remaining = forwardTargets(a).filter((t) => !victims.has(t));
      if (a.Type !== 'forward' || remaining.length === forwardTargets(a).length) return a;
      if (remaining.length === 0) return { ...SERVICE_UNAVAILABLE, Order: a.Order ?? 1 };
      return {
        ...a,
        TargetGroupArn: remaining.length === 1 ? remaining[0] : undefined,
        ForwardConfig: { ...a.ForwardConfig, TargetGroups: (a.ForwardConfig?.TargetGroups ?? []).filter((t) => !victims.has(t.TargetGroupArn)) },
      };
    });
  for (const lbArn of lbArns) {
    for (const lArn of world.elb.loadBalancers[lbArn]?.listenerArns ?? []) {
      const l = world.elb.listeners[lArn];
      if (!l) continue;
      l.defaultActions = strip(l.defaultActions);
      for (const rArn of l.ruleArns) {
        const r = world.elb.rules[rArn];
        if (r) r.actions = strip(r.actions);
      }
    }
  }
  const usageAfter = targetGroupUsage(world);
  for (const arn of victims) {
    const tg = world.elb.targetGroups[arn];
    if (!tg) continue;
    const inUse = usageAfter.has(arn);
    for (const t of [...tg.targets]) deregisterTarget(world, tg, t.id, at, t.port, inUse);
  }
  recordFault(world, {
    modelAt: at,
    kind: 'target-groups-detached',
    cause,
    trigger,
    cluster: c.name,
    loadBalancerArns: lbArns,
    targetGroupArns: [...victims],
    protectedTargetGroupArns: spared,
    detail: `${victims.size} target group(s) detached from ${lbArns.length} load balancer(s)${spared.length ? `; ${spared.length} spared by the deregistration-delay fix` : ''}`,
  });
}

export function recordFault(world: World, r: FaultRecordData): void {
  world.faultRecords.push(r);
}

// ---------------------------------------------------------------- triggers and faults

/**
 * Called after a mutating EKS call succeeded. `takeover` says whether it actually rewrote a
 * running workload (an OVERWRITE of a self-managed add-on, a node roll): only those set the
 * incident off.
 */
export function afterMutation(world: World, c: Cluster, now: number, operation: string, target: string | null, takeover: boolean): void {
  const names = target === null ? [operation] : [operation, `${operation}:${target}`];
  const forced = world.faults.detachTargetGroupsOn.findIndex((t) => names.includes(t));
  if (forced >= 0) {
    const trigger = world.faults.detachTargetGroupsOn[forced] ?? operation;
    world.faults.detachTargetGroupsOn.splice(forced, 1);
    detachTargetGroups(world, c, now, 'forced', trigger);
  }
  if (!takeover || !world.incident) return;
  const hit = world.incident.triggers.find((t) => names.includes(t));
  if (hit) schedule(world, { at: now + world.incident.delaySeconds * 1000, kind: 'detach', cluster: c.name, cause: 'incident', trigger: hit });
}

/** Consumes a matching 'fail next update' fault. */
export function takeFailure(world: World, kind: 'cluster-version' | 'addon' | 'nodegroup', name?: string): boolean {
  const i = world.faults.failNextUpdate.findIndex((f) => f === kind || (name !== undefined && f === `${kind}:${name}`));
  if (i < 0) return false;
  world.faults.failNextUpdate.splice(i, 1);
  return true;
}

export function applyFaultSettings(world: World, now: number, f: Partial<FaultSettings>): void {
  const { detachAt, ...rest } = f;
  world.faults = { ...world.faults, ...rest };
  if (detachAt === undefined) return;
  world.events = world.events.filter((e) => !(e.kind === 'detach' && e.cause === 'forced'));
  world.faults.detachAt = detachAt;
  if (detachAt === null) return;
  const at = detachAt === 'now' ? now : detachAt.startsWith('+') ? now + (relativeMs(detachAt) ?? 0) : Date.parse(detachAt);
  world.faults.detachAt = new Date(at).toISOString();
  schedule(world, { at, kind: 'detach', cluster: world.mainCluster, cause: 'forced', trigger: `detachAt ${world.faults.detachAt}` });
  advance(world, now);
}
