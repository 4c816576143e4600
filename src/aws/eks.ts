import { formatDuration } from '../format.js';
import type { Addon, Cluster, EKSClient, InsightSummary, Nodegroup, Update } from '@aws-sdk/client-eks';
import { RunbookError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import { awsCall, isNotFound, toRunbookError } from './errors.js';

const sdk = () => import('@aws-sdk/client-eks');

export interface EksIo {
  client: EKSClient;
  signal?: AbortSignal;
}

function opts(io: EksIo): { abortSignal?: AbortSignal } {
  return io.signal ? { abortSignal: io.signal } : {};
}

export async function describeCluster(io: EksIo, name: string): Promise<Cluster> {
  const { DescribeClusterCommand } = await sdk();
  try {
    const res = await io.client.send(new DescribeClusterCommand({ name }), opts(io));
    if (!res.cluster) throw new Error('empty DescribeCluster response');
    return res.cluster;
  } catch (e) {
    if (isNotFound(e)) {
      throw new RunbookError('PRECONDITION_FAILED', `Cluster ${name} not found in this account and region`, {
        cause: e,
        hint: 'Check --cluster, --region and --profile (preflight shows the account in use).',
      });
    }
    throw toRunbookError(e, `DescribeCluster ${name}`);
  }
}

/** Follows nextToken until the end; `page` returns the items and the next token. */
async function allPages<T>(page: (token: string | undefined) => Promise<{ items: T[]; next?: string }>): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const res = await page(token);
    out.push(...res.items);
    token = res.next;
  } while (token);
  return out;
}

export async function listNodegroups(io: EksIo, cluster: string): Promise<string[]> {
  const { ListNodegroupsCommand } = await sdk();
  return allPages(async (nextToken) => {
    const res = await awsCall(`ListNodegroups ${cluster}`, () =>
      io.client.send(new ListNodegroupsCommand({ clusterName: cluster, nextToken }), opts(io)),
    );
    return { items: res.nodegroups ?? [], next: res.nextToken };
  });
}

export async function describeNodegroup(io: EksIo, cluster: string, nodegroup: string): Promise<Nodegroup> {
  const { DescribeNodegroupCommand } = await sdk();
  const res = await awsCall(`DescribeNodegroup ${cluster}/${nodegroup}`, () =>
    io.client.send(new DescribeNodegroupCommand({ clusterName: cluster, nodegroupName: nodegroup }), opts(io)),
  );
  if (!res.nodegroup) throw new RunbookError('AWS_ERROR', `DescribeNodegroup ${nodegroup}: empty response`);
  return res.nodegroup;
}

export async function listAddons(io: EksIo, cluster: string): Promise<string[]> {
  const { ListAddonsCommand } = await sdk();
  return allPages(async (nextToken) => {
    const res = await awsCall(`ListAddons ${cluster}`, () =>
      io.client.send(new ListAddonsCommand({ clusterName: cluster, nextToken }), opts(io)),
    );
    return { items: res.addons ?? [], next: res.nextToken };
  });
}

/** The managed add-on, or null when the add-on is not managed by EKS (self-managed or absent). */
export async function describeAddon(io: EksIo, cluster: string, addon: string): Promise<Addon | null> {
  const { DescribeAddonCommand } = await sdk();
  try {
    const res = await io.client.send(new DescribeAddonCommand({ clusterName: cluster, addonName: addon }), opts(io));
    return res.addon ?? null;
  } catch (e) {
    if (isNotFound(e)) return null;
    throw toRunbookError(e, `DescribeAddon ${cluster}/${addon}`);
  }
}

/**
 * The version EKS installs by default for this add-on on this Kubernetes version; if none is
 * marked default, the newest compatible one. Throws PRECONDITION_FAILED when none exists.
 */
export async function defaultAddonVersion(io: EksIo, addon: string, kubernetesVersion: string): Promise<string> {
  const { DescribeAddonVersionsCommand } = await sdk();
  const infos = await allPages(async (nextToken) => {
    const res = await awsCall(`DescribeAddonVersions ${addon} ${kubernetesVersion}`, () =>
      io.client.send(new DescribeAddonVersionsCommand({ addonName: addon, kubernetesVersion, nextToken }), opts(io)),
    );
    return { items: res.addons ?? [], next: res.nextToken };
  });
  const compatible: { version: string; isDefault: boolean }[] = [];
  for (const info of infos) {
    if (info.addonName !== addon) continue;
    for (const v of info.addonVersions ?? []) {
      const c = (v.compatibilities ?? []).find((x) => x.clusterVersion === kubernetesVersion);
      if (c && v.addonVersion) compatible.push({ version: v.addonVersion, isDefault: c.defaultVersion === true });
    }
  }
  const chosen = compatible.find((v) => v.isDefault) ?? compatible.sort((a, b) => compareVersions(b.version, a.version))[0];
  if (!chosen) {
    throw new RunbookError('PRECONDITION_FAILED', `No version of add-on ${addon} is compatible with Kubernetes ${kubernetesVersion}`, {
      hint: `Check \`aws eks describe-addon-versions --addon-name ${addon} --kubernetes-version ${kubernetesVersion}\`; the runbook cannot migrate this add-on to managed.`,
    });
  }
  return chosen.version;
}

/** Compares "v1.7.5-eksbuild.1"-like strings numerically, part by part. */
export function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, '').split(/[.\-+]/);
  const pb = b.replace(/^v/, '').split(/[.\-+]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = Number(x.replace(/\D/g, ''));
    const ny = Number(y.replace(/\D/g, ''));
    if (nx !== ny) return nx - ny;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export async function listInsights(io: EksIo, cluster: string, categories: string[] = ['UPGRADE_READINESS']): Promise<InsightSummary[]> {
  const { ListInsightsCommand } = await sdk();
  return allPages(async (nextToken) => {
    const res = await awsCall(`ListInsights ${cluster}`, () =>
      io.client.send(
        new ListInsightsCommand({ clusterName: cluster, filter: { categories: categories as never }, nextToken }),
        opts(io),
      ),
    );
    return { items: res.insights ?? [], next: res.nextToken };
  });
}

/** Update ids of a cluster (or of one add-on / node group when named). */
export async function listUpdates(
  io: EksIo,
  cluster: string,
  of: { addonName?: string; nodegroupName?: string } = {},
): Promise<string[]> {
  const { ListUpdatesCommand } = await sdk();
  return allPages(async (nextToken) => {
    const res = await awsCall(`ListUpdates ${cluster}`, () =>
      io.client.send(new ListUpdatesCommand({ name: cluster, ...of, nextToken }), opts(io)),
    );
    return { items: res.updateIds ?? [], next: res.nextToken };
  });
}

export async function describeUpdate(
  io: EksIo,
  cluster: string,
  updateId: string,
  of: { addonName?: string; nodegroupName?: string } = {},
): Promise<Update> {
  const { DescribeUpdateCommand } = await sdk();
  const res = await awsCall(`DescribeUpdate ${updateId}`, () =>
    io.client.send(new DescribeUpdateCommand({ name: cluster, updateId, ...of }), opts(io)),
  );
  if (!res.update) throw new RunbookError('AWS_ERROR', `DescribeUpdate ${updateId}: empty response`);
  return res.update;
}

/** Updates of a cluster (or add-on / node group) still running, newest first as EKS lists them. */
export async function inProgressUpdates(
  io: EksIo,
  cluster: string,
  of: { addonName?: string; nodegroupName?: string } = {},
): Promise<Update[]> {
  const ids = await listUpdates(io, cluster, of);
  const updates = await Promise.all(ids.map((id) => describeUpdate(io, cluster, id, of)));
  return updates.filter((u) => u.status === 'InProgress');
}

export interface WaitOptions {
  clock: Clock;
  signal?: AbortSignal;
  /** Give up (TIMEOUT) after this long. */
  timeoutMs: number;
  /** First poll delay; grows ×1.5 per poll up to maxDelayMs. */
  minDelayMs: number;
  maxDelayMs: number;
  /** Gets "Waiting for update 3f2… (InProgress, 2m10s)" on every poll. */
  onStatus?: (line: string) => void;
  /** Hold polling while an incident is open (ctx.whilePaused). */
  whilePaused?: () => Promise<void>;
}


/**
 * Polls DescribeUpdate until the update leaves InProgress (EKS has no waiter for it; the
 * cluster status alone is eventually consistent). Returns the final update whatever its
 * status — the caller decides what Failed means for its step.
 */
export async function waitForUpdate(
  io: EksIo,
  cluster: string,
  updateId: string,
  o: WaitOptions & { addonName?: string; nodegroupName?: string; label?: string },
): Promise<Update> {
  const of = { addonName: o.addonName, nodegroupName: o.nodegroupName };
  const started = o.clock.now();
  let delay = o.minDelayMs;
  for (;;) {
    await o.whilePaused?.();
    const u = await describeUpdate(io, cluster, updateId, of);
    const elapsed = o.clock.now() - started;
    const label = o.label ?? `update ${updateId.slice(0, 8)}…`;
    o.onStatus?.(`Waiting for ${label} (${u.status ?? 'unknown'}, ${formatDuration(elapsed)})`);
    if (u.status !== 'InProgress') return u;
    if (elapsed + delay > o.timeoutMs) {
      throw new RunbookError('TIMEOUT', `Update ${updateId} on ${cluster} still InProgress after ${formatDuration(elapsed)}`, {
        hint: `It keeps running at AWS. Watch it with \`aws eks describe-update --name ${cluster} --update-id ${updateId}\`, then resume the run: it re-attaches to the same update.`,
        details: { updateId },
      });
    }
    await o.clock.sleep(delay, o.signal);
    delay = Math.min(o.maxDelayMs, Math.round(delay * 1.5));
  }
}

/** A Failed/Cancelled update's errors as one line. */
export function updateErrors(u: Update): string {
  const errs = (u.errors ?? []).map((e) => `${e.errorCode ?? 'Error'}: ${e.errorMessage ?? ''}`.trim());
  return errs.length > 0 ? errs.join('; ') : 'no error details from EKS';
}

