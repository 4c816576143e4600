import { isoUtc } from '../../ports/clock.js';
import { ApiError } from './errors.js';
import { hashHex, uuidFrom } from './ids.js';
import type { KubeObject, KubeStore } from './types.js';

/** The Kubernetes resources the sandbox serves; discovery documents are generated from this. */
export interface KubeResource {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
  /** Pods are derived from nodes and workloads on read; they cannot be written. */
  readOnly?: boolean;
}

const RW = ['create', 'delete', 'get', 'list', 'patch', 'update'];
const RO = ['get', 'list'];

export const KUBE_RESOURCES: readonly KubeResource[] = [
  { group: '', version: 'v1', plural: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, shortNames: ['ns'], verbs: RW },
  { group: '', version: 'v1', plural: 'nodes', singular: 'node', kind: 'Node', namespaced: false, shortNames: ['no'], verbs: RW },
  { group: '', version: 'v1', plural: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, shortNames: ['po'], verbs: RO, readOnly: true },
  { group: '', version: 'v1', plural: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'], verbs: RW },
  { group: '', version: 'v1', plural: 'serviceaccounts', singular: 'serviceaccount', kind: 'ServiceAccount', namespaced: true, shortNames: ['sa'], verbs: RW },
  { group: '', version: 'v1', plural: 'services', singular: 'service', kind: 'Service', namespaced: true, shortNames: ['svc'], verbs: RW },
  { group: 'apps', version: 'v1', plural: 'daemonsets', singular: 'daemonset', kind: 'DaemonSet', namespaced: true, shortNames: ['ds'], verbs: RW },
  { group: 'apps', version: 'v1', plural: 'deployments', singular: 'deployment', kind: 'Deployment', namespaced: true, shortNames: ['deploy'], verbs: RW },
  { group: 'elbv2.k8s.aws', version: 'v1beta1', plural: 'targetgroupbindings', singular: 'targetgroupbinding', kind: 'TargetGroupBinding', namespaced: true, shortNames: [], verbs: RW },
];

export function resourceFor(group: string, version: string, plural: string): KubeResource | undefined {
  return KUBE_RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function resourceForKind(apiVersion: string, kind: string): KubeResource | undefined {
  const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
  return KUBE_RESOURCES.find((r) => r.group === group && r.version === version && r.kind === kind);
}

export function apiVersionOf(r: KubeResource): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

export function objectKey(r: KubeResource, namespace: string | undefined, name: string): string {
  return `${r.plural}.${r.group}/${r.namespaced ? (namespace ?? 'default') : ''}/${name}`;
}

export function notFound(r: KubeResource, name: string): ApiError {
  const gr = r.group === '' ? r.plural : `${r.plural}.${r.group}`;
  return new ApiError('NotFound', `${gr} "${name}" not found`, 404, { group: r.group, kind: r.plural, name });
}

export function getObject(store: KubeStore, r: KubeResource, namespace: string | undefined, name: string): KubeObject | undefined {
  return store.objects[objectKey(r, namespace, name)];
}

export function listObjects(store: KubeStore, r: KubeResource, namespace?: string): KubeObject[] {
  const prefix = r.namespaced && namespace !== undefined ? `${r.plural}.${r.group}/${namespace}/` : `${r.plural}.${r.group}/`;
  const out: KubeObject[] = [];
  for (const [k, v] of Object.entries(store.objects)) if (k.startsWith(prefix)) out.push(v);
  return out.sort((a, b) =>
    `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name}`),
  );
}

/**
 * Stores an object as the API server would: uid and creationTimestamp kept from the previous
 * version, resourceVersion bumped, generation bumped when the spec changed.
 */
export function putObject(store: KubeStore, r: KubeResource, obj: KubeObject, now: number): KubeObject {
  const ns = r.namespaced ? (obj.metadata.namespace ?? 'default') : undefined;
  const key = objectKey(r, ns, obj.metadata.name);
  const prev = store.objects[key];
  store.resourceVersion += 1;
  const specChanged = !prev || JSON.stringify(prev['spec']) !== JSON.stringify(obj['spec']);
  const metadata: KubeObject['metadata'] = {
    ...obj.metadata,
    name: obj.metadata.name,
    uid: prev?.metadata.uid ?? uuidFrom(hashHex(`${key}@${now}`, 32)),
    resourceVersion: String(store.resourceVersion),
    creationTimestamp: prev?.metadata.creationTimestamp ?? isoUtc(Math.floor(now / 1000) * 1000).replace('.000Z', 'Z'),
  };
  if (ns !== undefined) metadata.namespace = ns;
  else delete metadata.namespace;
  if (obj['spec'] !== undefined && r.kind !== 'Node' && r.kind !== 'Namespace') {
    metadata.generation = (prev?.metadata.generation ?? 0) + (specChanged ? 1 : 0) || 1;
  }
  const stored: KubeObject = { ...obj, apiVersion: apiVersionOf(r), kind: r.kind, metadata };
  store.objects[key] = stored;
  return stored;
}

export function deleteObject(store: KubeStore, r: KubeResource, namespace: string | undefined, name: string): KubeObject | undefined {
  const key = objectKey(r, namespace, name);
  const prev = store.objects[key];
  if (prev) {
    delete store.objects[key];
    store.resourceVersion += 1;
  }
  return prev;
}

export function resourceByKind(kind: string): KubeResource {
  const r = KUBE_RESOURCES.find((x) => x.kind === kind);
  if (!r) throw new Error(`sandbox: no kube resource for kind ${kind}`);
  return r;
}
