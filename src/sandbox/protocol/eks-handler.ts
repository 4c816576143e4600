import type { AddonCatalogEntry } from '../model/catalog.js';
import * as eks from '../model/eks.js';
import { ApiError } from '../model/errors.js';
import type { Addon, Cluster, InsightData, Nodegroup, Update, World } from '../model/types.js';
import type { ErrorEncoder, HandlerContext, ResolvedCall, WireRequest, WireResponse } from './types.js';

/** EKS speaks restJson1: routes by method + path, JSON bodies, epoch-second timestamps. */

export const eksErrors: ErrorEncoder = {
  error(code, message, status, requestId, fields = {}) {
    return {
      status,
      headers: { 'content-type': 'application/json', 'x-amzn-errortype': `${code}:http://internal.amazon.com/coral/com.amazon.eks.coral/`, 'x-amzn-requestid': requestId },
      body: JSON.stringify({ ...fields, message }),
    };
  },
};

const secs = (ms: number): number => Math.round(ms) / 1000;

type Json = Record<string, unknown>;
interface Route {
  method: string;
  pattern: RegExp;
  operation: string;
  mutating?: boolean;
  run(ctx: HandlerContext, m: string[], q: URLSearchParams, body: Json): Json;
}

const s = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const qs = (q: URLSearchParams, k: string): string | undefined => q.get(k) ?? undefined;
const seg = (m: string[], i: number): string => decodeURIComponent(m[i] ?? '');

function page<T>(items: readonly T[], q: URLSearchParams | Json, max = 100): { items: T[]; nextToken: string | undefined } {
  const get = (k: string): string | undefined => {
    if (q instanceof URLSearchParams) return q.get(k) ?? undefined;
    const v = q[k];
    return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
  };
  const maxResults = get('maxResults') !== undefined ? Number(get('maxResults')) : max;
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > max) throw new ApiError('InvalidParameterException', `maxResults must be between 1 and ${max}`);
  const token = get('nextToken');
  const start = token ? Number(Buffer.from(token, 'base64').toString('utf8').replace(/^t:/, '')) : 0;
  if (!Number.isInteger(start) || start < 0) throw new ApiError('InvalidParameterException', 'The nextToken is not valid');
  const slice = items.slice(start, start + maxResults);
  return { items: slice, nextToken: start + maxResults < items.length ? Buffer.from(`t:${start + maxResults}`).toString('base64') : undefined };
}

const ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/clusters$/, operation: 'ListClusters', run: ({ world }, _m, q) => { const p = page(eks.listClusters(world), q); return { clusters: p.items, nextToken: p.nextToken }; } },
  { method: 'GET', pattern: /^\/clusters\/([^/]+)$/, operation: 'DescribeCluster', run: (ctx, m) => ({ cluster: clusterView(ctx, eks.describeCluster(ctx.world, seg(m, 1))) }) },
  {
    method: 'POST',
    pattern: /^\/clusters\/([^/]+)\/updates$/,
    operation: 'UpdateClusterVersion',
    mutating: true,
    run: ({ world, clock }, m, _q, b) => ({ update: updateView(eks.updateClusterVersion(world, clock.now(), seg(m, 1), { version: s(b['version']), clientRequestToken: s(b['clientRequestToken']), force: b['force'] === true })) }),
  },
  {
    method: 'GET',
    pattern: /^\/clusters\/([^/]+)\/updates$/,
    operation: 'ListUpdates',
    run: ({ world }, m, q) => {
      const p = page(eks.listUpdates(world, seg(m, 1), { addonName: qs(q, 'addonName'), nodegroupName: qs(q, 'nodegroupName') }), q);
      return { updateIds: p.items, nextToken: p.nextToken };
    },
  },
  {
    method: 'GET',
    pattern: /^\/clusters\/([^/]+)\/updates\/([^/]+)$/,
    operation: 'DescribeUpdate',
    run: ({ world }, m, q) => ({ update: updateView(eks.describeUpdate(world, seg(m, 1), seg(m, 2), { addonName: qs(q, 'addonName'), nodegroupName: qs(q, 'nodegroupName') })) }),
  },
  { method: 'GET', pattern: /^\/clusters\/([^/]+)\/addons$/, operation: 'ListAddons', run: ({ world }, m, q) => { const p = page(eks.listAddons(world, seg(m, 1)), q); return { addons: p.items, nextToken: p.nextToken }; } },
  {
    method: 'POST',
    pattern: /^\/clusters\/([^/]+)\/addons$/,
    operation: 'CreateAddon',
    mutating: true,
    run: ({ world, clock }, m, _q, b) => ({ addon: addonView(seg(m, 1), eks.createAddon(world, clock.now(), seg(m, 1), addonInput(b))) }),
  },
  { method: 'GET', pattern: /^\/clusters\/([^/]+)\/addons\/([^/]+)$/, operation: 'DescribeAddon', run: ({ world }, m) => ({ addon: addonView(seg(m, 1), eks.describeAddon(world, seg(m, 1), seg(m, 2))) }) },
  {
    method: 'POST',
    pattern: /^\/clusters\/([^/]+)\/addons\/([^/]+)\/update$/,
    operation: 'UpdateAddon',
    mutating: true,
    run: ({ world, clock }, m, _q, b) => ({ update: updateView(eks.updateAddon(world, clock.now(), seg(m, 1), seg(m, 2), addonInput(b))) }),
  },
  {
    method: 'DELETE',
    pattern: /^\/clusters\/([^/]+)\/addons\/([^/]+)$/,
    operation: 'DeleteAddon',
    mutating: true,
    run: ({ world, clock }, m, q) => ({ addon: addonView(seg(m, 1), eks.deleteAddon(world, clock.now(), seg(m, 1), seg(m, 2), q.get('preserve') === 'true')) }),
  },
  {
    method: 'GET',
    pattern: /^\/addons\/supported-versions$/,
    operation: 'DescribeAddonVersions',
    run: ({ world }, _m, q) => {
      const p = page(eks.describeAddonVersions(world, { kubernetesVersion: qs(q, 'kubernetesVersion'), addonName: qs(q, 'addonName') }), q);
      return { addons: p.items.map(addonInfoView), nextToken: p.nextToken };
    },
  },
  { method: 'GET', pattern: /^\/clusters\/([^/]+)\/node-groups$/, operation: 'ListNodegroups', run: ({ world }, m, q) => { const p = page(eks.listNodegroups(world, seg(m, 1)), q); return { nodegroups: p.items, nextToken: p.nextToken }; } },
  {
    method: 'GET',
    pattern: /^\/clusters\/([^/]+)\/node-groups\/([^/]+)$/,
    operation: 'DescribeNodegroup',
    run: ({ world }, m) => ({ nodegroup: nodegroupView(world, eks.describeCluster(world, seg(m, 1)), eks.describeNodegroup(world, seg(m, 1), seg(m, 2))) }),
  },
  {
    method: 'POST',
    pattern: /^\/clusters\/([^/]+)\/node-groups\/([^/]+)\/update-version$/,
    operation: 'UpdateNodegroupVersion',
    mutating: true,
    run: ({ world, clock }, m, _q, b) => ({
      update: updateView(eks.updateNodegroupVersion(world, clock.now(), seg(m, 1), seg(m, 2), { version: s(b['version']), releaseVersion: s(b['releaseVersion']), force: b['force'] === true, clientRequestToken: s(b['clientRequestToken']) })),
    }),
  },
  {
    method: 'POST',
    pattern: /^\/clusters\/([^/]+)\/insights$/,
    operation: 'ListInsights',
    run: ({ world }, m, _q, b) => {
      const f = (b['filter'] ?? {}) as { categories?: string[]; kubernetesVersions?: string[]; statuses?: string[] };
      const p = page(eks.listInsights(world, seg(m, 1), f), b);
      return { insights: p.items.map(insightSummaryView), nextToken: p.nextToken };
    },
  },
  { method: 'GET', pattern: /^\/clusters\/([^/]+)\/insights\/([^/]+)$/, operation: 'DescribeInsight', run: ({ world }, m) => ({ insight: insightView(eks.describeInsight(world, seg(m, 1), seg(m, 2))) }) },
];

function addonInput(b: Json): eks.AddonInput {
  return {
    addonName: s(b['addonName']),
    addonVersion: s(b['addonVersion']),
    resolveConflicts: s(b['resolveConflicts']),
    clientRequestToken: s(b['clientRequestToken']),
    serviceAccountRoleArn: s(b['serviceAccountRoleArn']),
    configurationValues: s(b['configurationValues']),
    tags: (b['tags'] as Record<string, string> | undefined) ?? undefined,
  };
}

export function resolveEks(req: WireRequest): ResolvedCall {
  let body: Json = {};
  let bodyError: string | null = null;
  if (req.body.trim() !== '') {
    try {
      body = JSON.parse(req.body) as Json;
    } catch {
      bodyError = 'The request body is not valid JSON';
    }
  }
  for (const r of ROUTES) {
    if (r.method !== req.method) continue;
    const m = r.pattern.exec(req.path);
    if (!m) continue;
    return {
      service: 'eks',
      operation: r.operation,
      mutating: r.mutating ?? false,
      throttled: !(r.mutating ?? false),
      params: { path: req.path, query: Object.fromEntries(req.query), body },
      run(ctx) {
        if (bodyError) throw new ApiError('InvalidRequestException', bodyError);
        return json(200, r.run(ctx, [...m], req.query, body), ctx.requestId);
      },
    };
  }
  return {
    service: 'eks',
    operation: `${req.method} ${req.path}`,
    mutating: req.method !== 'GET',
    throttled: false,
    params: { path: req.path },
    run() {
      throw new ApiError('UnknownOperationException', `The sandbox does not implement EKS ${req.method} ${req.path}`, 404);
    },
  };
}

function json(status: number, body: Json, requestId: string): WireResponse {
  return { status, headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId }, body: JSON.stringify(body) };
}

// ---------------------------------------------------------------- views

function clusterView(ctx: HandlerContext, c: Cluster): Json {
  const { world } = ctx;
  return {
    name: c.name,
    arn: c.arn,
    createdAt: secs(c.createdAt),
    version: c.version,
    // The Kubernetes API of this cluster is served by the sandbox itself.
    endpoint: `${ctx.endpoint}/k8s/${encodeURIComponent(c.name)}`,
    roleArn: `arn:aws:iam::${world.accountId}:role/${c.name}-cluster-role`,
    resourcesVpcConfig: {
      subnetIds: c.subnetIds,
      securityGroupIds: [],
      clusterSecurityGroupId: c.securityGroupId,
      vpcId: c.vpcId,
      endpointPublicAccess: true,
      endpointPrivateAccess: false,
      publicAccessCidrs: ['0.0.0.0/0'],
    },
    kubernetesNetworkConfig: { serviceIpv4Cidr: '172.20.0.0/16', ipFamily: 'ipv4' },
    logging: { clusterLogging: [{ types: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'], enabled: false }] },
    identity: { oidc: { issuer: `https://oidc.eks.${world.region}.amazonaws.com/id/${c.endpointHost.split('.')[0] ?? ''}` } },
    status: c.status,
    certificateAuthority: { data: Buffer.from(`-----BEGIN CERTIFICATE-----\nsandbox ${c.name}\n-----END CERTIFICATE-----\n`).toString('base64') },
    platformVersion: c.platformVersion,
    tags: c.tags,
    health: { issues: [] },
    id: c.id,
  };
}

function updateView(u: Update): Json {
  return { id: u.id, status: u.status, type: u.type, params: u.params, createdAt: secs(u.createdAt), errors: u.errors };
}

function addonView(clusterName: string, a: Addon): Json {
  return {
    addonName: a.name,
    clusterName,
    status: a.status,
    addonVersion: a.version,
    health: { issues: a.issues },
    addonArn: a.arn,
    createdAt: secs(a.createdAt),
    modifiedAt: secs(a.modifiedAt),
    ...(a.serviceAccountRoleArn !== null ? { serviceAccountRoleArn: a.serviceAccountRoleArn } : {}),
    tags: a.tags,
    publisher: 'eks',
    owner: 'aws',
    ...(a.configurationValues !== null ? { configurationValues: a.configurationValues } : {}),
  };
}

function addonInfoView(a: AddonCatalogEntry): Json {
  return {
    addonName: a.name,
    type: a.type,
    addonVersions: a.versions.map((v) => ({
      addonVersion: v.version,
      architecture: ['amd64', 'arm64'],
      compatibilities: v.clusterVersions.map((cv) => ({ clusterVersion: cv, platformVersions: ['*'], defaultVersion: v.defaultFor.includes(cv) })),
      requiresConfiguration: false,
    })),
    publisher: 'eks',
    owner: 'aws',
  };
}

function nodegroupView(world: World, c: Cluster, ng: Nodegroup): Json {
  return {
    nodegroupName: ng.name,
    nodegroupArn: ng.arn,
    clusterName: c.name,
    version: ng.version,
    releaseVersion: ng.releaseVersion,
    createdAt: secs(ng.createdAt),
    modifiedAt: secs(ng.modifiedAt),
    status: ng.status,
    capacityType: 'ON_DEMAND',
    scalingConfig: { minSize: Math.min(1, ng.desiredSize), maxSize: Math.max(ng.desiredSize * 2, 1), desiredSize: ng.desiredSize },
    instanceTypes: [ng.instanceType],
    subnets: c.subnetIds,
    amiType: 'AL2_x86_64',
    nodeRole: `arn:aws:iam::${world.accountId}:role/${c.name}-node-role`,
    labels: ng.labels,
    resources: { autoScalingGroups: [{ name: ng.asgName }] },
    diskSize: 20,
    health: { issues: [] },
    updateConfig: { maxUnavailable: 1 },
    tags: {},
  };
}

function insightSummaryView(i: InsightData): Json {
  return {
    id: i.id,
    name: i.name,
    category: 'UPGRADE_READINESS',
    kubernetesVersion: i.kubernetesVersion,
    lastRefreshTime: secs(i.lastTransitionTime),
    lastTransitionTime: secs(i.lastTransitionTime),
    description: i.description,
    insightStatus: { status: i.status, reason: i.reason },
  };
}

function insightView(i: InsightData): Json {
  const d = i.deprecatedApi;
  return {
    ...insightSummaryView(i),
    recommendation: i.recommendation,
    additionalInfo: { 'EKS update cluster documentation': 'https://docs.aws.amazon.com/eks/latest/userguide/update-cluster.html' },
    resources: d?.resource ? [{ insightStatus: { status: i.status, reason: i.reason }, kubernetesResourceUri: d.resource }] : [],
    categorySpecificSummary: {
      deprecationDetails: d
        ? [
            {
              usage: d.usage,
              replacedWith: d.replacedWith,
              stopServingVersion: d.stopServingVersion,
              startServingReplacementVersion: d.startServingReplacementVersion,
              clientStats: [{ userAgent: d.userAgent, numberOfRequestsLast30Days: d.requestsLast30Days, lastRequestTime: secs(i.lastTransitionTime) }],
            },
          ]
        : [],
    },
  };
}
