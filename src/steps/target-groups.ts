import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Action, TargetGroup, TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { isNotFound } from '../aws/errors.js';
import {
  describeListeners,
  describeLoadBalancers,
  describeRules,
  describeTargetGroupAttributes,
  describeTargetGroups,
  describeTargetHealth,
  findClusterLoadBalancers,
  findClusterTargetGroups,
  forwardedTargetGroups,
  type Elbv2Io,
} from '../aws/elbv2.js';
import { mapLimited } from '../aws/limiter.js';
import type { Json } from '../dsl/types.js';
import type { Kube } from '../kube/types.js';

/** Calls in flight at once; the token bucket, not this, sets the rate. */
export const DESCRIBE_CONCURRENCY = 16;

/** A listener rule (or a listener's default action) that forwards to a target group. */
export interface Attachment {
  loadBalancerArn: string;
  listenerArn: string;
  /** The rule's ARN; for the listener's default rule too (IsDefault). */
  ruleArn: string;
  isDefault: boolean;
  priority: string;
  /** The rule's whole action list as it was: what a restore puts back. */
  actions: Json;
}

export interface TargetRecord {
  id: string;
  port: number | null;
  availabilityZone: string | null;
  state: string;
  reason: string | null;
  /** For instance targets: the EKS node group of the node (from kubectl), so a restore can find its replacements. */
  nodegroup?: string | null;
}

export interface TargetGroupRecord {
  arn: string;
  name: string;
  protocol: string | null;
  port: number | null;
  targetType: string | null;
  loadBalancerArns: string[];
  attachments: Attachment[];
  targets: TargetRecord[];
  healthy: number;
  attributes: Record<string, string>;
}

export interface TargetGroupSnapshot {
  cluster: string;
  takenAt: string;
  loadBalancers: { arn: string; name: string; dnsName: string | null }[];
  targetGroups: TargetGroupRecord[];
  /** Where the artefact copy lives (run dir). */
  artefact: string | null;
}

/**
 * The target groups the run must protect: those of the load balancers the controller manages
 * for the cluster, those tagged for the cluster (even if already detached), and explicit ARNs.
 */
export async function discoverTargetGroups(
  io: Elbv2Io,
  cluster: string,
  explicitArns: readonly string[] = [],
): Promise<TargetGroup[]> {
  const byArn = new Map<string, TargetGroup>();
  const add = (tgs: TargetGroup[]): void => {
    for (const t of tgs) if (t.TargetGroupArn) byArn.set(t.TargetGroupArn, t);
  };
  const lbs = await findClusterLoadBalancers(io, cluster);
  for (const lb of lbs) if (lb.LoadBalancerArn) add(await describeTargetGroups(io, { LoadBalancerArn: lb.LoadBalancerArn }));
  add(await findClusterTargetGroups(io, cluster));
  const missing = explicitArns.filter((a) => !byArn.has(a));
  if (missing.length > 0) add(await describeTargetGroups(io, { TargetGroupArns: [...missing] }));
  return [...byArn.values()].sort((a, b) => (a.TargetGroupName ?? '').localeCompare(b.TargetGroupName ?? ''));
}

/** Every rule on the given load balancers that forwards somewhere, keyed by target group ARN. */
export async function attachmentsByTargetGroup(io: Elbv2Io, loadBalancerArns: readonly string[]): Promise<Map<string, Attachment[]>> {
  const out = new Map<string, Attachment[]>();
  for (const lbArn of loadBalancerArns) {
    for (const listener of await describeListeners(io, lbArn)) {
      if (!listener.ListenerArn) continue;
      for (const rule of await describeRules(io, listener.ListenerArn)) {
        for (const tgArn of forwardedTargetGroups(rule.Actions)) {
          const list = out.get(tgArn) ?? [];
          list.push({
            loadBalancerArn: lbArn,
            listenerArn: listener.ListenerArn,
            ruleArn: rule.RuleArn ?? '',
            isDefault: rule.IsDefault === true,
            priority: rule.Priority ?? (rule.IsDefault ? 'default' : ''),
            actions: toJson(rule.Actions ?? []),
          });
          out.set(tgArn, list);
        }
      }
    }
  }
  return out;
}

export function toTargetRecord(d: TargetHealthDescription): TargetRecord {
  return {
    id: d.Target?.Id ?? '',
    port: d.Target?.Port ?? null,
    availabilityZone: d.Target?.AvailabilityZone ?? null,
    state: d.TargetHealth?.State ?? 'unknown',
    reason: d.TargetHealth?.Reason ?? null,
  };
}

export function countHealthy(targets: readonly { state: string }[]): number {
  return targets.filter((t) => t.state === 'healthy').length;
}

/** A cluster node as the restore sees it: instance id, node group, readiness. */
export interface NodeInfo {
  instanceId: string;
  nodegroup: string | null;
  ready: boolean;
}

interface NodeListJson {
  items?: {
    metadata?: { labels?: Record<string, string> };
    spec?: { providerID?: string };
    status?: { conditions?: { type?: string; status?: string }[] };
  }[];
}

/** Nodes with their EC2 instance ids (spec.providerID "aws:///eu-west-1a/i-0abc"). */
export async function listNodes(kube: Kube, signal?: AbortSignal): Promise<NodeInfo[]> {
  const list = await kube.getJson<NodeListJson>(['get', 'nodes'], { signal });
  return (list.items ?? []).flatMap((n) => {
    const instanceId = /\/(i-[0-9a-f]+)$/.exec(n.spec?.providerID ?? '')?.[1];
    if (!instanceId) return [];
    return [{
      instanceId,
      nodegroup: n.metadata?.labels?.['eks.amazonaws.com/nodegroup'] ?? null,
      ready: n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true,
    }];
  });
}

/** Reads everything a restore needs about each target group. */
export async function snapshotTargetGroups(
  io: Elbv2Io,
  cluster: string,
  tgs: readonly TargetGroup[],
  now: Date,
  nodes: readonly NodeInfo[] = [],
): Promise<TargetGroupSnapshot> {
  const nodegroupOf = new Map(nodes.map((n) => [n.instanceId, n.nodegroup]));
  const lbArns = [...new Set(tgs.flatMap((t) => t.LoadBalancerArns ?? []))].sort();
  const lbs = lbArns.length > 0 ? await describeLoadBalancers(io, lbArns) : [];
  const attachments = await attachmentsByTargetGroup(io, lbArns);
  const records = await mapLimited(
    tgs,
    DESCRIBE_CONCURRENCY,
    async (tg): Promise<TargetGroupRecord> => {
      const arn = tg.TargetGroupArn ?? '';
      const [health, attributes] = [await describeTargetHealth(io, arn), await describeTargetGroupAttributes(io, arn)];
      const targets = health.map(toTargetRecord).map((t) => (nodegroupOf.has(t.id) ? { ...t, nodegroup: nodegroupOf.get(t.id) ?? null } : t));
      return {
        arn,
        name: tg.TargetGroupName ?? arn,
        protocol: tg.Protocol ?? null,
        port: tg.Port ?? null,
        targetType: tg.TargetType ?? null,
        loadBalancerArns: [...(tg.LoadBalancerArns ?? [])],
        attachments: attachments.get(arn) ?? [],
        targets,
        healthy: countHealthy(targets),
        attributes,
      };
    },
    io.signal,
  );
  return {
    cluster,
    takenAt: now.toISOString(),
    loadBalancers: lbs.map((l) => ({ arn: l.LoadBalancerArn ?? '', name: l.LoadBalancerName ?? '', dnsName: l.DNSName ?? null })),
    targetGroups: records,
    artefact: null,
  };
}

export async function writeSnapshotArtefact(dir: string, snap: TargetGroupSnapshot): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'target-groups.json');
  await writeFile(file, JSON.stringify({ ...snap, artefact: file }, null, 2) + '\n', { mode: 0o600 });
  return file;
}

/** What a target group looks like now, as far as the guard and post-checks care. */
export interface TargetGroupState {
  arn: string;
  exists: boolean;
  loadBalancerArns: string[];
  targets: TargetRecord[];
  healthy: number;
}

/** One DescribeTargetGroups per 100 ARNs plus one DescribeTargetHealth per group, within budget. */
export async function readTargetGroupStates(io: Elbv2Io, arns: readonly string[]): Promise<Map<string, TargetGroupState>> {
  const found = new Map<string, TargetGroup>();
  try {
    for (const tg of await describeTargetGroups(io, { TargetGroupArns: [...arns] })) if (tg.TargetGroupArn) found.set(tg.TargetGroupArn, tg);
  } catch (e) {
    // One deleted group fails the whole batch: fall back to asking one by one.
    if (!isNotFound(e)) throw e;
    for (const arn of arns) {
      try {
        for (const tg of await describeTargetGroups(io, { TargetGroupArns: [arn] })) found.set(arn, tg);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
  const states = await mapLimited(
    arns,
    DESCRIBE_CONCURRENCY,
    async (arn): Promise<TargetGroupState> => {
      const tg = found.get(arn);
      if (!tg) return { arn, exists: false, loadBalancerArns: [], targets: [], healthy: 0 };
      let targets: TargetRecord[];
      try {
        targets = (await describeTargetHealth(io, arn)).map(toTargetRecord);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        return { arn, exists: false, loadBalancerArns: [], targets: [], healthy: 0 };
      }
      return { arn, exists: true, loadBalancerArns: [...(tg.LoadBalancerArns ?? [])], targets, healthy: countHealthy(targets) };
    },
    io.signal,
  );
  return new Map(states.map((s) => [s.arn, s]));
}

/** Sdk values to plain JSON (drops undefined, Dates to ISO). */
export function toJson(v: unknown): Json {
  return JSON.parse(JSON.stringify(v ?? null)) as Json;
}

export function asActions(j: Json): Action[] {
  return (Array.isArray(j) ? j : []) as unknown as Action[];
}
