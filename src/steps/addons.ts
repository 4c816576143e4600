import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Addon } from '@aws-sdk/client-eks';
import { stepsFor } from '../dsl/define.js';
import type { Step, StepContext } from '../dsl/types.js';
import { awsCall, isAwsError, isNotFound, toRunbookError } from '../aws/errors.js';
import { describeAddon, updateErrors, describeUpdate } from '../aws/eks.js';
import { formatDuration } from '../format.js';
import { RunbookError, describeError } from '../errors.js';
import { applyBackup, backupObjects, type KubeObjectRef } from '../kube/backup.js';
import { eksIo, scaled, type EksUpgradeParams } from './context.js';
import type { addonVersionsStep } from './preflight.js';

type P = EksUpgradeParams;
const step = stepsFor<P>();

/** The self-managed objects each add-on's managed version takes over (backed up first). */
export const ADDON_OBJECTS: Readonly<Record<string, readonly KubeObjectRef[]>> = {
  'vpc-cni': [
    { kind: 'daemonset', name: 'aws-node', namespace: 'kube-system' },
    { kind: 'serviceaccount', name: 'aws-node', namespace: 'kube-system' },
    { kind: 'configmap', name: 'amazon-vpc-cni', namespace: 'kube-system' },
  ],
  coredns: [
    { kind: 'deployment', name: 'coredns', namespace: 'kube-system' },
    { kind: 'serviceaccount', name: 'coredns', namespace: 'kube-system' },
    { kind: 'configmap', name: 'coredns', namespace: 'kube-system' },
    { kind: 'service', name: 'kube-dns', namespace: 'kube-system' },
  ],
  'kube-proxy': [
    { kind: 'daemonset', name: 'kube-proxy', namespace: 'kube-system' },
    { kind: 'serviceaccount', name: 'kube-proxy', namespace: 'kube-system' },
    { kind: 'configmap', name: 'kube-proxy', namespace: 'kube-system' },
    { kind: 'configmap', name: 'kube-proxy-config', namespace: 'kube-system' },
  ],
};

/** Add-on creation/update usually takes under 5 minutes; allow three times that. */
export const ADDON_TIMEOUT_MS = 15 * 60_000;
/** A DEGRADED add-on often heals (e.g. pods still rolling): look again for this long before failing. */
export const ADDON_DEGRADED_GRACE_MS = 3 * 60_000;

export interface AddonOutput {
  addon: string;
  version: string;
  /** It was already an EKS add-on before this run (then rollback cannot downgrade it). */
  previouslyManaged: boolean;
  previousVersion: string | null;
  /** The manifest backup of the self-managed objects. */
  backupFile: string;
  /** False when the add-on was already managed at the target version. */
  changed: boolean;
}

interface Before {
  previouslyManaged: boolean;
  previousVersion: string | null;
  backupFile: string;
  saved: string[];
}

function refName(r: KubeObjectRef): string {
  return `${r.kind}/${r.name}`;
}

/** Polls DescribeAddon until ACTIVE at `version`; DEGRADED is re-checked for a grace period first. */
export async function waitForAddon(
  ctx: StepContext<P>,
  name: string,
  version: string,
  updateId: string | null,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const io = await eksIo(ctx);
  const started = ctx.clock.now();
  const timeout = ADDON_TIMEOUT_MS;
  const grace = scaled(ctx, ADDON_DEGRADED_GRACE_MS);
  let degradedSince: number | null = null;
  let delay = scaled(ctx, 5_000);
  for (;;) {
    await ctx.whilePaused();
    const a: Addon | null = await describeAddon(io, ctx.params.cluster, name);
    const now = ctx.clock.now();
    const status = a?.status ?? 'NOT_FOUND';
    ctx.status(`Waiting for add-on ${name} ${version} (${status}, ${formatDuration(now - started)})`);
    if (status === 'ACTIVE' && a?.addonVersion === version) return { ok: true };
    if (status === 'CREATE_FAILED' || status === 'UPDATE_FAILED') return { ok: false, reason: `${status}: ${issues(a)}` };
    if (status === 'DEGRADED') {
      degradedSince ??= now;
      if (now - degradedSince >= grace) return { ok: false, reason: `DEGRADED for ${formatDuration(now - degradedSince)}: ${issues(a)}` };
    } else degradedSince = null;
    if (status === 'ACTIVE' && updateId) {
      // ACTIVE on the old version: the update may have failed outright.
      const u = await describeUpdate(io, ctx.params.cluster, updateId, { addonName: name });
      if (u.status === 'Failed' || u.status === 'Cancelled') return { ok: false, reason: `update ${u.status}: ${updateErrors(u)}` };
    }
    if (now - started + delay > timeout) return { ok: false, reason: `still ${status} after ${formatDuration(now - started)}` };
    await ctx.clock.sleep(delay, ctx.signal);
    delay = Math.min(scaled(ctx, 15_000), Math.round(delay * 1.5));
  }
}

function issues(a: Addon | null): string {
  const list = (a?.health?.issues ?? []).map((i) => `${i.code ?? 'Issue'}: ${i.message ?? ''}`);
  return list.length > 0 ? list.join('; ') : 'no issue reported';
}

/**
 * Puts the self-managed add-on back: the managed add-on is deleted with preserve (its
 * workload keeps running, unmanaged), then the backed-up manifests are re-applied.
 */
export async function restoreSelfManaged(ctx: StepContext<P>, name: string, backupFile: string): Promise<void> {
  const io = await eksIo(ctx);
  const { DeleteAddonCommand } = await import('@aws-sdk/client-eks');
  try {
    await io.client.send(new DeleteAddonCommand({ clusterName: ctx.params.cluster, addonName: name, preserve: true }), { abortSignal: ctx.signal });
    ctx.record(`Deleted the managed add-on ${name} with preserve (its workload keeps running)`);
  } catch (e) {
    if (!isNotFound(e)) throw toRunbookError(e, `DeleteAddon ${name}`);
  }
  const deadline = ctx.clock.now() + ADDON_TIMEOUT_MS;
  for (;;) {
    const a = await describeAddon(io, ctx.params.cluster, name);
    if (!a) break;
    ctx.status(`Waiting for managed add-on ${name} to be deleted (${a.status ?? '?'})`);
    if (ctx.clock.now() > deadline) {
      throw new RunbookError('TIMEOUT', `Managed add-on ${name} is still ${a.status ?? 'present'} after the delete`, {
        hint: `Check \`aws eks describe-addon --cluster-name ${ctx.params.cluster} --addon-name ${name}\`, then re-apply ${backupFile} with kubectl apply -f.`,
      });
    }
    await ctx.clock.sleep(scaled(ctx, 5_000), ctx.signal);
  }
  const { applied } = await applyBackup(ctx.kube, backupFile, ctx.signal);
  ctx.record(`Re-applied the backup of ${name} (${applied} object(s) from ${backupFile})`, { backupFile });
}

/**
 * Migrates one add-on to EKS-managed at the default version for the target Kubernetes version:
 * backup of the self-managed objects, CreateAddon (resolveConflicts OVERWRITE), wait ACTIVE.
 * If it fails, the step puts the self-managed add-on back itself before failing; rollback does
 * the same for a completed migration.
 */
export function migrateAddonStep<const Name extends string>(name: Name, versions: ReturnType<typeof addonVersionsStep>): Step<`addon-${Name}`, AddonOutput, P> {
  const target = (ctx: StepContext<P>): string | null => {
    try {
      return ctx.output(versions).addons[name]?.target ?? null;
    } catch {
      return null; // `runbook show` and dry-run descriptions run before preflight has an output
    }
  };
  return step<`addon-${Name}`, AddonOutput, readonly [typeof versions]>({
    id: `addon-${name}`,
    title: (ctx) => `Switch ${name} to the EKS-managed add-on${target(ctx) ? ` ${target(ctx)}` : ''}`,
    mutates: true,
    uses: [versions],
    approval: (ctx) =>
      `Replace the self-managed ${name} on cluster ${ctx.params.cluster} (${ctx.params.region}) with the EKS-managed add-on ` +
      `${target(ctx) ?? `at the default version for ${versions.id}`}, overwriting its current configuration. ` +
      'A backup of its manifests is kept in the run directory; rollback re-applies it.',
    timeoutMs: ADDON_TIMEOUT_MS + ADDON_DEGRADED_GRACE_MS + 5 * 60_000,
    describe: (ctx) =>
      `Would back up ${(ADDON_OBJECTS[name] ?? []).map(refName).join(', ')} with kubectl, then CreateAddon(${name}, ${target(ctx) ?? 'default version'}, resolveConflicts=OVERWRITE) and wait until it is ACTIVE.`,
    check: async (ctx) => {
      const version = target(ctx);
      const a = await describeAddon(await eksIo(ctx), ctx.params.cluster, name);
      if (!version || !a || a.status !== 'ACTIVE' || a.addonVersion !== version) {
        return { done: false, reason: a ? `${name} is ${a.status ?? '?'} at ${a.addonVersion ?? '?'}` : `${name} is not managed yet` };
      }
      const before = await rememberBefore(ctx, name, a);
      return { done: true, output: output(name, version, before, true), reason: `${name} already ACTIVE at ${version}` };
    },
    run: async (ctx): Promise<AddonOutput> => {
      const version = target(ctx);
      if (!version) throw new RunbookError('PRECONDITION_FAILED', `No target version known for add-on ${name}`, { hint: `Make sure ${versions.id} runs before this step.` });
      const io = await eksIo(ctx);
      const current = await describeAddon(io, ctx.params.cluster, name);
      const before = await rememberBefore(ctx, name, current);
      if (current?.status === 'ACTIVE' && current.addonVersion === version) {
        ctx.record(`${name} is already the EKS-managed add-on at ${version}: nothing to do`);
        return output(name, version, before, false);
      }
      const token = await ctx.remember('clientRequestToken', () => randomUUID());
      const updateId = await createOrUpdate(ctx, name, version, token, current);
      const result = await waitForAddon(ctx, name, version, updateId);
      if (result.ok) {
        ctx.record(`${name} is now the EKS-managed add-on at ${version}`, { addon: name, version });
        return output(name, version, before, true);
      }
      ctx.record(`${name} did not become ACTIVE at ${version} (${result.reason})`, { addon: name, reason: result.reason });
      // A retry must create a new add-on, not be handed this failed one again.
      ctx.forget('clientRequestToken');
      if (before.previouslyManaged) {
        throw new RunbookError('STEP_FAILED', `Add-on ${name} did not become ACTIVE at ${version}: ${result.reason}`, {
          hint: `It was already managed before this run, so there is no self-managed backup to return to; check \`aws eks describe-addon --cluster-name ${ctx.params.cluster} --addon-name ${name}\`.`,
        });
      }
      let undone = 'rolled back: managed add-on deleted with preserve and the backup re-applied';
      try {
        await restoreSelfManaged(ctx, name, before.backupFile);
      } catch (e) {
        undone = `the automatic roll back also failed (${describeError(e)}); re-apply ${before.backupFile} by hand`;
      }
      throw new RunbookError('STEP_FAILED', `Add-on ${name} did not become ACTIVE at ${version}: ${result.reason}; ${undone}`, {
        hint: `${name} runs self-managed as before. Look at the add-on's health issues, then retry this step or roll back the run.`,
        details: { addon: name, backupFile: before.backupFile },
      });
    },
    rollback: async (ctx, out) => {
      if (!out.changed) return;
      if (out.previouslyManaged) {
        throw new RunbookError('ROLLBACK_INCOMPLETE', `${name} was already an EKS add-on (${out.previousVersion ?? '?'}) and EKS cannot downgrade an add-on`, {
          hint: `Leave it at ${out.version}, or delete it with --preserve and apply the version you want by hand.`,
        });
      }
      await restoreSelfManaged(ctx, name, out.backupFile);
    },
  });
}

/** What the add-on was before the run touched it, taken once (checkpointed) with the backup. */
async function rememberBefore(ctx: StepContext<P>, name: string, current: Addon | null): Promise<Before> {
  return ctx.remember('before', async () => {
    const file = join(ctx.artefactsDir, 'addons', `${name}.json`);
    const res = await backupObjects(ctx.kube, ADDON_OBJECTS[name] ?? [], file, ctx.signal);
    ctx.record(`Backed up ${name}: ${res.saved.map(refName).join(', ') || 'nothing found'} → ${file}`, {
      file,
      saved: res.saved.map(refName),
      missing: res.missing.map(refName),
    });
    return { previouslyManaged: current !== null, previousVersion: current?.addonVersion ?? null, backupFile: file, saved: res.saved.map(refName) };
  });
}

function output(name: string, version: string, b: Before, changed: boolean): AddonOutput {
  return { addon: name, version, previouslyManaged: b.previouslyManaged, previousVersion: b.previousVersion, backupFile: b.backupFile, changed };
}

/** CreateAddon for a self-managed add-on, UpdateAddon for a managed one; returns the update id if any. */
async function createOrUpdate(ctx: StepContext<P>, name: string, version: string, token: string, current: Addon | null): Promise<string | null> {
  const io = await eksIo(ctx);
  const { CreateAddonCommand, UpdateAddonCommand } = await import('@aws-sdk/client-eks');
  const cluster = ctx.params.cluster;
  if (current === null) {
    try {
      await io.client.send(
        new CreateAddonCommand({ clusterName: cluster, addonName: name, addonVersion: version, resolveConflicts: 'OVERWRITE', clientRequestToken: token }),
        { abortSignal: ctx.signal },
      );
      ctx.record(`CreateAddon ${name} ${version} (resolveConflicts OVERWRITE) accepted`, { addon: name, version });
    } catch (e) {
      // Our own earlier create (response lost): the add-on exists now, so wait for it.
      if (!isAwsError(e, 'ResourceInUseException')) throw toRunbookError(e, `CreateAddon ${name}`);
    }
    return null;
  }
  if (current.status === 'CREATING' || current.status === 'UPDATING') return null;
  const res = await awsCall(`UpdateAddon ${name}`, () =>
    io.client.send(
      new UpdateAddonCommand({ clusterName: cluster, addonName: name, addonVersion: version, resolveConflicts: 'OVERWRITE', clientRequestToken: token }),
      { abortSignal: ctx.signal },
    ),
  );
  ctx.record(`UpdateAddon ${name} ${current.addonVersion ?? '?'} → ${version} accepted (update ${res.update?.id ?? '?'})`);
  return res.update?.id ?? null;
}
