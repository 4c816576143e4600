import { randomUUID } from 'node:crypto';
import type { Update } from '@aws-sdk/client-eks';
import { stepsFor } from '../dsl/define.js';
import type { StepContext } from '../dsl/types.js';
import { isAwsError, toRunbookError } from '../aws/errors.js';
import { describeCluster, describeUpdate, listUpdates, updateErrors, waitForUpdate } from '../aws/eks.js';
import { RunbookError } from '../errors.js';
import { eksIo, waitOptions, type EksUpgradeParams } from './context.js';
import type { ClusterVersions } from './preflight.js';

const step = stepsFor<EksUpgradeParams>();

/** AWS's own CLI waiter allows 20 minutes, Terraform 60; minor upgrades usually take 25–40. */
export const CONTROL_PLANE_TIMEOUT_MS = 75 * 60_000;

export const CONTROL_PLANE_IRREVERSIBLE =
  'EKS cannot downgrade a control plane: there is no API to go back to the previous Kubernetes version. ' +
  'Undoing it means a new cluster on the old version with the workloads redeployed (GitOps / backups). ' +
  'Add-ons and node groups can still be handled by hand.';

export interface ControlPlaneOutput {
  cluster: string;
  version: string;
  /** The versions this step moved between (postmortems name them). */
  fromVersion: string;
  toVersion: string;
  updateId: string | null;
  status: string;
  /** The cluster was already on the target version: nothing was sent. */
  alreadyAtTarget: boolean;
}

/** A version update of the cluster to `to` that is still running or has finished. */
async function findVersionUpdate(ctx: StepContext<EksUpgradeParams>, to: string, onlyRunning: boolean): Promise<Update | undefined> {
  const io = await eksIo(ctx);
  for (const id of await listUpdates(io, ctx.params.cluster)) {
    const u = await describeUpdate(io, ctx.params.cluster, id);
    const target = (u.params ?? []).find((p) => p.type === 'Version')?.value;
    if (u.type === 'VersionUpdate' && target === to && (!onlyRunning || u.status === 'InProgress')) return u;
  }
  return undefined;
}

async function waitAndFinish(ctx: StepContext<EksUpgradeParams>, updateId: string, to: string, from: string): Promise<ControlPlaneOutput> {
  const io = await eksIo(ctx);
  const final = await waitForUpdate(io, ctx.params.cluster, updateId, {
    ...waitOptions(ctx, CONTROL_PLANE_TIMEOUT_MS, { minDelayMs: 10_000, maxDelayMs: 30_000 }),
    label: `control plane update ${updateId.slice(0, 8)}… to ${to}`,
  });
  if (final.status !== 'Successful') {
    // The same token would only bring back this failed update: a retry needs a new one.
    ctx.forget('clientRequestToken');
    throw new RunbookError('STEP_FAILED', `Control plane update ${updateId} of ${ctx.params.cluster} to ${to} ended ${final.status ?? 'unknown'}: ${updateErrors(final)}`, {
      hint: 'The cluster stays on its previous version (EKS rolls a failed update back itself). Fix the cause in the update errors, then retry the step.',
      details: { updateId, status: final.status },
    });
  }
  ctx.record(`Control plane of ${ctx.params.cluster} is on ${to} (update ${updateId})`, { updateId });
  return { cluster: ctx.params.cluster, version: to, fromVersion: from, toVersion: to, updateId, status: 'Successful', alreadyAtTarget: false };
}

/**
 * UpdateClusterVersion to `v.to`. The clientRequestToken is checkpointed before the call, so a
 * resumed run sends the same token (EKS answers with the same update) and never starts a
 * second one; `check` re-attaches to an update that is running or already done.
 */
export function controlPlaneStep(v: ClusterVersions) {
  return step<'upgrade-control-plane', ControlPlaneOutput>({
    id: 'upgrade-control-plane',
    title: (ctx) => `Upgrade the control plane of ${ctx.params.cluster} to ${v.to}`,
    mutates: true,
    approval: (ctx) =>
      `Upgrade the EKS control plane of cluster ${ctx.params.cluster} (${ctx.params.region}) from ${v.from} to ${v.to}. ` +
      'This takes about 25–40 minutes and cannot be undone: EKS has no downgrade.',
    irreversible: CONTROL_PLANE_IRREVERSIBLE,
    timeoutMs: CONTROL_PLANE_TIMEOUT_MS + 5 * 60_000,
    describe: (ctx) =>
      `Would call UpdateClusterVersion(name=${ctx.params.cluster}, version=${v.to}) with a checkpointed clientRequestToken, then poll DescribeUpdate until it is Successful.`,
    check: async (ctx) => {
      const c = await describeCluster(await eksIo(ctx), ctx.params.cluster);
      const running = await findVersionUpdate(ctx, v.to, true);
      if (running?.id) return { done: true, output: await waitAndFinish(ctx, running.id, v.to, v.from), reason: `re-attached to update ${running.id}` };
      if (c.version === v.to && c.status === 'ACTIVE') {
        const done = await findVersionUpdate(ctx, v.to, false);
        return {
          done: true,
          output: { cluster: ctx.params.cluster, version: v.to, fromVersion: v.from, toVersion: v.to, updateId: done?.id ?? null, status: 'Successful', alreadyAtTarget: !done },
          reason: `cluster already on ${v.to}`,
        };
      }
      return { done: false, reason: `cluster on ${c.version ?? '?'}, no update to ${v.to} running` };
    },
    run: async (ctx): Promise<ControlPlaneOutput> => {
      const io = await eksIo(ctx);
      const c = await describeCluster(io, ctx.params.cluster);
      if (c.version === v.to) {
        const running = await findVersionUpdate(ctx, v.to, true);
        if (running?.id) return waitAndFinish(ctx, running.id, v.to, v.from);
        ctx.record(`Control plane of ${ctx.params.cluster} already on ${v.to}: nothing to do`);
        return { cluster: ctx.params.cluster, version: v.to, fromVersion: v.to, toVersion: v.to, updateId: null, status: 'Successful', alreadyAtTarget: true };
      }
      // Durable before the call: a crash between here and the response resumes with this token.
      const token = await ctx.remember('clientRequestToken', () => randomUUID());
      const { UpdateClusterVersionCommand } = await import('@aws-sdk/client-eks');
      let updateId: string | undefined;
      try {
        const res = await io.client.send(
          new UpdateClusterVersionCommand({ name: ctx.params.cluster, version: v.to, clientRequestToken: token }),
          { abortSignal: ctx.signal },
        );
        updateId = res.update?.id;
      } catch (e) {
        // Another update runs (ours from a lost response, or someone else's): attach if it is ours to make.
        if (!isAwsError(e, 'ResourceInUseException')) throw toRunbookError(e, `UpdateClusterVersion ${ctx.params.cluster}`);
        const running = await findVersionUpdate(ctx, v.to, true);
        if (!running?.id) {
          throw new RunbookError('PRECONDITION_FAILED', `Another update is running on ${ctx.params.cluster} and it is not an upgrade to ${v.to}`, {
            cause: e,
            hint: 'Wait for it to finish (aws eks list-updates), then retry the step.',
          });
        }
        updateId = running.id;
      }
      if (!updateId) throw new RunbookError('AWS_ERROR', 'UpdateClusterVersion returned no update id');
      await ctx.remember('updateId', () => updateId ?? '');
      ctx.record(`UpdateClusterVersion ${ctx.params.cluster} → ${v.to} accepted: update ${updateId}`, { updateId, clientRequestToken: token });
      return waitAndFinish(ctx, updateId, v.to, v.from);
    },
  });
}
