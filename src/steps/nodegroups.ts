import { randomUUID } from 'node:crypto';
import { stepsFor } from '../dsl/define.js';
import type { StepContext } from '../dsl/types.js';
import { isAwsError, toRunbookError } from '../aws/errors.js';
import { describeNodegroup, inProgressUpdates, listNodegroups, updateErrors, waitForUpdate } from '../aws/eks.js';
import { RunbookError } from '../errors.js';
import { eksIo, waitOptions, type EksUpgradeParams } from './context.js';
import type { ClusterVersions } from './preflight.js';

type P = EksUpgradeParams;
const step = stepsFor<P>();

/** A rolling replacement takes a few minutes per node; large groups take an hour or more. */
export const NODEGROUP_TIMEOUT_MS = 3 * 60 * 60_000;

export interface NodegroupResult {
  nodegroup: string;
  from: string;
  to: string;
  updateId: string | null;
}

async function upgradeOne(ctx: StepContext<P>, name: string, to: string): Promise<NodegroupResult> {
  const io = await eksIo(ctx);
  const cluster = ctx.params.cluster;
  const ng = await describeNodegroup(io, cluster, name);
  const from = ng.version ?? '?';
  let updateId = (await inProgressUpdates(io, cluster, { nodegroupName: name }))[0]?.id;
  if (!updateId && from === to) return { nodegroup: name, from, to, updateId: null };
  if (!updateId) {
    const token = await ctx.remember(`clientRequestToken:${name}`, () => randomUUID());
    const { UpdateNodegroupVersionCommand } = await import('@aws-sdk/client-eks');
    try {
      const res = await io.client.send(
        new UpdateNodegroupVersionCommand({ clusterName: cluster, nodegroupName: name, version: to, clientRequestToken: token }),
        { abortSignal: ctx.signal },
      );
      updateId = res.update?.id;
    } catch (e) {
      if (!isAwsError(e, 'ResourceInUseException')) throw toRunbookError(e, `UpdateNodegroupVersion ${name}`);
      updateId = (await inProgressUpdates(io, cluster, { nodegroupName: name }))[0]?.id;
    }
    if (!updateId) throw new RunbookError('AWS_ERROR', `UpdateNodegroupVersion ${name} returned no update id`, { hint: 'Retry the step.' });
    ctx.record(`Rolling node group ${name} from ${from} to ${to} (update ${updateId})`, { nodegroup: name, updateId });
  }
  const final = await waitForUpdate(io, cluster, updateId, {
    ...waitOptions(ctx, NODEGROUP_TIMEOUT_MS, { minDelayMs: 10_000, maxDelayMs: 30_000 }),
    nodegroupName: name,
    label: `node group ${name} update ${updateId.slice(0, 8)}…`,
  });
  if (final.status !== 'Successful') {
    // The same token would only bring back this failed update: a retry needs a new one.
    ctx.forget(`clientRequestToken:${name}`);
    throw new RunbookError('STEP_FAILED', `Node group ${name} update ${updateId} ended ${final.status ?? '?'}: ${updateErrors(final)}`, {
      hint: `EKS leaves the group on ${from} (or partly rolled). Fix the cause (e.g. pods that cannot be evicted: PodDisruptionBudgets), then retry the step.`,
    });
  }
  ctx.record(`Node group ${name} is on ${to}`, { nodegroup: name, updateId });
  return { nodegroup: name, from, to, updateId };
}

/** UpdateNodegroupVersion for every managed node group, one at a time, waiting for each roll. */
export function nodegroupsStep(v: ClusterVersions) {
  return step<'upgrade-nodegroups', { nodegroups: NodegroupResult[] }>({
    id: 'upgrade-nodegroups',
    title: (ctx) => `Roll the managed node groups of ${ctx.params.cluster} to ${v.to}`,
    mutates: true,
    approval: (ctx) =>
      `Roll every managed node group of cluster ${ctx.params.cluster} (${ctx.params.region}) to Kubernetes ${v.to}, one group at a time: ` +
      'new nodes join, old ones are drained and terminated.',
    describe: (ctx) => `Would call UpdateNodegroupVersion(version=${v.to}) on each managed node group of ${ctx.params.cluster}, one at a time, waiting for each update to be Successful.`,
    check: async (ctx) => {
      const io = await eksIo(ctx);
      const names = await listNodegroups(io, ctx.params.cluster);
      const results: NodegroupResult[] = [];
      for (const name of names) {
        const ng = await describeNodegroup(io, ctx.params.cluster, name);
        const running = await inProgressUpdates(io, ctx.params.cluster, { nodegroupName: name });
        if (ng.version !== v.to || running.length > 0) return { done: false, reason: `${name} on ${ng.version ?? '?'}${running.length ? ', update running' : ''}` };
        results.push({ nodegroup: name, from: v.from, to: v.to, updateId: null });
      }
      return { done: true, output: { nodegroups: results }, reason: `all ${names.length} node group(s) on ${v.to}` };
    },
    run: async (ctx) => {
      const names = (await listNodegroups(await eksIo(ctx), ctx.params.cluster)).sort();
      const nodegroups: NodegroupResult[] = [];
      for (const name of names) nodegroups.push(await upgradeOne(ctx, name, v.to));
      return { nodegroups };
    },
    // Nothing to undo: nodes now match the control plane, which cannot go back (see the control-plane step).
    rollback: (ctx) => {
      ctx.record(`Node groups of ${ctx.params.cluster} stay on ${v.to}: they match the control plane, and EKS does not downgrade node groups below it`);
    },
  });
}
