import { stepsFor } from '../dsl/define.js';
import { elbIo, type EksUpgradeParams } from './context.js';
import { describeError } from '../errors.js';
import { discoverTargetGroups, listNodes, snapshotTargetGroups, writeSnapshotArtefact, type NodeInfo, type TargetGroupSnapshot } from './target-groups.js';

const step = stepsFor<EksUpgradeParams>();

/**
 * Records every target group of the cluster — load balancers, the listener rules forwarding to
 * it, registered targets with ports and health, attributes — before anything changes. The guard
 * and post-checks compare against it; remediation restores from it. Read-only, but it must see
 * the world after the known fixes, so it runs after them.
 */
export function targetGroupSnapshotStep() {
  return step({
    id: 'snapshot-target-groups',
    title: (ctx) => `Snapshot the target groups of ${ctx.params.cluster} (attachments, targets, health)`,
    mutates: false,
    requiresKnownFixes: true,
    run: async (ctx): Promise<TargetGroupSnapshot> => {
      const io = await elbIo(ctx);
      ctx.status('Finding the load balancers and target groups of the cluster');
      const tgs = await discoverTargetGroups(io, ctx.params.cluster, ctx.params.targetGroupArns ?? []);
      ctx.status(`Reading ${tgs.length} target group(s)`);
      let nodes: NodeInfo[] = [];
      try {
        nodes = await listNodes(ctx.kube, ctx.signal);
      } catch (e) {
        // Without node groups, a restore can only re-register the very same targets.
        ctx.record(`Could not list nodes (${describeError(e)}); the snapshot will not know the node group of instance targets`);
      }
      const snap = await snapshotTargetGroups(io, ctx.params.cluster, tgs, new Date(ctx.clock.now()), nodes);
      const artefact = await writeSnapshotArtefact(ctx.artefactsDir, snap);
      const targets = snap.targetGroups.reduce((n, t) => n + t.targets.length, 0);
      const healthy = snap.targetGroups.reduce((n, t) => n + t.healthy, 0);
      if (snap.targetGroups.length === 0) {
        ctx.record(`No target groups found for ${ctx.params.cluster} (no load balancer tagged elbv2.k8s.aws/cluster=${ctx.params.cluster}); the target-group guard has nothing to watch. Pass --param targetGroupArns=… if that is wrong.`);
      } else {
        ctx.record(
          `Snapshot: ${snap.targetGroups.length} target group(s) on ${snap.loadBalancers.length} load balancer(s), ${healthy}/${targets} targets healthy`,
          { artefact, targetGroups: snap.targetGroups.map((t) => ({ name: t.name, healthy: t.healthy, targets: t.targets.length, attachments: t.attachments.length })) },
        );
      }
      return { ...snap, artefact };
    },
  });
}
