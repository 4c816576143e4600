import { RunbookError } from '../errors.js';
import { loadScenarioFile, parseScenario, type Scenario, type ScenarioSpec } from './scenario.js';

/**
 * The deregistration-delay fix from the earlier postmortem: target groups of the ALB carry
 * `deregistration_delay.timeout_seconds` ≥ 600. With it, targets that the add-on takeover
 * deregisters drain (and are re-registered) instead of vanishing; without it (the AWS default,
 * 300, never touched) the incident rule detaches the group. docs/sandbox.md tells the story.
 */
export const KNOWN_FIX_DEREGISTRATION_DELAY_SECONDS = 600;
export const AWS_DEFAULT_DEREGISTRATION_DELAY_SECONDS = 300;

/** What sets the incident off: the add-on takeover of networking, or rolling the nodes. */
export const INCIDENT_TRIGGERS = ['CreateAddon:vpc-cni', 'CreateAddon:kube-proxy', 'UpdateAddon:vpc-cni', 'UpdateAddon:kube-proxy', 'UpdateNodegroupVersion'];

function shopWorld(name: string, description: string, delay: number): ScenarioSpec {
  const tg = (svc: string, hash: string, nodePort: number) => ({
    name: `k8s-shop-${svc}-${hash}`,
    port: nodePort,
    service: { namespace: 'shop', name: svc, port: 80 },
    deregistrationDelaySeconds: delay,
    healthCheck: { path: svc === 'static' ? '/' : '/healthz', intervalSeconds: 15, healthyThreshold: 2 },
  });
  return {
    name,
    description,
    accountId: '111122223333',
    region: 'eu-west-1',
    knownFix: { minimumDeregistrationDelaySeconds: KNOWN_FIX_DEREGISTRATION_DELAY_SECONDS },
    defaults: { deregistrationDelaySeconds: AWS_DEFAULT_DEREGISTRATION_DELAY_SECONDS },
    incident: { triggers: INCIDENT_TRIGGERS, delaySeconds: 20 },
    clusters: [
      {
        name: 'prod-eu',
        version: '1.19',
        selfManagedAddons: ['vpc-cni', 'coredns', 'kube-proxy'],
        nodegroups: [
          { name: 'ng-general', nodes: 3, instanceType: 'm5.large', labels: { workload: 'general' } },
          { name: 'ng-batch', nodes: 2, instanceType: 'm5.xlarge', labels: { workload: 'batch' } },
        ],
        loadBalancers: [
          {
            name: 'k8s-shop-main-4f9c2a1b7e',
            tags: { 'ingress.k8s.aws/stack': 'shop/main', 'ingress.k8s.aws/resource': 'LoadBalancer' },
            targetGroups: [tg('web', '6a1f2b3c4d', 30080), tg('api', '0e8d7c6b5a', 30081), tg('checkout', '9f8e7d6c5b', 30082), tg('static', '1a2b3c4d5e', 30083)],
            listeners: [
              { port: 80, protocol: 'HTTP', defaultAction: { redirect: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } } },
              {
                port: 443,
                protocol: 'HTTPS',
                defaultAction: { fixedResponse: { statusCode: '404', contentType: 'text/plain', messageBody: 'Not Found' } },
                rules: [
                  { priority: 1, host: ['shop.example.com'], path: ['/api/*'], action: { targetGroup: 'k8s-shop-api-0e8d7c6b5a' } },
                  { priority: 2, host: ['shop.example.com'], path: ['/checkout/*'], action: { targetGroup: 'k8s-shop-checkout-9f8e7d6c5b' } },
                  { priority: 3, host: ['static.example.com'], action: { targetGroup: 'k8s-shop-static-1a2b3c4d5e' } },
                  { priority: 4, host: ['shop.example.com'], action: { targetGroup: 'k8s-shop-web-6a1f2b3c4d' } },
                ],
              },
            ],
          },
        ],
        insights: [
          {
            name: 'Deprecated APIs removed in Kubernetes v1.22',
            kubernetesVersion: '1.22',
            status: 'WARNING',
            reason: 'Deprecated API usage detected within last 30 days and your cluster is on Kubernetes v1.19.',
            description: 'Checks for usage of deprecated APIs that are scheduled for removal in Kubernetes v1.22.',
            recommendation: 'Update manifests and API clients to use newer Kubernetes APIs if applicable before upgrading to Kubernetes v1.22.',
            deprecatedApi: {
              usage: '/apis/extensions/v1beta1/ingresses',
              replacedWith: '/apis/networking.k8s.io/v1/ingresses',
              stopServingVersion: '1.22',
              startServingReplacementVersion: '1.19',
              userAgent: 'kubectl/v1.18.9 (linux/amd64) kubernetes/94f372e',
              requestsLast30Days: 37,
              resource: '/apis/extensions/v1beta1/namespaces/shop/ingresses/main',
            },
          },
        ],
      },
    ],
  };
}

export const BUILTIN_SCENARIOS: Readonly<Record<string, () => ScenarioSpec>> = {
  default: () =>
    shopWorld('default', 'prod-eu on EKS 1.19 with self-managed add-ons, two node groups and an ALB whose target groups carry the deregistration-delay fix.', KNOWN_FIX_DEREGISTRATION_DELAY_SECONDS),
  '2021-06-30': () =>
    shopWorld(
      '2021-06-30',
      'The incident: as default, but the target groups still have the AWS default deregistration delay; migrating vpc-cni/kube-proxy to managed (OVERWRITE) or rolling the nodes detaches every target group of the ALB.',
      AWS_DEFAULT_DEREGISTRATION_DELAY_SECONDS,
    ),
};

/**
 * A large world for benchmarks: `targetGroups` groups spread over ALBs of at most 100 groups
 * (the AWS limit), each with `targetsPerGroup` instance targets (the nodes of one node group).
 */
export function scaleScenario(opts: { targetGroups: number; targetsPerGroup: number; name?: string; deregistrationDelaySeconds?: number }): ScenarioSpec {
  const perLb = 100;
  const lbCount = Math.max(1, Math.ceil(opts.targetGroups / perLb));
  const loadBalancers = Array.from({ length: lbCount }, (_, l) => {
    const from = l * perLb;
    const to = Math.min(opts.targetGroups, from + perLb);
    const targetGroups = Array.from({ length: to - from }, (_, k) => {
      const i = from + k;
      return { name: `k8s-scale-svc${i}-${(i * 2654435761 >>> 0).toString(16).padStart(8, '0').slice(0, 8)}`, port: 30000 + (i % 2768), service: { namespace: 'scale', name: `svc${i}`, port: 80 }, deregistrationDelaySeconds: opts.deregistrationDelaySeconds ?? KNOWN_FIX_DEREGISTRATION_DELAY_SECONDS };
    });
    return {
      name: `k8s-scale-lb${l}-${(l * 40503 + 12345).toString(16).padStart(6, '0')}`,
      tags: { 'ingress.k8s.aws/stack': `scale/lb${l}`, 'ingress.k8s.aws/resource': 'LoadBalancer' },
      targetGroups,
      listeners: [
        {
          port: 443,
          protocol: 'HTTPS' as const,
          defaultAction: { fixedResponse: { statusCode: '404' } },
          rules: targetGroups.map((t, k) => ({ priority: k + 1, path: [`/${t.service.name}/*`], action: { targetGroup: t.name } })),
        },
      ],
    };
  });
  return {
    name: opts.name ?? `scale-${opts.targetGroups}x${opts.targetsPerGroup}`,
    description: `${opts.targetGroups} target groups × ${opts.targetsPerGroup} targets`,
    incident: { triggers: INCIDENT_TRIGGERS, delaySeconds: 20 },
    clusters: [
      {
        name: 'prod-eu',
        version: '1.19',
        nodegroups: [{ name: 'ng-scale', nodes: opts.targetsPerGroup, instanceType: 'm5.large' }],
        loadBalancers,
      },
    ],
  };
}

/** 'default' | '2021-06-30' | a JSON/YAML file path | inline data → a validated scenario. */
export async function resolveScenario(s: string | ScenarioSpec | undefined): Promise<Scenario> {
  if (s === undefined) return parseScenario(BUILTIN_SCENARIOS['default']?.(), "built-in scenario 'default'");
  if (typeof s !== 'string') return parseScenario(s, 'inline scenario');
  const builtin = Object.hasOwn(BUILTIN_SCENARIOS, s) ? BUILTIN_SCENARIOS[s] : undefined;
  if (builtin) return parseScenario(builtin(), `built-in scenario '${s}'`);
  if (!/[./\\]/.test(s)) {
    throw new RunbookError('SANDBOX_ERROR', `unknown sandbox scenario '${s}'`, {
      hint: `Use one of ${Object.keys(BUILTIN_SCENARIOS).map((n) => `'${n}'`).join(', ')} or the path of a JSON/YAML scenario file.`,
    });
  }
  return loadScenarioFile(s);
}
