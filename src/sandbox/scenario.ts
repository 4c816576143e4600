import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { RunbookError } from '../errors.js';
import { faultSettingsSchema } from './faults.js';
import { ADDON_NAMES, KUBERNETES_RELEASES } from './model/catalog.js';

/**
 * A scenario is data: the world at the start, how long operations take, and the rules that
 * make it misbehave. Users write these as JSON or YAML; docs/sandbox.md documents the schema.
 */
const minors = KUBERNETES_RELEASES.map((r) => r.minor);
const k8sName = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { message: 'expected a lowercase DNS-1123 name' });
const tags = z.record(z.string(), z.string());

const healthCheckSchema = z
  .object({
    path: z.string().default('/healthz'),
    protocol: z.enum(['HTTP', 'HTTPS']).default('HTTP'),
    intervalSeconds: z.number().int().min(5).max(300).default(15),
    timeoutSeconds: z.number().int().min(2).max(120).default(5),
    healthyThreshold: z.number().int().min(2).max(10).default(2),
    unhealthyThreshold: z.number().int().min(2).max(10).default(2),
    matcher: z.string().default('200'),
  })
  .strict();

const targetGroupSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/, {
      message: 'expected 1-32 letters, digits or hyphens, not starting or ending with a hyphen (ELBv2 target group name rules)',
    }),
    protocol: z.enum(['HTTP', 'HTTPS']).default('HTTP'),
    /** The service's NodePort: instance targets are the nodes on this port. */
    port: z.number().int().min(1).max(65535),
    service: z.object({ namespace: k8sName, name: k8sName, port: z.number().int().min(1).max(65535) }).strict(),
    /** Defaults to `defaults.deregistrationDelaySeconds`. */
    deregistrationDelaySeconds: z.number().int().min(0).max(3600).optional(),
    healthCheck: healthCheckSchema.optional(),
    /** Node groups whose instances are registered; default all node groups of the cluster. */
    nodegroups: z.array(z.string()).optional(),
    tags: tags.optional(),
  })
  .strict();

const actionSchema = z.union([
  z.object({ targetGroup: z.string() }).strict(),
  z.object({ fixedResponse: z.object({ statusCode: z.string().regex(/^[2-5]\d\d$/), contentType: z.string().default('text/plain'), messageBody: z.string().optional() }).strict() }).strict(),
  z.object({ redirect: z.object({ protocol: z.string().default('HTTPS'), port: z.string().default('443'), statusCode: z.enum(['HTTP_301', 'HTTP_302']).default('HTTP_301') }).strict() }).strict(),
]);

const ruleSchema = z
  .object({
    priority: z.number().int().min(1).max(50_000),
    host: z.array(z.string()).optional(),
    path: z.array(z.string()).optional(),
    action: actionSchema,
  })
  .strict();

const listenerSchema = z
  .object({
    port: z.number().int().min(1).max(65535),
    protocol: z.enum(['HTTP', 'HTTPS']),
    certificateArn: z.string().optional(),
    defaultAction: actionSchema,
    rules: z.array(ruleSchema).default([]),
  })
  .strict();

const loadBalancerSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/, { message: 'expected 1-32 letters, digits or hyphens' }),
    scheme: z.enum(['internet-facing', 'internal']).default('internet-facing'),
    tags: tags.default({}),
    targetGroups: z.array(targetGroupSchema).default([]),
    listeners: z.array(listenerSchema).default([]),
  })
  .strict();

const nodegroupSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, { message: 'expected letters, digits, hyphens or underscores' }),
    nodes: z.number().int().min(0).max(450),
    instanceType: z.string().default('m5.large'),
    /** Kubernetes minor of the group's AMI; defaults to the cluster's. */
    version: z.enum(minors as [string, ...string[]]).optional(),
    labels: z.record(z.string(), z.string()).default({}),
  })
  .strict();

const insightSchema = z
  .object({
    name: z.string(),
    kubernetesVersion: z.string(),
    status: z.enum(['PASSING', 'WARNING', 'ERROR', 'UNKNOWN']),
    reason: z.string().default(''),
    description: z.string().default(''),
    recommendation: z.string().default(''),
    deprecatedApi: z
      .object({
        usage: z.string(),
        replacedWith: z.string(),
        stopServingVersion: z.string(),
        startServingReplacementVersion: z.string(),
        userAgent: z.string().default('kubectl/v1.19.6'),
        requestsLast30Days: z.number().int().min(0).default(42),
        resource: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const addonNameSchema = z.enum(ADDON_NAMES as unknown as [string, ...string[]]);

const clusterSchema = z
  .object({
    name: z.string().regex(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/, { message: 'expected an EKS cluster name (letters, digits, hyphens, underscores)' }),
    version: z.enum(minors as [string, ...string[]]),
    /** Add-ons installed as plain workloads (not in ListAddons), at the usual self-managed image for the version. */
    selfManagedAddons: z.array(addonNameSchema).default(['vpc-cni', 'coredns', 'kube-proxy']),
    /** Add-ons already managed by EKS at the start. */
    managedAddons: z.array(z.object({ name: addonNameSchema, version: z.string() }).strict()).default([]),
    nodegroups: z.array(nodegroupSchema).default([]),
    loadBalancers: z.array(loadBalancerSchema).default([]),
    insights: z.array(insightSchema).default([]),
    /** Extra Kubernetes objects (full manifests with apiVersion/kind/metadata) to seed. */
    manifests: z.array(z.record(z.string(), z.unknown())).default([]),
  })
  .strict();

const durationsSchema = z
  .object({
    clusterUpdateSeconds: z.number().min(0).default(600),
    /** DescribeCluster keeps saying ACTIVE this long after UpdateClusterVersion (eventual consistency). */
    clusterStatusLagSeconds: z.number().min(0).default(5),
    addonCreateSeconds: z.number().min(0).default(30),
    addonUpdateSeconds: z.number().min(0).default(30),
    addonDeleteSeconds: z.number().min(0).default(10),
    /** One node of a rolling node-group update: the new node joins, then the old one drains and leaves. */
    nodeReplaceSeconds: z.number().min(0).default(120),
    /** How long a failing update runs before it turns Failed. */
    failedUpdateSeconds: z.number().min(0).default(120),
  })
  .strict();

const incidentSchema = z
  .object({
    /** Mutating calls that set the incident off while a target group lacks the fix. */
    triggers: z
      .array(z.string().regex(/^(CreateAddon|UpdateAddon|UpdateNodegroupVersion|UpdateClusterVersion)(:[A-Za-z0-9_-]+)?$/, { message: "expected e.g. 'CreateAddon:vpc-cni' or 'UpdateNodegroupVersion'" }))
      .min(1),
    /** Model seconds between the triggering call and the detachment. */
    delaySeconds: z.number().min(0).default(20),
  })
  .strict();

export const scenarioSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    accountId: z.string().regex(/^\d{12}$/, { message: 'expected a 12-digit AWS account id' }).default('111122223333'),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: "expected an AWS region such as 'eu-west-1'" }).default('eu-west-1'),
    /** Model time at the start (ISO); default: the wall clock when the sandbox starts. */
    startTime: z.iso.datetime({ offset: true }).optional(),
    seed: z.number().int().default(20210630),
    durations: durationsSchema.default(durationsSchema.parse({})),
    defaults: z.object({ deregistrationDelaySeconds: z.number().int().min(0).max(3600).default(300) }).strict().default({ deregistrationDelaySeconds: 300 }),
    /**
     * The fix from the earlier postmortem: a target group is protected when its
     * deregistration_delay.timeout_seconds is at least this.
     */
    knownFix: z.object({ minimumDeregistrationDelaySeconds: z.number().int().min(0).max(3600).default(600) }).strict().default({ minimumDeregistrationDelaySeconds: 600 }),
    incident: incidentSchema.optional(),
    faults: faultSettingsSchema.optional(),
    clusters: z.array(clusterSchema).min(1),
  })
  .strict()
  .superRefine(checkReferences);

/** What a scenario author writes (defaults may be left out). */
export type ScenarioSpec = z.input<typeof scenarioSchema>;
/** A validated scenario with every default filled in. */
export type Scenario = z.output<typeof scenarioSchema>;
export type ClusterSpec = Scenario['clusters'][number];
export type LoadBalancerSpec = ClusterSpec['loadBalancers'][number];
export type TargetGroupSpec = LoadBalancerSpec['targetGroups'][number];
export type ActionSpec = z.output<typeof actionSchema>;

function checkReferences(s: z.output<z.ZodObject<{ clusters: z.ZodArray<typeof clusterSchema> }>>, ctx: z.RefinementCtx): void {
  s.clusters.forEach((c, ci) => {
    const ngNames = new Set(c.nodegroups.map((n) => n.name));
    c.loadBalancers.forEach((lb, li) => {
      const tgNames = new Set(lb.targetGroups.map((t) => t.name));
      lb.targetGroups.forEach((tg, ti) =>
        tg.nodegroups?.forEach((ng, ni) => {
          if (!ngNames.has(ng)) ctx.addIssue({ code: 'custom', path: ['clusters', ci, 'loadBalancers', li, 'targetGroups', ti, 'nodegroups', ni], message: `no node group named '${ng}' in cluster '${c.name}'` });
        }),
      );
      const checkAction = (a: ActionSpec, path: (string | number)[]): void => {
        if ('targetGroup' in a && !tgNames.has(a.targetGroup)) {
          ctx.addIssue({ code: 'custom', path: [...path, 'targetGroup'], message: `no target group named '${a.targetGroup}' in load balancer '${lb.name}'` });
        }
      };
      lb.listeners.forEach((l, i) => {
        const base = ['clusters', ci, 'loadBalancers', li, 'listeners', i];
        checkAction(l.defaultAction, [...base, 'defaultAction']);
        l.rules.forEach((r, ri) => checkAction(r.action, [...base, 'rules', ri, 'action']));
      });
    });
  });
}

/** 'clusters[0].nodegroups[1].nodes' from a zod issue path. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out || '(top level)';
}

/** Validates scenario data; errors name each offending field. */
export function parseScenario(data: unknown, source = 'scenario'): Scenario {
  const r = scenarioSchema.safeParse(data);
  if (r.success) return r.data;
  const lines = r.error.issues.slice(0, 10).map((i) => `  ${formatPath(i.path)}: ${i.message}`);
  throw new RunbookError('SANDBOX_ERROR', `${source} is not a valid sandbox scenario:\n${lines.join('\n')}`, {
    hint: 'Fix the fields named above; docs/sandbox.md describes the scenario format.',
    details: { issues: r.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) },
  });
}

/** Reads a JSON or YAML scenario file. */
export async function loadScenarioFile(path: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new RunbookError('SANDBOX_ERROR', `cannot read scenario file ${path}: ${(e as Error).message}`, {
      hint: "Pass a built-in scenario name ('default', '2021-06-30') or the path of a JSON/YAML scenario file.",
      cause: e,
    });
  }
  let data: unknown;
  try {
    data = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new RunbookError('SANDBOX_ERROR', `scenario file ${path} does not parse: ${(e as Error).message}`, {
      hint: 'Scenario files are JSON (.json) or YAML (anything else).',
      cause: e,
    });
  }
  return parseScenario(data, `scenario file ${path}`);
}
