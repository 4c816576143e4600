import { stepsFor } from '../dsl/define.js';
import type { StepContext } from '../dsl/types.js';
import { describeAddon, describeCluster } from '../aws/eks.js';
import { RunbookError } from '../errors.js';
import { recordTable as table } from '../format.js';
import { eksIo, elbIo, scaled, type EksUpgradeParams } from './context.js';
import type { addonVersionsStep, ClusterVersions } from './preflight.js';
import type { targetGroupSnapshotStep } from './snapshot.js';
import { diffAgainstSnapshot, describeDiff, type TargetGroupDiff } from './target-group-health.js';

type P = EksUpgradeParams;
const step = stepsFor<P>();

/** Targets that were just (re-)registered need a few health checks; wait this long before judging. */
export const POSTCHECK_SETTLE_MS = 5 * 60_000;

export interface CheckRow {
  check: string;
  subject: string;
  expected: string;
  actual: string;
  ok: boolean;
}

interface NodeList {
  items?: {
    metadata?: { name?: string; labels?: Record<string, string> };
    status?: { nodeInfo?: { kubeletVersion?: string }; conditions?: { type?: string; status?: string }[] };
  }[];
}

export async function checkCluster(ctx: StepContext<P>, to: string): Promise<CheckRow[]> {
  const c = await describeCluster(await eksIo(ctx), ctx.params.cluster);
  return [{ check: 'cluster', subject: ctx.params.cluster, expected: `ACTIVE ${to}`, actual: `${c.status ?? '?'} ${c.version ?? '?'}`, ok: c.status === 'ACTIVE' && c.version === to }];
}

export async function checkAddons(ctx: StepContext<P>, expected: Record<string, { target: string }>): Promise<CheckRow[]> {
  const io = await eksIo(ctx);
  const rows: CheckRow[] = [];
  for (const [name, { target }] of Object.entries(expected)) {
    const a = await describeAddon(io, ctx.params.cluster, name);
    const actual = a ? `${a.status ?? '?'} ${a.addonVersion ?? '?'}` : 'not managed';
    rows.push({ check: 'add-on', subject: name, expected: `ACTIVE ${target}`, actual, ok: a?.status === 'ACTIVE' && a.addonVersion === target });
  }
  return rows;
}

/** Every node Ready with a kubelet of the target minor (kubelet "v1.20.4-eks-…"). */
export async function checkNodes(ctx: StepContext<P>, to: string): Promise<CheckRow[]> {
  const list = await ctx.kube.getJson<NodeList>(['get', 'nodes'], { signal: ctx.signal });
  const items = list.items ?? [];
  if (items.length === 0) return [{ check: 'nodes', subject: '(all)', expected: `≥1 node Ready on ${to}`, actual: 'no nodes', ok: false }];
  return items.map((n) => {
    const kubelet = n.status?.nodeInfo?.kubeletVersion ?? '?';
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    const ok = ready && kubelet.replace(/^v/, '').startsWith(`${to}.`);
    return { check: 'node', subject: n.metadata?.name ?? '?', expected: `Ready ${to}`, actual: `${ready ? 'Ready' : 'NotReady'} ${kubelet}`, ok };
  });
}

function tgRow(d: TargetGroupDiff): CheckRow {
  return {
    check: 'target group',
    subject: d.name,
    expected: `attached to ${d.snapshotLoadBalancers} LB(s), ${d.snapshotHealthy} healthy of ${d.snapshotTargets}`,
    actual: d.drift.length === 0 ? `attached to ${d.loadBalancers} LB(s), ${d.healthy} healthy of ${d.targets}` : describeDiff(d),
    ok: d.drift.length === 0,
  };
}

/**
 * Compares the world with the snapshot and the plan: cluster ACTIVE at `to`, add-ons ACTIVE at
 * the versions chosen in preflight, nodes Ready at `to`, every target group attached with at
 * least the snapshot's healthy targets (× minHealthyRatio). Target groups get a settle period
 * (freshly registered targets need a few health checks); a failure lists what differs.
 */
export function postChecksStep(
  v: ClusterVersions,
  deps: { snapshot: ReturnType<typeof targetGroupSnapshotStep>; addonVersions: ReturnType<typeof addonVersionsStep> },
) {
  return step({
    id: 'post-checks',
    title: (ctx) => `Check ${ctx.params.cluster} against the snapshot: cluster, add-ons, nodes, target groups`,
    mutates: false,
    uses: [deps.snapshot, deps.addonVersions],
    run: async (ctx) => {
      const rows: CheckRow[] = [
        ...(await checkCluster(ctx, v.to)),
        ...(await checkAddons(ctx, ctx.output(deps.addonVersions).addons)),
        ...(await checkNodes(ctx, v.to)),
      ];
      const snap = ctx.output(deps.snapshot);
      const ratio = ctx.params.minHealthyRatio ?? 1;
      const io = await elbIo(ctx);
      // A dry run changed nothing: no settling to wait for.
      const deadline = ctx.clock.now() + (ctx.dryRun ? 0 : scaled(ctx, POSTCHECK_SETTLE_MS));
      let diffs: TargetGroupDiff[] = [];
      for (;;) {
        ctx.status(`Comparing ${snap.targetGroups.length} target group(s) with the snapshot`);
        diffs = await diffAgainstSnapshot(io, snap, { strict: true, minHealthyRatio: ratio });
        const bad = diffs.filter((d) => d.drift.length > 0);
        if (bad.length === 0 || ctx.clock.now() >= deadline) break;
        ctx.status(`${bad.length} target group(s) not back to the snapshot yet; checking again`);
        await ctx.clock.sleep(scaled(ctx, 10_000), ctx.signal);
      }
      rows.push(...diffs.map(tgRow));
      const failed = rows.filter((r) => !r.ok);
      const summary = { passed: rows.length - failed.length, failed: failed.length, checks: rows };
      if (failed.length > 0 && ctx.dryRun) {
        // Nothing was changed in a dry run, so differences from the target state are the plan, not a failure.
        ctx.record(`Dry run: ${failed.length} check(s) would still differ, as expected before the upgrade:\n${table(failed.map(({ ok: _ok, ...r }) => r))}`, summary);
        return summary;
      }
      if (failed.length > 0) {
        throw new RunbookError(
          'STEP_FAILED',
          `Post-checks found ${failed.length} difference(s) on ${ctx.params.cluster}:\n${table(failed.map(({ ok: _ok, ...r }) => r))}`,
          {
            hint: 'Fix what differs (the table says what was expected), then retry this step; or roll back the run.',
            details: summary,
          },
        );
      }
      ctx.record(`All ${rows.length} post-checks passed on ${ctx.params.cluster}`, { passed: rows.length });
      return summary;
    },
  });
}
