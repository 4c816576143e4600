import { ApiError } from './errors.js';
import { hashHex } from './ids.js';
import { deleteObject, getObject, listObjects, notFound, putObject, resourceByKind, type KubeResource } from './kube.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import type { Cluster, KubeObject, World } from './types.js';

/**
 * Kubernetes reads and writes on a cluster's store. Pods and workload status are derived from
 * nodes and workloads at read time, so they always agree with what the EKS side did.
 */

export function mustKubeCluster(world: World, name: string): Cluster {
  const c = Object.hasOwn(world.clusters, name) ? world.clusters[name] : undefined;
  if (!c) throw new ApiError('NotFound', `the server could not find the requested resource (cluster ${name} is not in this sandbox)`, 404);
  return c;
}

export function kubeList(c: Cluster, r: KubeResource, namespace: string | undefined): KubeObject[] {
  if (r.kind === 'Pod') return derivePods(c).filter((p) => namespace === undefined || p.metadata.namespace === namespace);
  return listObjects(c.kube, r, namespace).map((o) => withStatus(c, o));
}

export function kubeGet(c: Cluster, r: KubeResource, namespace: string | undefined, name: string): KubeObject {
  const o = r.kind === 'Pod' ? derivePods(c).find((p) => p.metadata.namespace === namespace && p.metadata.name === name) : getObject(c.kube, r, namespace, name);
  if (!o) throw notFound(r, name);
  return withStatus(c, o);
}

function checkWritable(r: KubeResource): void {
  if (r.readOnly) throw new ApiError('MethodNotAllowed', `the sandbox derives ${r.plural} from nodes and workloads; they cannot be written`, 405);
}

function checkBody(r: KubeResource, body: unknown, namespace: string | undefined, name?: string): KubeObject {
  if (typeof body !== 'object' || body === null) throw new ApiError('BadRequest', 'the body of the request was not a valid object', 400);
  const o = body as KubeObject;
  if (!o.metadata || typeof o.metadata.name !== 'string' || o.metadata.name === '') {
    if (!(o.metadata && typeof o.metadata['generateName'] === 'string')) throw new ApiError('Invalid', `${r.kind} "" is invalid: metadata.name: Required value: name or generateName is required`, 422);
    o.metadata.name = `${String(o.metadata['generateName'])}${hashHex(JSON.stringify(o), 5)}`;
  }
  if (name !== undefined && o.metadata.name !== name) throw new ApiError('BadRequest', `the name of the object (${o.metadata.name}) does not match the name on the URL (${name})`, 400);
  if (r.namespaced && o.metadata.namespace !== undefined && namespace !== undefined && o.metadata.namespace !== namespace) {
    throw new ApiError('BadRequest', 'the namespace of the provided object does not match the namespace sent on the request', 400);
  }
  const kindOk = o.kind === undefined || o.kind === r.kind;
  if (!kindOk) throw new ApiError('BadRequest', `kind ${String(o.kind)} does not match the resource ${r.plural}`, 400);
  return { ...o, metadata: { ...o.metadata, ...(r.namespaced ? { namespace: namespace ?? o.metadata.namespace ?? 'default' } : {}) } };
}

function checkNamespace(c: Cluster, r: KubeResource, namespace: string | undefined): void {
  if (r.namespaced && namespace !== undefined && !getObject(c.kube, resourceByKind('Namespace'), undefined, namespace)) {
    throw new ApiError('NotFound', `namespaces "${namespace}" not found`, 404, { kind: 'namespaces', name: namespace });
  }
}

export function kubeCreate(c: Cluster, r: KubeResource, namespace: string | undefined, body: unknown, now: number, dryRun: boolean): KubeObject {
  checkWritable(r);
  checkNamespace(c, r, namespace);
  const o = checkBody(r, body, namespace);
  if (getObject(c.kube, r, o.metadata.namespace, o.metadata.name)) {
    const gr = r.group === '' ? r.plural : `${r.plural}.${r.group}`;
    throw new ApiError('AlreadyExists', `${gr} "${o.metadata.name}" already exists`, 409, { kind: r.plural, name: o.metadata.name });
  }
  const clean = { ...o, metadata: { ...o.metadata, resourceVersion: undefined, uid: undefined } };
  return dryRun ? clean : withStatus(c, putObject(c.kube, r, clean, now));
}

export function kubeReplace(c: Cluster, r: KubeResource, namespace: string | undefined, name: string, body: unknown, now: number, dryRun: boolean): KubeObject {
  checkWritable(r);
  const prev = getObject(c.kube, r, namespace, name);
  if (!prev) throw notFound(r, name);
  const o = checkBody(r, body, namespace, name);
  const rv = o.metadata.resourceVersion;
  if (rv !== undefined && rv !== '' && rv !== prev.metadata.resourceVersion) {
    throw new ApiError('Conflict', `Operation cannot be fulfilled on ${r.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`, 409, { kind: r.plural, name });
  }
  return dryRun ? o : withStatus(c, putObject(c.kube, r, o, now));
}

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

export function kubePatch(c: Cluster, r: KubeResource, namespace: string | undefined, name: string, type: PatchType, patch: unknown, now: number, dryRun: boolean): KubeObject {
  checkWritable(r);
  const prev = getObject(c.kube, r, namespace, name);
  if (!prev) {
    // Server-side apply creates what does not exist yet.
    if (type === 'apply') return kubeCreate(c, r, namespace, patch, now, dryRun);
    throw notFound(r, name);
  }
  let next: unknown;
  try {
    next =
      type === 'merge'
        ? mergePatch(prev, patch)
        : type === 'json'
          ? jsonPatch(prev, patch)
          : strategicMergePatch(prev, type === 'apply' ? withoutManagedFields(patch) : patch);
  } catch (e) {
    throw new ApiError('BadRequest', `the patch could not be applied: ${(e as Error).message}`, 400);
  }
  const o = checkBody(r, next, namespace, name);
  return dryRun ? o : withStatus(c, putObject(c.kube, r, { ...o, metadata: { ...o.metadata, resourceVersion: prev.metadata.resourceVersion } }, now));
}

function withoutManagedFields(p: unknown): unknown {
  if (typeof p !== 'object' || p === null) return p;
  const o = p as KubeObject;
  if (!o.metadata) return o;
  const { managedFields: _m, ...metadata } = o.metadata;
  return { ...o, metadata };
}

export function kubeDelete(c: Cluster, r: KubeResource, namespace: string | undefined, name: string, dryRun: boolean): KubeObject {
  checkWritable(r);
  const prev = getObject(c.kube, r, namespace, name);
  if (!prev) throw notFound(r, name);
  if (!dryRun) deleteObject(c.kube, r, namespace, name);
  return prev;
}

// ---------------------------------------------------------------- derived state

interface Container {
  name?: string;
  image?: string;
}

function templateOf(o: KubeObject): { labels: Record<string, string>; spec: { containers?: Container[]; [k: string]: unknown } } {
  const t = (o['spec'] as { template?: { metadata?: { labels?: Record<string, string> }; spec?: { containers?: Container[] } } } | undefined)?.template;
  return { labels: t?.metadata?.labels ?? {}, spec: t?.spec ?? {} };
}

function readyNodes(c: Cluster): KubeObject[] {
  return listObjects(c.kube, resourceByKind('Node')).filter((n) => !(n['spec'] as { unschedulable?: boolean } | undefined)?.unschedulable);
}

function nodeIp(n: KubeObject): string {
  const addrs = (n['status'] as { addresses?: { type: string; address: string }[] } | undefined)?.addresses ?? [];
  return addrs.find((a) => a.type === 'InternalIP')?.address ?? '10.0.0.1';
}

/** Pods as the scheduler would have placed them: one per node per DaemonSet, Deployment replicas spread over nodes. */
export function derivePods(c: Cluster): KubeObject[] {
  const nodes = readyNodes(c);
  const pods: KubeObject[] = [];
  const pod = (owner: KubeObject, ownerKind: string, ownerName: string, name: string, node: KubeObject | undefined, i: number): KubeObject => {
    const t = templateOf(owner);
    const containers = t.spec.containers ?? [];
    const hostNetwork = (t.spec as { hostNetwork?: boolean }).hostNetwork === true;
    const ip = node ? nodeIp(node) : '';
    const podIp = hostNetwork ? ip : ip.replace(/\.\d+$/, `.${100 + ((i * 7) % 150)}`);
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: owner.metadata.namespace ?? 'default',
        uid: `${hashHex(`${c.name}/${name}`, 8)}-${hashHex(name, 4)}-4${hashHex(name + '1', 3)}-a${hashHex(name + '2', 3)}-${hashHex(name + '3', 12)}`,
        resourceVersion: String(c.kube.resourceVersion),
        creationTimestamp: (node?.metadata.creationTimestamp ?? owner.metadata.creationTimestamp) ?? '',
        labels: { ...t.labels },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: ownerKind, name: ownerName, uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
      },
      spec: { ...t.spec, nodeName: node?.metadata.name },
      status: {
        phase: 'Running',
        hostIP: ip,
        podIP: podIp,
        podIPs: [{ ip: podIp }],
        conditions: [
          { type: 'Initialized', status: 'True' },
          { type: 'Ready', status: 'True' },
          { type: 'ContainersReady', status: 'True' },
          { type: 'PodScheduled', status: 'True' },
        ],
        containerStatuses: containers.map((ct) => ({ name: ct.name, image: ct.image, imageID: `docker-pullable://${ct.image ?? ''}`, ready: true, started: true, restartCount: 0, state: { running: { startedAt: owner.metadata.creationTimestamp } } })),
        qosClass: 'Burstable',
        startTime: owner.metadata.creationTimestamp,
      },
    };
  };
  for (const ds of listObjects(c.kube, resourceByKind('DaemonSet'))) {
    for (const [i, n] of nodes.entries()) pods.push(pod(ds, 'DaemonSet', ds.metadata.name, `${ds.metadata.name}-${hashHex(n.metadata.name + ds.metadata.name, 5).replace(/[0-9]/g, (d) => 'bcdfghjklm'[Number(d)] ?? 'x')}`, n, i));
  }
  for (const d of listObjects(c.kube, resourceByKind('Deployment'))) {
    const replicas = Number((d['spec'] as { replicas?: number } | undefined)?.replicas ?? 1);
    const rsHash = hashHex(JSON.stringify(templateOf(d)), 10);
    const rsName = `${d.metadata.name}-${rsHash}`;
    for (let i = 0; i < replicas; i++) {
      const node = nodes.length ? nodes[(i + d.metadata.name.length) % nodes.length] : undefined;
      pods.push(pod(d, 'ReplicaSet', rsName, `${rsName}-${hashHex(`${rsName}#${i}`, 5)}`, node, i));
    }
  }
  return pods.sort((a, b) => `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name}`));
}

/** Workload status as the controllers would report it once settled. */
function withStatus(c: Cluster, o: KubeObject): KubeObject {
  const generation = o.metadata.generation ?? 1;
  if (o.kind === 'DaemonSet') {
    const n = readyNodes(c).length;
    return { ...o, status: { currentNumberScheduled: n, desiredNumberScheduled: n, numberAvailable: n, numberMisscheduled: 0, numberReady: n, observedGeneration: generation, updatedNumberScheduled: n } };
  }
  if (o.kind === 'Deployment') {
    const r = Number((o['spec'] as { replicas?: number } | undefined)?.replicas ?? 1);
    const ready = readyNodes(c).length > 0 ? r : 0;
    return {
      ...o,
      status: {
        observedGeneration: generation,
        replicas: r,
        updatedReplicas: r,
        readyReplicas: ready,
        availableReplicas: ready,
        conditions: [
          { type: 'Available', status: ready === r ? 'True' : 'False', reason: ready === r ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', message: ready === r ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.' },
          { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${o.metadata.name}-${hashHex(JSON.stringify(templateOf(o)), 10)}" has successfully progressed.` },
        ],
      },
    };
  }
  return o;
}
