import { defineGuard } from '../dsl/define.js';
import type { Guard, GuardContext } from '../dsl/types.js';
import { describeError, isRunbookError } from '../errors.js';
import { elbIo, scaled, type EksUpgradeParams } from './context.js';
import { describeDiff, diffAgainstSnapshot, restoreTargetGroup, waitHealthy, type TargetGroupDiff } from './target-group-health.js';
import { listNodes, readTargetGroupStates, type NodeInfo, type TargetGroupSnapshot } from './target-groups.js';
import type { targetGroupSnapshotStep } from './snapshot.js';

type P = EksUpgradeParams;

/** Production poll interval (the sandbox scales it down with pollScale). */
export const GUARD_INTERVAL_MS = 5_000;
/** How long a remediation waits for restored groups to report healthy targets. */
export const REMEDIATION_HEALTHY_TIMEOUT_MS = 5 * 60_000;

function snapshotOf(ctx: GuardContext<P>, snapshot: ReturnType<typeof targetGroupSnapshotStep>): TargetGroupSnapshot | null {
  try {
    return ctx.output(snapshot);
  } catch (e) {
    // Before the snapshot exists there is nothing to compare with (e.g. a known-fix apply step).
    if (isRunbookError(e) && e.code === 'PRECONDITION_FAILED') return null;
    throw e;
  }
}

/**
 * Watches the snapshotted target groups while the run mutates: a group that loses its
 * attachment (or is deleted) or its last healthy target opens an incident. Remediation puts
 * back the forwarding rules and targets from the snapshot and waits for healthy targets.
 * Each poll costs one DescribeTargetGroups per 100 groups and one DescribeTargetHealth per
 * group, drawn from the shared ELBv2 Describe budget.
 */
export function targetGroupGuard(
  snapshot: ReturnType<typeof targetGroupSnapshotStep>,
  opts: { during?: Guard<P>['during']; intervalMs?: number } = {},
): Guard<P> {
  return defineGuard<P>({
    id: 'target-groups-attached',
    title: 'Target groups stay attached to their load balancers with healthy targets',
    during: opts.during ?? 'mutating',
    intervalMs: opts.intervalMs ?? GUARD_INTERVAL_MS,
    uses: [snapshot],
    poll: async (ctx) => {
      const snap = snapshotOf(ctx, snapshot);
      if (!snap || snap.targetGroups.length === 0) return null;
      const diffs = await diffAgainstSnapshot(await elbIo(ctx), snap, { strict: false, minHealthyRatio: 1 });
      const bad = diffs.filter((d) => d.drift.length > 0);
      if (bad.length === 0) return null;
      return {
        summary: `${bad.length} of ${diffs.length} target group(s) out of service: ${bad.map(describeDiff).join('; ')}`,
        headline: `${bad.length} of ${diffs.length} target group(s) of ${ctx.params.cluster} out of service`,
        rows: bad.map((d) => ({
          targetGroup: d.name,
          healthy: `${d.healthy}/${d.snapshotHealthy}`,
          loadBalancers: `${d.loadBalancers}/${d.snapshotLoadBalancers}`,
          rulesLost: d.lostRules.join(', ') || '-',
        })),
        data: { targetGroups: bad.map((d) => ({ ...d })) },
      };
    },
    remediate: async (ctx, finding) => {
      const snap = snapshotOf(ctx, snapshot);
      if (!snap) return;
      const io = await elbIo(ctx);
      const affected = ((finding.data?.['targetGroups'] ?? []) as TargetGroupDiff[]).map((d) => d.arn);
      const records = snap.targetGroups.filter((t) => affected.includes(t.arn));
      const states = await readTargetGroupStates(io, records.map((r) => r.arn));
      let nodes: NodeInfo[] = [];
      try {
        nodes = await listNodes(ctx.kube, ctx.signal);
      } catch (e) {
        ctx.record(`Could not list nodes (${describeError(e)}); re-registering the snapshot's targets only`);
      }
      for (const rec of records) {
        const report = await restoreTargetGroup(io, rec, states.get(rec.arn), nodes);
        const parts = [
          report.rulesRestored.length > 0 ? `${report.rulesRestored.length} forwarding rule(s) restored` : null,
          report.targetsRegistered > 0 ? `${report.targetsRegistered} target(s) re-registered` : null,
          report.targetsRejected.length > 0 ? `${report.targetsRejected.length} target(s) no longer exist` : null,
          ...report.problems,
        ].filter(Boolean);
        ctx.record(`Restored ${rec.name} from the snapshot: ${parts.join(', ') || 'nothing to change'}`, { ...report });
      }
      const short = await waitHealthy(io, records, {
        clock: ctx.clock,
        intervalMs: scaled(ctx, GUARD_INTERVAL_MS),
        timeoutMs: scaled(ctx, REMEDIATION_HEALTHY_TIMEOUT_MS),
        minHealthyRatio: 0,
      });
      if (short.length > 0) ctx.record(`Still without healthy targets after the restore: ${short.join(', ')}`);
      else ctx.record(`All ${records.length} restored target group(s) have healthy targets again`);
    },
  });
}
