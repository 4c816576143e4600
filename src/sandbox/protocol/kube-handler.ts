import { parse as parseYaml } from 'yaml';
import { kubernetesRelease } from '../model/catalog.js';
import { ApiError } from '../model/errors.js';
import { apiVersionOf, KUBE_RESOURCES, resourceFor, type KubeResource } from '../model/kube.js';
import { kubeCreate, kubeDelete, kubeGet, kubeList, kubePatch, kubeReplace, mustKubeCluster, type PatchType } from '../model/kube-ops.js';
import type { KubeObject } from '../model/types.js';
import type { ErrorEncoder, HandlerContext, ResolvedCall, WireRequest, WireResponse } from './types.js';

/**
 * The Kubernetes API of each sandbox cluster, under /k8s/<cluster>: legacy discovery and plain
 * JSON (kubectl v1.32 falls back to both when the server ignores its aggregated-discovery and
 * Table Accept headers), CRUD and the patch types kubectl sends. No watch.
 */

const REASONS: Record<number, string> = { 400: 'BadRequest', 404: 'NotFound', 405: 'MethodNotAllowed', 409: 'AlreadyExists', 415: 'UnsupportedMediaType', 422: 'Invalid', 500: 'InternalError', 503: 'ServiceUnavailable', 429: 'TooManyRequests' };

export const kubeErrors: ErrorEncoder = {
  error(code, message, status, requestId, fields = {}) {
    const reason = /^[A-Z][A-Za-z]+$/.test(code) && !code.endsWith('Exception') ? code : (REASONS[status] ?? 'InternalError');
    const details = fields['name'] !== undefined ? { name: fields['name'], group: fields['group'] ?? '', kind: fields['kind'] } : undefined;
    const body = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code: status };
    return { status, headers: { 'content-type': 'application/json', 'audit-id': requestId }, body: JSON.stringify(body) };
  },
};

function json(body: unknown, status = 200): WireResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

interface Target {
  resource: KubeResource;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

/** /api/v1/namespaces/ns/pods/name → resource, namespace, name. */
function parseResourcePath(parts: string[]): Target | 'discovery' | undefined {
  let group = '';
  let version: string | undefined;
  let rest: string[];
  if (parts[0] === 'api') {
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis') {
    group = parts[1] ?? '';
    version = parts[2];
    rest = parts.slice(3);
  } else return undefined;
  if (version === undefined) return undefined;
  if (rest.length === 0) return 'discovery';
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = resourceFor(group, version, rest[0] ?? '');
  if (!resource) return undefined;
  if (!resource.namespaced && namespace !== undefined) return undefined;
  return { resource, namespace, name: rest[1], subresource: rest[2] };
}

export function resolveKube(req: WireRequest): ResolvedCall {
  const all = req.path.split('/').filter(Boolean).map(decodeURIComponent);
  const clusterName = all[1] ?? '';
  const parts = all.slice(2);
  // kubectl puts dryRun in the query for writes, but in the DeleteOptions body for deletes.
  const dryRun = req.query.get('dryRun') === 'All' || (req.method === 'DELETE' && deleteOptionsDryRun(req.body));
  const target = parseResourcePath(parts);
  const mutating = req.method !== 'GET' && req.method !== 'HEAD';
  const operation =
    target && target !== 'discovery'
      ? `${verbOf(req.method, target)} ${target.resource.plural}${target.resource.group ? `.${target.resource.group}` : ''}`
      : `${req.method} /${parts.join('/')}`;
  return {
    service: 'kubernetes',
    operation,
    mutating,
    throttled: false,
    params: { cluster: clusterName, path: `/${parts.join('/')}`, ...(target && target !== 'discovery' ? { namespace: target.namespace, name: target.name } : {}), ...(dryRun ? { dryRun: true } : {}), ...(mutating ? { contentType: req.headers['content-type'], body: safeBody(req.body) } : {}) },
    run(ctx) {
      const c = mustKubeCluster(ctx.world, clusterName);
      if (req.method === 'GET' && parts.length === 1 && parts[0] === 'version') return json(versionInfo(c.version));
      if (req.method === 'GET' && parts.length === 1 && parts[0] === 'api') return json({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: ctx.endpoint.replace(/^https?:\/\//, '') }] });
      if (req.method === 'GET' && parts.length === 1 && parts[0] === 'apis') return json(groupList());
      if (req.method === 'GET' && parts[0] === 'apis' && parts.length === 2) {
        const g = groupList().groups.find((x) => x.name === parts[1]);
        if (!g) throw new ApiError('NotFound', 'the server could not find the requested resource', 404);
        return json({ kind: 'APIGroup', apiVersion: 'v1', ...g });
      }
      if (req.method === 'GET' && parts[0] === 'openapi' && parts[1] === 'v3') return json(openApiV3(`/k8s/${encodeURIComponent(clusterName)}`, parts.slice(2)));
      if (target === 'discovery') return json(resourceList(parts[0] === 'api' ? '' : (parts[1] ?? ''), parts[0] === 'api' ? (parts[1] ?? '') : (parts[2] ?? '')));
      if (!target || target.subresource !== undefined) throw new ApiError('NotFound', 'the server could not find the requested resource', 404);
      return handleResource(ctx, c, target, req, dryRun);
    },
  };
}

function deleteOptionsDryRun(body: string): boolean {
  try {
    const o = JSON.parse(body) as { dryRun?: unknown };
    return Array.isArray(o.dryRun) && o.dryRun.includes('All');
  } catch {
    return false;
  }
}

function safeBody(body: string): unknown {
  try {
    return body === '' ? undefined : JSON.parse(body);
  } catch {
    return body.slice(0, 10_000);
  }
}

function verbOf(method: string, t: Target): string {
  if (method === 'GET') return t.name === undefined ? 'list' : 'get';
  if (method === 'POST') return 'create';
  if (method === 'PUT') return 'update';
  if (method === 'PATCH') return 'patch';
  if (method === 'DELETE') return 'delete';
  return method.toLowerCase();
}

function handleResource(ctx: HandlerContext, c: ReturnType<typeof mustKubeCluster>, t: Target, req: WireRequest, dryRun: boolean): WireResponse {
  const now = ctx.clock.now();
  const r = t.resource;
  if (req.method === 'GET' && t.name === undefined) {
    if (req.query.get('watch') === 'true' || req.query.get('watch') === '1') throw new ApiError('MethodNotAllowed', 'the sandbox does not support watch', 405);
    let items = kubeList(c, r, t.namespace);
    items = filterBySelectors(items, req.query.get('labelSelector'), req.query.get('fieldSelector'));
    return json({ kind: `${r.kind}List`, apiVersion: apiVersionOf(r), metadata: { resourceVersion: String(c.kube.resourceVersion) }, items });
  }
  if (req.method === 'GET' && t.name !== undefined) return json(kubeGet(c, r, t.namespace, t.name));
  if (req.method === 'POST' && t.name === undefined) return json(kubeCreate(c, r, t.namespace, parseBody(req), now, dryRun), 201);
  if (req.method === 'PUT' && t.name !== undefined) return json(kubeReplace(c, r, t.namespace, t.name, parseBody(req), now, dryRun));
  if (req.method === 'PATCH' && t.name !== undefined) {
    const type = patchType(String(req.headers['content-type'] ?? ''));
    const existed = (() => {
      try {
        kubeGet(c, r, t.namespace, t.name);
        return true;
      } catch {
        return false;
      }
    })();
    const out = kubePatch(c, r, t.namespace, t.name, type, parseBody(req, type === 'apply'), now, dryRun);
    return json(out, type === 'apply' && !existed ? 201 : 200);
  }
  if (req.method === 'DELETE' && t.name !== undefined) {
    const prev = kubeDelete(c, r, t.namespace, t.name, dryRun);
    return json({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: t.name, group: r.group, kind: r.plural, uid: prev.metadata.uid } });
  }
  throw new ApiError('MethodNotAllowed', `${req.method} is not supported on ${r.plural}${t.name ? '/NAME' : ''}`, 405);
}

function patchType(contentType: string): PatchType {
  const ct = contentType.split(';')[0]?.trim() ?? '';
  if (ct === 'application/merge-patch+json') return 'merge';
  if (ct === 'application/strategic-merge-patch+json') return 'strategic';
  if (ct === 'application/json-patch+json') return 'json';
  if (ct === 'application/apply-patch+yaml' || ct === 'application/apply-patch+cbor') return 'apply';
  throw new ApiError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`, 415);
}

function parseBody(req: WireRequest, yaml = false): unknown {
  try {
    return yaml ? (parseYaml(req.body) as unknown) : (JSON.parse(req.body) as unknown);
  } catch (e) {
    throw new ApiError('BadRequest', `the body of the request could not be decoded: ${(e as Error).message}`, 400);
  }
}

function getPath(o: KubeObject, path: string): string | undefined {
  let cur: unknown = o;
  for (const p of path.split('.')) cur = typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[p] : undefined;
  return typeof cur === 'string' || typeof cur === 'number' || typeof cur === 'boolean' ? String(cur) : undefined;
}

/** Equality-based selectors: `a=b`, `a==b`, `a!=b`, `a` (exists), `!a`; `key in (x,y)` too. */
export function filterBySelectors(items: KubeObject[], labelSelector: string | null, fieldSelector: string | null): KubeObject[] {
  const label = labelSelector ? splitSelector(labelSelector) : [];
  const field = fieldSelector ? splitSelector(fieldSelector) : [];
  return items.filter((o) => {
    const labels = o.metadata.labels ?? {};
    const okLabels = label.every((term) => matchTerm(term, (k) => labels[k]));
    const okFields = field.every((term) => matchTerm(term, (k) => getPath(o, k)));
    return okLabels && okFields;
  });
}

function splitSelector(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function matchTerm(term: string, get: (k: string) => string | undefined): boolean {
  let m = /^(\S+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
  if (m) {
    const v = get(m[1] ?? '');
    return m[2] === '!=' ? v !== m[3] : v === m[3];
  }
  m = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(term);
  if (m) {
    const v = get(m[1] ?? '');
    const set = (m[3] ?? '').split(',').map((x) => x.trim());
    return m[2] === 'in' ? v !== undefined && set.includes(v) : v === undefined || !set.includes(v);
  }
  if (term.startsWith('!')) return get(term.slice(1)) === undefined;
  return get(term) !== undefined;
}

function versionInfo(minor: string): Record<string, string> {
  const rel = kubernetesRelease(minor);
  const [major, mnr] = minor.split('.');
  return {
    major: major ?? '1',
    minor: `${mnr ?? '0'}+`,
    gitVersion: rel?.gitVersion ?? `v${minor}.0-eks`,
    gitCommit: '49a6c0bf091506e7bafcdb1b142351b69363355a',
    gitTreeState: 'clean',
    buildDate: '2021-06-28T16:42:20Z',
    goVersion: 'go1.15.8',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

function groupList(): { kind: string; apiVersion: string; groups: { name: string; versions: { groupVersion: string; version: string }[]; preferredVersion: { groupVersion: string; version: string } }[] } {
  const groups = new Map<string, string>();
  for (const r of KUBE_RESOURCES) if (r.group !== '') groups.set(r.group, r.version);
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, version]) => {
      const gv = { groupVersion: `${name}/${version}`, version };
      return { name, versions: [gv], preferredVersion: gv };
    }),
  };
}

function resourceList(group: string, version: string): Record<string, unknown> {
  const resources = KUBE_RESOURCES.filter((r) => r.group === group && r.version === version);
  if (resources.length === 0) throw new ApiError('NotFound', 'the server could not find the requested resource', 404);
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? version : `${group}/${version}`,
    resources: resources.map((r) => ({ name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs, ...(r.shortNames.length ? { shortNames: r.shortNames } : {}) })),
  };
}

/**
 * A sparse OpenAPI v3: for every resource, a PATCH operation tagged with its group/version/kind
 * that declares the `fieldValidation` query parameter. kubectl 1.32 reads exactly this to decide
 * that the server validates fields itself, and then skips downloading the (protobuf-only)
 * OpenAPI v2 schema for client-side validation. The sandbox accepts every field (see docs).
 */
function openApiV3(prefix: string, rest: string[]): Record<string, unknown> {
  const gvs = new Map<string, KubeResource[]>();
  for (const r of KUBE_RESOURCES) {
    const key = r.group === '' ? `api/${r.version}` : `apis/${r.group}/${r.version}`;
    gvs.set(key, [...(gvs.get(key) ?? []), r]);
  }
  if (rest.length === 0) {
    return { paths: Object.fromEntries([...gvs.keys()].map((k) => [k, { serverRelativeURL: `${prefix}/openapi/v3/${k}?hash=${k.length}` }])) };
  }
  const resources = gvs.get(rest.join('/'));
  if (!resources) throw new ApiError('NotFound', 'the server could not find the requested resource', 404);
  const paths: Record<string, unknown> = {};
  for (const r of resources) {
    const base = `/${rest.join('/')}`;
    const path = r.namespaced ? `${base}/namespaces/{namespace}/${r.plural}/{name}` : `${base}/${r.plural}/{name}`;
    paths[path] = {
      patch: {
        operationId: `patch${r.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
        parameters: [
          { name: 'dryRun', in: 'query', schema: { type: 'string' } },
          { name: 'fieldManager', in: 'query', schema: { type: 'string' } },
          { name: 'fieldValidation', in: 'query', schema: { type: 'string' } },
          { name: 'force', in: 'query', schema: { type: 'boolean' } },
        ],
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes (sandbox)', version: 'v1.19' }, paths, components: { schemas: {} } };
}
