import type { Rule, TargetDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { isAwsError, isNotFound } from '../aws/errors.js';
import { describeRules, forwardedTargetGroups, modifyListenerDefaultActions, modifyRuleActions, registerTargets, type Elbv2Io } from '../aws/elbv2.js';
import type { Clock } from '../ports/clock.js';
import { asActions, readTargetGroupStates, type Attachment, type NodeInfo, type TargetGroupRecord, type TargetGroupSnapshot, type TargetGroupState } from './target-groups.js';

export type Drift = 'missing' | 'detached' | 'no-healthy' | 'fewer-healthy' | 'fewer-targets';

export interface TargetGroupDiff {
  arn: string;
  name: string;
  drift: Drift[];
  snapshotHealthy: number;
  healthy: number;
  snapshotTargets: number;
  targets: number;
  snapshotLoadBalancers: number;
  loadBalancers: number;
  /** Snapshot rules that no longer forward to the group ("priority 1", "default"). */
  lostRules: string[];
}

/** Registered targets that still take traffic or soon will (draining ones are on their way out). */
function registered(targets: readonly { state: string }[]): number {
  return targets.filter((t) => t.state !== 'draining' && t.state !== 'unused').length;
}

/**
 * How a target group differs from its snapshot. `strict` adds the post-check's conditions
 * (healthy and registered counts not below the snapshot's × ratio); without it only what the
 * guard treats as an outage counts: gone, detached, or no healthy target left.
 */
export function diffTargetGroup(
  snap: TargetGroupRecord,
  now: TargetGroupState,
  opts: { strict: boolean; minHealthyRatio: number },
  /** Snapshot attachments that no longer forward to the group (see lostAttachments). */
  lost: readonly Attachment[] = [],
): TargetGroupDiff {
  const drift: Drift[] = [];
  const lbsNow = new Set(now.loadBalancerArns);
  if (!now.exists) drift.push('missing');
  else {
    if (lost.length > 0 || snap.loadBalancerArns.some((a) => !lbsNow.has(a))) drift.push('detached');
    if (snap.healthy > 0 && now.healthy === 0) drift.push('no-healthy');
    if (opts.strict) {
      const needHealthy = Math.ceil(snap.healthy * opts.minHealthyRatio);
      if (now.healthy < needHealthy && !drift.includes('no-healthy')) drift.push('fewer-healthy');
      if (registered(now.targets) < Math.ceil(registered(snap.targets) * opts.minHealthyRatio)) drift.push('fewer-targets');
    }
  }
  return {
    arn: snap.arn,
    name: snap.name,
    drift,
    snapshotHealthy: snap.healthy,
    healthy: now.healthy,
    snapshotTargets: snap.targets.length,
    targets: registered(now.targets),
    snapshotLoadBalancers: snap.loadBalancerArns.length,
    loadBalancers: now.loadBalancerArns.length,
    lostRules: lost.map((a) => (a.isDefault ? 'default rule' : `rule priority ${a.priority}`)),
  };
}

export async function diffAgainstSnapshot(
  io: Elbv2Io,
  snapshot: TargetGroupSnapshot,
  opts: { strict: boolean; minHealthyRatio: number; only?: readonly string[] },
): Promise<TargetGroupDiff[]> {
  const tgs = opts.only ? snapshot.targetGroups.filter((t) => opts.only?.includes(t.arn)) : snapshot.targetGroups;
  const states = await readTargetGroupStates(io, tgs.map((t) => t.arn));
  const rules = await liveRules(io, tgs);
  return tgs.map((snap) => {
    const now = states.get(snap.arn) ?? { arn: snap.arn, exists: false, loadBalancerArns: [], targets: [], healthy: 0 };
    return diffTargetGroup(snap, now, opts, lostAttachments(snap, rules));
  });
}

/** The current rules of every listener the snapshot's attachments sit on (null: listener gone). */
export async function liveRules(io: Elbv2Io, tgs: readonly TargetGroupRecord[]): Promise<Map<string, Rule[] | null>> {
  const listeners = [...new Set(tgs.flatMap((t) => t.attachments.map((a) => a.listenerArn)))];
  const out = new Map<string, Rule[] | null>();
  for (const l of listeners) {
    try {
      out.set(l, await describeRules(io, l));
    } catch (e) {
      if (!isNotFound(e)) throw e;
      out.set(l, null);
    }
  }
  return out;
}

/**
 * Snapshot attachments whose rule no longer forwards to the group. Checked on the rules
 * themselves: a group can stay associated with its load balancer through another rule while the
 * one that carried its traffic now answers 503.
 */
export function lostAttachments(snap: TargetGroupRecord, rules: ReadonlyMap<string, Rule[] | null>): Attachment[] {
  return snap.attachments.filter((a) => {
    const list = rules.get(a.listenerArn);
    if (list === undefined) return false;
    const rule = list?.find((r) => r.RuleArn === a.ruleArn) ?? (a.isDefault ? list?.find((r) => r.IsDefault) : undefined);
    return !rule || !forwardedTargetGroups(rule.Actions).includes(snap.arn);
  });
}

/** "tg-web lost its attachment (0/3 healthy)". */
export function describeDiff(d: TargetGroupDiff): string {
  const what = d.drift.map((x) =>
    x === 'missing' ? 'was deleted'
    : x === 'detached'
      ? d.lostRules.length > 0
        ? `lost its attachment (${d.lostRules.join(', ')} no longer forwards to it)`
        : `lost its attachment (${d.loadBalancers}/${d.snapshotLoadBalancers} load balancers)`
    : x === 'no-healthy' ? 'has no healthy target'
    : x === 'fewer-healthy' ? 'has fewer healthy targets than before'
    : 'has fewer registered targets than before',
  );
  return `${d.name} ${what.join(' and ')} (${d.healthy}/${d.snapshotHealthy} healthy)`;
}

export interface RestoreReport {
  arn: string;
  name: string;
  rulesRestored: string[];
  targetsRegistered: number;
  targetsRejected: string[];
  problems: string[];
}

/**
 * Puts a target group back as the snapshot has it: every listener rule that forwarded to it
 * forwards to it again (the snapshot's action list), and the snapshot's targets are registered
 * again (targets AWS rejects — e.g. instances replaced by a node roll — are reported, not fatal).
 */
export async function restoreTargetGroup(
  io: Elbv2Io,
  snap: TargetGroupRecord,
  state: TargetGroupState | undefined,
  nodes: readonly NodeInfo[] = [],
): Promise<RestoreReport> {
  const report: RestoreReport = { arn: snap.arn, name: snap.name, rulesRestored: [], targetsRegistered: 0, targetsRejected: [], problems: [] };
  if (state && !state.exists) {
    report.problems.push(`${snap.name} no longer exists; recreate it (or let the load balancer controller do so) — a restore cannot`);
    return report;
  }
  const byListener = new Map<string, typeof snap.attachments>();
  for (const a of snap.attachments) byListener.set(a.listenerArn, [...(byListener.get(a.listenerArn) ?? []), a]);
  for (const [listenerArn, attachments] of byListener) {
    let rules;
    try {
      rules = await describeRules(io, listenerArn);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      report.problems.push(`listener ${listenerArn} is gone; recreate it from the snapshot artefact`);
      continue;
    }
    for (const a of attachments) {
      const rule = rules.find((r) => r.RuleArn === a.ruleArn) ?? (a.isDefault ? rules.find((r) => r.IsDefault) : undefined);
      if (rule && forwardedTargetGroups(rule.Actions).includes(snap.arn)) continue;
      if (!rule) {
        report.problems.push(`rule ${a.priority} on ${listenerArn} is gone; recreate it from the snapshot artefact`);
        continue;
      }
      if (a.isDefault) await modifyListenerDefaultActions(io, listenerArn, asActions(a.actions));
      else await modifyRuleActions(io, rule.RuleArn ?? a.ruleArn, asActions(a.actions));
      report.rulesRestored.push(a.isDefault ? `${listenerArn} default` : `${a.ruleArn} (priority ${a.priority})`);
    }
  }
  await registerAll(io, snap.arn, wantedTargets(snap, state, nodes), report);
  return report;
}

/**
 * The snapshot's targets, plus — for instance targets — the Ready nodes that now stand in the
 * same node groups (a node roll replaces instances; the controller would register those).
 */
export function wantedTargets(snap: TargetGroupRecord, state: TargetGroupState | undefined, nodes: readonly NodeInfo[]): TargetDescription[] {
  const present = new Set((state?.targets ?? []).filter((t) => t.state !== 'draining').map((t) => `${t.id}:${t.port ?? ''}`));
  const wanted = new Map<string, TargetDescription>();
  const want = (id: string, port: number | null, az: string | null): void => {
    const key = `${id}:${port ?? ''}`;
    if (present.has(key) || wanted.has(key)) return;
    wanted.set(key, { Id: id, ...(port !== null ? { Port: port } : {}), ...(az ? { AvailabilityZone: az } : {}) });
  };
  const live = new Set(nodes.map((n) => n.instanceId));
  for (const t of snap.targets) {
    // A snapshot instance that is no longer a node was replaced: registering it would fail.
    if (snap.targetType === 'instance' && nodes.length > 0 && t.id.startsWith('i-') && !live.has(t.id)) continue;
    want(t.id, t.port, t.availabilityZone);
  }
  if (snap.targetType === 'instance') {
    const groups = new Set(snap.targets.map((t) => t.nodegroup).filter((g): g is string => typeof g === 'string'));
    const ports = [...new Set(snap.targets.map((t) => t.port))];
    for (const n of nodes) {
      if (!n.ready || n.nodegroup === null || !groups.has(n.nodegroup)) continue;
      for (const port of ports) want(n.instanceId, port, null);
    }
  }
  return [...wanted.values()];
}

async function registerAll(io: Elbv2Io, arn: string, targets: TargetDescription[], report: RestoreReport): Promise<void> {
  if (targets.length === 0) return;
  try {
    await registerTargets(io, arn, targets);
    report.targetsRegistered += targets.length;
  } catch (e) {
    if (!isAwsError(e, 'InvalidTarget', 'InvalidTargetException')) throw e;
    // One bad target fails the batch: retry one by one to keep the good ones.
    for (const t of targets) {
      try {
        await registerTargets(io, arn, [t]);
        report.targetsRegistered++;
      } catch (err) {
        if (!isAwsError(err, 'InvalidTarget', 'InvalidTargetException')) throw err;
        report.targetsRejected.push(t.Id ?? '?');
      }
    }
  }
}

/**
 * Polls until every listed target group has at least one healthy target again (or the
 * snapshot's count × ratio), or the deadline passes. Returns the groups still short.
 */
export async function waitHealthy(
  io: Elbv2Io,
  snaps: readonly TargetGroupRecord[],
  o: { clock: Clock; intervalMs: number; timeoutMs: number; minHealthyRatio: number; onPoll?: (short: string[]) => void },
): Promise<string[]> {
  const deadline = o.clock.now() + o.timeoutMs;
  for (;;) {
    const states = await readTargetGroupStates(io, snaps.map((s) => s.arn));
    const short = snaps
      .filter((s) => {
        const n = states.get(s.arn)?.healthy ?? 0;
        return n < Math.max(s.healthy > 0 ? 1 : 0, Math.ceil(s.healthy * o.minHealthyRatio));
      })
      .map((s) => s.name);
    o.onPoll?.(short);
    if (short.length === 0 || o.clock.now() + o.intervalMs > deadline) return short;
    await o.clock.sleep(o.intervalMs, io.signal);
  }
}

