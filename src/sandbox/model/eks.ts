import { ADDON_CATALOG, addonEntry, kubernetesRelease, nextMinor } from './catalog.js';
import { ApiError } from './errors.js';
import { freshUuid } from './ids.js';
import type { Addon, Cluster, InsightData, Nodegroup, Update, UpdateTarget, World } from './types.js';
import { addonConflict, afterMutation, cluster as findCluster, schedule, takeFailure } from './world.js';

/** EKS operations on the model. Inputs are already decoded; outputs are model objects. */

function mustCluster(world: World, name: string): Cluster {
  const c = findCluster(world, name);
  if (!c) throw new ApiError('ResourceNotFoundException', `No cluster found for name: ${name}.`, 404, { clusterName: name });
  return c;
}

function mustAddon(c: Cluster, name: string): Addon {
  const a = Object.hasOwn(c.addons, name) ? c.addons[name] : undefined;
  if (!a) throw new ApiError('ResourceNotFoundException', `No addon: ${name} found in cluster: ${c.name}`, 404, { clusterName: c.name, addonName: name });
  return a;
}

function mustNodegroup(c: Cluster, name: string): Nodegroup {
  const ng = Object.hasOwn(c.nodegroups, name) ? c.nodegroups[name] : undefined;
  if (!ng) throw new ApiError('ResourceNotFoundException', `No node group found for name: ${name}.`, 404, { clusterName: c.name, nodegroupName: name });
  return ng;
}

export function describeCluster(world: World, name: string): Cluster {
  return mustCluster(world, name);
}

export function listClusters(world: World): string[] {
  return Object.keys(world.clusters).sort();
}

function sameTarget(a: UpdateTarget, b: UpdateTarget): boolean {
  return a.kind === b.kind && (a.kind === 'cluster' || (b.kind !== 'cluster' && a.name === b.name));
}

function inProgress(c: Cluster, target: UpdateTarget): Update | undefined {
  return Object.values(c.updates).find((u) => u.status === 'InProgress' && sameTarget(u.target, target));
}

function byToken(c: Cluster, token: string | undefined, target: UpdateTarget): Update | undefined {
  if (token === undefined || token === '') return undefined;
  return Object.values(c.updates).find((u) => u.clientRequestToken === token && sameTarget(u.target, target));
}

function newUpdate(world: World, c: Cluster, now: number, type: Update['type'], params: Update['params'], token: string | undefined, target: UpdateTarget): Update {
  const u: Update = { id: freshUuid(world), type, status: 'InProgress', params, createdAt: now, errors: [], clientRequestToken: token ?? null, target };
  c.updates[u.id] = u;
  c.updateOrder.push(u.id);
  return u;
}

export function updateClusterVersion(world: World, now: number, name: string, input: { version?: string; clientRequestToken?: string; force?: boolean }): Update {
  const c = mustCluster(world, name);
  const version = input.version;
  if (version === undefined || version === '') throw new ApiError('InvalidParameterException', 'version is required', 400, { clusterName: name });
  const again = byToken(c, input.clientRequestToken, { kind: 'cluster' });
  if (again) {
    if (again.params.find((p) => p.type === 'Version')?.value !== version) {
      throw new ApiError('InvalidParameterException', 'The clientRequestToken was already used for a different request.', 400, { clusterName: name });
    }
    return again;
  }
  if (inProgress(c, { kind: 'cluster' })) throw new ApiError('ResourceInUseException', 'Cluster has an update in progress', 409, { clusterName: name });
  if (version === c.version) throw new ApiError('InvalidParameterException', `Cluster is already at the desired configuration with version: ${version}`, 400, { clusterName: name });
  if (version !== nextMinor(c.version) || !kubernetesRelease(version)) {
    throw new ApiError('InvalidParameterException', `Unsupported Kubernetes minor version update from ${c.version} to ${version}`, 400, { clusterName: name });
  }
  const rel = kubernetesRelease(version);
  const u = newUpdate(world, c, now, 'VersionUpdate', [
    { type: 'Version', value: version },
    { type: 'PlatformVersion', value: rel?.platformVersion ?? 'eks.1' },
  ], input.clientRequestToken, { kind: 'cluster' });
  const fail = takeFailure(world, 'cluster-version');
  const d = world.durations;
  const done = now + (fail ? d.failedUpdateSeconds : d.clusterUpdateSeconds) * 1000;
  // DescribeCluster lags behind: the update exists at once, the status follows a little later.
  schedule(world, { at: Math.min(now + d.clusterStatusLagSeconds * 1000, done), kind: 'cluster-status', cluster: name, status: 'UPDATING', updateId: u.id });
  schedule(world, { at: done, kind: 'cluster-update-done', cluster: name, updateId: u.id, fail });
  afterMutation(world, c, now, 'UpdateClusterVersion', null, true);
  return u;
}

export function describeUpdate(world: World, name: string, id: string, q: { addonName?: string; nodegroupName?: string }): Update {
  const c = mustCluster(world, name);
  const u = Object.hasOwn(c.updates, id) ? c.updates[id] : undefined;
  const matches =
    u !== undefined &&
    (u.target.kind === 'cluster'
      ? q.addonName === undefined && q.nodegroupName === undefined
      : u.target.kind === 'addon'
        ? q.addonName === u.target.name
        : q.nodegroupName === u.target.name);
  if (!u || !matches) throw new ApiError('ResourceNotFoundException', `No update found for ID: ${id}`, 404, { clusterName: name });
  return u;
}

export function listUpdates(world: World, name: string, q: { addonName?: string; nodegroupName?: string }): string[] {
  const c = mustCluster(world, name);
  if (q.nodegroupName !== undefined) mustNodegroup(c, q.nodegroupName);
  return c.updateOrder.filter((id) => {
    const t = c.updates[id]?.target;
    if (!t) return false;
    if (q.addonName !== undefined) return t.kind === 'addon' && t.name === q.addonName;
    if (q.nodegroupName !== undefined) return t.kind === 'nodegroup' && t.name === q.nodegroupName;
    return t.kind === 'cluster';
  });
}

// ---------------------------------------------------------------- add-ons

export function listAddons(world: World, name: string): string[] {
  return Object.keys(mustCluster(world, name).addons).sort();
}

export function describeAddon(world: World, name: string, addon: string): Addon {
  return mustAddon(mustCluster(world, name), addon);
}

export function describeAddonVersions(_world: World, q: { kubernetesVersion?: string; addonName?: string }): typeof ADDON_CATALOG {
  if (q.kubernetesVersion !== undefined && !kubernetesRelease(q.kubernetesVersion)) {
    throw new ApiError('InvalidParameterException', `Kubernetes version ${q.kubernetesVersion} is not supported`, 400);
  }
  if (q.addonName !== undefined && !addonEntry(q.addonName)) {
    throw new ApiError('ResourceNotFoundException', `Addon ${q.addonName} not found`, 404, { addonName: q.addonName });
  }
  return ADDON_CATALOG.filter((a) => q.addonName === undefined || a.name === q.addonName).map((a) => ({
    ...a,
    versions: a.versions.filter((v) => q.kubernetesVersion === undefined || v.clusterVersions.includes(q.kubernetesVersion)),
  }));
}

function checkAddonVersion(c: Cluster, name: string, version: string): void {
  const entry = addonEntry(name);
  if (!entry) throw new ApiError('InvalidParameterException', `Addon ${name} specified is not supported in ${c.version} kubernetes version`, 400, { clusterName: c.name, addonName: name });
  const v = entry.versions.find((x) => x.version === version);
  if (!v || !v.clusterVersions.includes(c.version)) {
    throw new ApiError('InvalidParameterException', `Addon version specified is not supported, for addon ${name} and version ${version} in ${c.version} kubernetes version`, 400, { clusterName: c.name, addonName: name });
  }
}

function checkResolveConflicts(value: string | undefined, c: Cluster, name: string): void {
  if (value !== undefined && !['NONE', 'OVERWRITE', 'PRESERVE'].includes(value)) {
    throw new ApiError('InvalidParameterException', `resolveConflicts must be one of NONE, OVERWRITE, PRESERVE`, 400, { clusterName: c.name, addonName: name });
  }
}

export interface AddonInput {
  addonName?: string;
  addonVersion?: string;
  resolveConflicts?: string;
  clientRequestToken?: string;
  serviceAccountRoleArn?: string;
  configurationValues?: string;
  tags?: Record<string, string>;
}

export function createAddon(world: World, now: number, clusterName: string, input: AddonInput): Addon {
  const c = mustCluster(world, clusterName);
  const name = input.addonName ?? '';
  if (name === '') throw new ApiError('InvalidParameterException', 'addonName is required', 400, { clusterName });
  const existing = Object.hasOwn(c.addons, name) ? c.addons[name] : undefined;
  if (existing) {
    if (input.clientRequestToken !== undefined && existing.clientRequestToken === input.clientRequestToken) return existing;
    throw new ApiError('ResourceInUseException', `Addon already exists.`, 409, { clusterName, addonName: name });
  }
  checkResolveConflicts(input.resolveConflicts, c, name);
  const entry = addonEntry(name);
  const version = input.addonVersion ?? entry?.versions.find((v) => v.defaultFor.includes(c.version))?.version ?? '';
  checkAddonVersion(c, name, version);
  const overwrite = input.resolveConflicts === 'OVERWRITE';
  const takeover = overwrite && addonConflict(world, c, name, version) !== null;
  const addon: Addon = {
    name,
    arn: `arn:aws:eks:${world.region}:${world.accountId}:addon/${clusterName}/${name}/${freshUuid(world)}`,
    version,
    status: 'CREATING',
    createdAt: now,
    modifiedAt: now,
    serviceAccountRoleArn: input.serviceAccountRoleArn ?? null,
    configurationValues: input.configurationValues ?? null,
    tags: input.tags ?? {},
    issues: [],
    clientRequestToken: input.clientRequestToken ?? null,
  };
  c.addons[name] = addon;
  const fail = takeFailure(world, 'addon', name);
  const secs = fail ? world.durations.failedUpdateSeconds : world.durations.addonCreateSeconds;
  schedule(world, { at: now + secs * 1000, kind: 'addon-done', cluster: clusterName, addon: name, op: 'create', updateId: null, fail, preserve: false, overwrite });
  afterMutation(world, c, now, 'CreateAddon', name, takeover);
  return addon;
}

export function updateAddon(world: World, now: number, clusterName: string, name: string, input: AddonInput): Update {
  const c = mustCluster(world, clusterName);
  const addon = mustAddon(c, name);
  const target: UpdateTarget = { kind: 'addon', name };
  const again = byToken(c, input.clientRequestToken, target);
  if (again) return again;
  checkResolveConflicts(input.resolveConflicts, c, name);
  if (inProgress(c, target) || addon.status === 'CREATING' || addon.status === 'DELETING') {
    throw new ApiError('ResourceInUseException', `Addon ${name} is in ${addon.status} status and has an update in progress`, 409, { clusterName, addonName: name });
  }
  const version = input.addonVersion ?? addon.version;
  checkAddonVersion(c, name, version);
  const params: Update['params'] = [{ type: 'AddonVersion', value: version }];
  if (input.resolveConflicts !== undefined) params.push({ type: 'ResolveConflicts', value: input.resolveConflicts });
  if (input.serviceAccountRoleArn !== undefined) params.push({ type: 'ServiceAccountRoleArn', value: input.serviceAccountRoleArn });
  if (input.configurationValues !== undefined) params.push({ type: 'ConfigurationValues', value: input.configurationValues });
  const u = newUpdate(world, c, now, 'AddonUpdate', params, input.clientRequestToken, target);
  addon.status = 'UPDATING';
  addon.modifiedAt = now;
  addon.version = version;
  if (input.serviceAccountRoleArn !== undefined) addon.serviceAccountRoleArn = input.serviceAccountRoleArn;
  if (input.configurationValues !== undefined) addon.configurationValues = input.configurationValues;
  const fail = takeFailure(world, 'addon', name);
  const secs = fail ? world.durations.failedUpdateSeconds : world.durations.addonUpdateSeconds;
  schedule(world, { at: now + secs * 1000, kind: 'addon-done', cluster: clusterName, addon: name, op: 'update', updateId: u.id, fail, preserve: false, overwrite: true });
  afterMutation(world, c, now, 'UpdateAddon', name, input.resolveConflicts === 'OVERWRITE');
  return u;
}

export function deleteAddon(world: World, now: number, clusterName: string, name: string, preserve: boolean): Addon {
  const c = mustCluster(world, clusterName);
  const addon = mustAddon(c, name);
  if (addon.status === 'DELETING') return addon;
  addon.status = 'DELETING';
  addon.modifiedAt = now;
  schedule(world, { at: now + world.durations.addonDeleteSeconds * 1000, kind: 'addon-done', cluster: clusterName, addon: name, op: 'delete', updateId: null, fail: false, preserve, overwrite: false });
  afterMutation(world, c, now, 'DeleteAddon', name, false);
  return addon;
}

// ---------------------------------------------------------------- node groups

export function listNodegroups(world: World, clusterName: string): string[] {
  return Object.keys(mustCluster(world, clusterName).nodegroups).sort();
}

export function describeNodegroup(world: World, clusterName: string, name: string): Nodegroup {
  return mustNodegroup(mustCluster(world, clusterName), name);
}

export function updateNodegroupVersion(
  world: World,
  now: number,
  clusterName: string,
  name: string,
  input: { version?: string; releaseVersion?: string; force?: boolean; clientRequestToken?: string },
): Update {
  const c = mustCluster(world, clusterName);
  const ng = mustNodegroup(c, name);
  const target: UpdateTarget = { kind: 'nodegroup', name };
  const again = byToken(c, input.clientRequestToken, target);
  if (again) return again;
  if (inProgress(c, target)) throw new ApiError('ResourceInUseException', `Nodegroup ${name} already has an update in progress`, 409, { clusterName, nodegroupName: name });
  const version = input.version ?? c.version;
  const rel = kubernetesRelease(version);
  if (!rel) throw new ApiError('InvalidParameterException', `Requested Kubernetes version ${version} is invalid`, 400, { clusterName, nodegroupName: name });
  if (Number(version.split('.')[1]) > Number(c.version.split('.')[1])) {
    throw new ApiError('InvalidParameterException', `Requested Nodegroup version ${version} is newer than the cluster version ${c.version}`, 400, { clusterName, nodegroupName: name });
  }
  const releaseVersion = input.releaseVersion ?? rel.amiReleaseVersion;
  if (!releaseVersion.startsWith(version)) {
    throw new ApiError('InvalidParameterException', `Requested release version ${releaseVersion} is not valid for kubernetes version ${version}.`, 400, { clusterName, nodegroupName: name });
  }
  const u = newUpdate(world, c, now, 'VersionUpdate', [
    { type: 'Version', value: version },
    { type: 'ReleaseVersion', value: releaseVersion },
  ], input.clientRequestToken, target);
  ng.status = 'UPDATING';
  ng.modifiedAt = now;
  const fail = takeFailure(world, 'nodegroup', name);
  const step = world.durations.nodeReplaceSeconds * 1000;
  if (fail) {
    schedule(world, { at: now + world.durations.failedUpdateSeconds * 1000, kind: 'nodegroup-update-done', cluster: clusterName, nodegroup: name, updateId: u.id, fail });
  } else {
    // Surge one node at a time: the new node joins half-way through its slot, the old one leaves at its end.
    // DescribeNodegroup reports the new version only when the roll is done.
    ng.nodes.forEach((node, i) => {
      schedule(world, { at: now + i * step + step / 2, kind: 'node-join', cluster: clusterName, nodegroup: name, updateId: u.id, version, releaseVersion });
      schedule(world, { at: now + (i + 1) * step, kind: 'node-leave', cluster: clusterName, nodegroup: name, updateId: u.id, node });
    });
    schedule(world, { at: now + Math.max(1, ng.nodes.length) * step, kind: 'nodegroup-update-done', cluster: clusterName, nodegroup: name, updateId: u.id, fail: false });
  }
  afterMutation(world, c, now, 'UpdateNodegroupVersion', name, !fail);
  return u;
}

// ---------------------------------------------------------------- insights

/** Static insights from the scenario plus ones computed from the world as it is now. */
export function insights(world: World, c: Cluster): InsightData[] {
  const next = nextMinor(c.version);
  const skewed = Object.values(c.nodegroups).filter((ng) => ng.version !== c.version);
  const addonsBehind = Object.values(c.addons).filter((a) => !addonEntry(a.name)?.versions.find((v) => v.version === a.version)?.clusterVersions.includes(next));
  const dynamic: InsightData[] = [
    {
      id: insightId(c, 'kubelet-skew'),
      name: 'Kubelet version skew',
      kubernetesVersion: next,
      status: skewed.length === 0 ? 'PASSING' : 'WARNING',
      reason: skewed.length === 0 ? 'No kubelet version skew detected.' : `Node groups behind the control plane: ${skewed.map((n) => n.name).join(', ')}`,
      description: 'Checks for kubelet versions of worker nodes in the cluster to see if upgrade would cause noncompliance with supported Kubernetes kubelet version skew policy.',
      recommendation: 'Upgrade your worker nodes to match the Kubernetes version of your cluster control plane.',
      lastTransitionTime: c.createdAt,
    },
    {
      id: insightId(c, 'addon-compat'),
      name: 'Amazon EKS add-on version compatibility',
      kubernetesVersion: next,
      status: addonsBehind.length === 0 ? 'PASSING' : 'ERROR',
      reason: addonsBehind.length === 0 ? 'All installed add-on versions are compatible with the next Kubernetes version.' : `Add-ons not compatible with ${next}: ${addonsBehind.map((a) => `${a.name} ${a.version}`).join(', ')}`,
      description: 'Checks version of installed EKS add-ons to ensure they are compatible with the next version of Kubernetes.',
      recommendation: 'Upgrade your EKS add-on to a newer version that is supported by the next Kubernetes version.',
      lastTransitionTime: c.createdAt,
    },
  ];
  return [...c.insights, ...dynamic];
}

function insightId(c: Cluster, what: string): string {
  const hex = Buffer.from(`${c.id}${what}`).toString('hex').padEnd(32, '0').slice(-32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function listInsights(world: World, clusterName: string, filter: { categories?: string[]; kubernetesVersions?: string[]; statuses?: string[] }): InsightData[] {
  const c = mustCluster(world, clusterName);
  if (filter.categories?.some((x) => x !== 'UPGRADE_READINESS' && x !== 'MISCONFIGURATION')) {
    throw new ApiError('InvalidParameterException', 'Invalid insight category', 400, { clusterName });
  }
  if (filter.categories && !filter.categories.includes('UPGRADE_READINESS')) return [];
  return insights(world, c).filter(
    (i) => (!filter.kubernetesVersions || filter.kubernetesVersions.includes(i.kubernetesVersion)) && (!filter.statuses || filter.statuses.includes(i.status)),
  );
}

export function describeInsight(world: World, clusterName: string, id: string): InsightData {
  const c = mustCluster(world, clusterName);
  const i = insights(world, c).find((x) => x.id === id);
  if (!i) throw new ApiError('ResourceNotFoundException', `No insight found for id: ${id}`, 404, { clusterName });
  return i;
}
