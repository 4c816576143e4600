import type {
  Action,
  ElasticLoadBalancingV2Client,
  Listener,
  LoadBalancer,
  Rule,
  TargetDescription,
  TargetGroup,
  TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsCall, isThrottling } from './errors.js';
import type { TokenBucket } from './limiter.js';

/** What every ELBv2 helper needs: the client, the shared Describe budget, the run's signal. */
export interface Elbv2Io {
  client: ElasticLoadBalancingV2Client;
  budget: TokenBucket;
  signal?: AbortSignal;
}

/** Tags the AWS Load Balancer Controller puts on what it manages for a cluster. */
export const CLUSTER_TAG_KEYS = ['elbv2.k8s.aws/cluster', 'ingress.k8s.aws/cluster'] as const;

/** DescribeTargetGroups pages at most 400; the JS paginator ignores pageSize, so we loop. */
const PAGE_SIZE = 400;
/** DescribeTags takes at most 20 ARNs per call. */
const TAGS_CHUNK = 20;
/** Keep ARN lists in one request short enough for any URL/body limit. */
const ARNS_CHUNK = 100;

const sdk = () => import('@aws-sdk/client-elastic-load-balancing-v2');

/** A non-mutating call: spends a budget token first; a throttle anyway empties our bucket. */
async function describe<T>(io: Elbv2Io, action: string, send: () => Promise<T>): Promise<T> {
  await io.budget.take(io.signal);
  return awsCall(action, async () => {
    try {
      return await send();
    } catch (e) {
      if (isThrottling(e)) io.budget.drain();
      throw e;
    }
  });
}

function opts(io: Elbv2Io): { abortSignal?: AbortSignal } {
  return io.signal ? { abortSignal: io.signal } : {};
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

type TgQuery = { LoadBalancerArn: string } | { TargetGroupArns: string[] } | { Names: string[] } | Record<string, never>;

/** Every target group matching the query, all pages (PageSize in the input: see REFERENCE). */
export async function describeTargetGroups(io: Elbv2Io, query: TgQuery = {}): Promise<TargetGroup[]> {
  const { DescribeTargetGroupsCommand } = await sdk();
  if ('TargetGroupArns' in query && query.TargetGroupArns.length > ARNS_CHUNK) {
    const parts = chunk(query.TargetGroupArns, ARNS_CHUNK);
    const all: TargetGroup[] = [];
    for (const arns of parts) all.push(...(await describeTargetGroups(io, { TargetGroupArns: arns })));
    return all;
  }
  const out: TargetGroup[] = [];
  let marker: string | undefined;
  do {
    const res = await describe(io, 'DescribeTargetGroups', () =>
      io.client.send(new DescribeTargetGroupsCommand({ ...query, PageSize: PAGE_SIZE, Marker: marker }), opts(io)),
    );
    out.push(...(res.TargetGroups ?? []));
    marker = res.NextMarker;
  } while (marker);
  return out;
}

export async function describeLoadBalancers(io: Elbv2Io, arns?: string[]): Promise<LoadBalancer[]> {
  const { DescribeLoadBalancersCommand } = await sdk();
  const out: LoadBalancer[] = [];
  let marker: string | undefined;
  do {
    const res = await describe(io, 'DescribeLoadBalancers', () =>
      io.client.send(
        new DescribeLoadBalancersCommand({ LoadBalancerArns: arns, PageSize: PAGE_SIZE, Marker: marker }),
        opts(io),
      ),
    );
    out.push(...(res.LoadBalancers ?? []));
    marker = res.NextMarker;
  } while (marker);
  return out;
}

/** Tags of many resources, 20 ARNs per call. */
export async function describeTags(io: Elbv2Io, arns: readonly string[]): Promise<Map<string, Record<string, string>>> {
  const { DescribeTagsCommand } = await sdk();
  const tags = new Map<string, Record<string, string>>();
  for (const part of chunk(arns, TAGS_CHUNK)) {
    const res = await describe(io, 'DescribeTags', () =>
      io.client.send(new DescribeTagsCommand({ ResourceArns: part }), opts(io)),
    );
    for (const d of res.TagDescriptions ?? []) {
      if (!d.ResourceArn) continue;
      tags.set(d.ResourceArn, Object.fromEntries((d.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])));
    }
  }
  return tags;
}

export async function describeListeners(io: Elbv2Io, loadBalancerArn: string): Promise<Listener[]> {
  const { DescribeListenersCommand } = await sdk();
  const out: Listener[] = [];
  let marker: string | undefined;
  do {
    const res = await describe(io, `DescribeListeners ${loadBalancerArn}`, () =>
      io.client.send(
        new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn, PageSize: PAGE_SIZE, Marker: marker }),
        opts(io),
      ),
    );
    out.push(...(res.Listeners ?? []));
    marker = res.NextMarker;
  } while (marker);
  return out;
}

/** All rules of a listener, the default rule included (IsDefault: true). */
export async function describeRules(io: Elbv2Io, listenerArn: string): Promise<Rule[]> {
  const { DescribeRulesCommand } = await sdk();
  const out: Rule[] = [];
  let marker: string | undefined;
  do {
    const res = await describe(io, `DescribeRules ${listenerArn}`, () =>
      io.client.send(
        new DescribeRulesCommand({ ListenerArn: listenerArn, PageSize: PAGE_SIZE, Marker: marker }),
        opts(io),
      ),
    );
    out.push(...(res.Rules ?? []));
    marker = res.NextMarker;
  } while (marker);
  return out;
}

/** One call per target group: DescribeTargetHealth is not paginated. */
export async function describeTargetHealth(io: Elbv2Io, targetGroupArn: string): Promise<TargetHealthDescription[]> {
  const { DescribeTargetHealthCommand } = await sdk();
  const res = await describe(io, `DescribeTargetHealth ${targetGroupArn}`, () =>
    io.client.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }), opts(io)),
  );
  return res.TargetHealthDescriptions ?? [];
}

export async function describeTargetGroupAttributes(io: Elbv2Io, targetGroupArn: string): Promise<Record<string, string>> {
  const { DescribeTargetGroupAttributesCommand } = await sdk();
  const res = await describe(io, `DescribeTargetGroupAttributes ${targetGroupArn}`, () =>
    io.client.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: targetGroupArn }), opts(io)),
  );
  return Object.fromEntries((res.Attributes ?? []).map((a) => [a.Key ?? '', a.Value ?? '']));
}

// Mutations: not drawn from the Describe budget (AWS meters them separately); the SDK's
// retry strategy handles their throttling.

export async function modifyTargetGroupAttributes(
  io: Elbv2Io,
  targetGroupArn: string,
  attributes: Record<string, string>,
): Promise<void> {
  const { ModifyTargetGroupAttributesCommand } = await sdk();
  await awsCall(`ModifyTargetGroupAttributes ${targetGroupArn}`, () =>
    io.client.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: targetGroupArn,
        Attributes: Object.entries(attributes).map(([Key, Value]) => ({ Key, Value })),
      }),
      opts(io),
    ),
  );
}

export async function registerTargets(io: Elbv2Io, targetGroupArn: string, targets: TargetDescription[]): Promise<void> {
  if (targets.length === 0) return;
  const { RegisterTargetsCommand } = await sdk();
  await awsCall(`RegisterTargets ${targetGroupArn}`, () =>
    io.client.send(new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: targets }), opts(io)),
  );
}

export async function modifyRuleActions(io: Elbv2Io, ruleArn: string, actions: Action[]): Promise<void> {
  const { ModifyRuleCommand } = await sdk();
  await awsCall(`ModifyRule ${ruleArn}`, () =>
    io.client.send(new ModifyRuleCommand({ RuleArn: ruleArn, Actions: actions }), opts(io)),
  );
}

export async function modifyListenerDefaultActions(io: Elbv2Io, listenerArn: string, actions: Action[]): Promise<void> {
  const { ModifyListenerCommand } = await sdk();
  await awsCall(`ModifyListener ${listenerArn}`, () =>
    io.client.send(new ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions: actions }), opts(io)),
  );
}

/** Target group ARNs an action list forwards to (single-TG forward and weighted ForwardConfig). */
export function forwardedTargetGroups(actions: readonly Action[] | undefined): string[] {
  const arns = new Set<string>();
  for (const a of actions ?? []) {
    if (a.Type !== 'forward') continue;
    if (a.TargetGroupArn) arns.add(a.TargetGroupArn);
    for (const t of a.ForwardConfig?.TargetGroups ?? []) if (t.TargetGroupArn) arns.add(t.TargetGroupArn);
  }
  return [...arns];
}

/** Load balancers the cluster's controller manages, found by the controller's cluster tag. */
export async function findClusterLoadBalancers(io: Elbv2Io, cluster: string): Promise<LoadBalancer[]> {
  const lbs = await describeLoadBalancers(io);
  const tags = await describeTags(io, lbs.map((l) => l.LoadBalancerArn ?? '').filter(Boolean));
  return lbs.filter((l) => hasClusterTag(tags.get(l.LoadBalancerArn ?? ''), cluster));
}

/** Target groups carrying the cluster tag (also those already detached from every LB). */
export async function findClusterTargetGroups(io: Elbv2Io, cluster: string): Promise<TargetGroup[]> {
  const tgs = await describeTargetGroups(io);
  const tags = await describeTags(io, tgs.map((t) => t.TargetGroupArn ?? '').filter(Boolean));
  return tgs.filter((t) => hasClusterTag(tags.get(t.TargetGroupArn ?? ''), cluster));
}

export function hasClusterTag(tags: Record<string, string> | undefined, cluster: string): boolean {
  return CLUSTER_TAG_KEYS.some((k) => tags?.[k] === cluster);
}
