import { DEFAULT_FAULTS } from '../faults.js';
import type { ActionSpec, ClusterSpec, LoadBalancerSpec, Scenario } from '../scenario.js';
import { addonEntry, kubernetesRelease } from './catalog.js';
import { configMapObject, launchNode, namespaceObject, putAddonWorkload, serviceAccountObject } from './cluster-objects.js';
import { freshHex, freshUuid } from './ids.js';
import { getObject, putObject, resourceByKind } from './kube.js';
import type { Action, Cluster, KubeObject, TargetGroup, World } from './types.js';
import { applyFaultSettings, healthyDelayMs } from './world.js';

/**
 * Builds the world a scenario describes, at model time `now`. Cheap by design: a world of
 * 1,000 target groups × 20 targets builds in milliseconds (bench/sandbox.ts measures it).
 */
export function buildWorld(spec: Scenario, now: number): World {
  const first = spec.clusters[0];
  const world: World = {
    schema: 1,
    scenario: spec.name,
    accountId: spec.accountId,
    region: spec.region,
    mainCluster: first?.name ?? '',
    now,
    seq: 0,
    rng: spec.seed,
    durations: { ...spec.durations },
    minimumDeregistrationDelaySeconds: spec.knownFix.minimumDeregistrationDelaySeconds,
    incident: spec.incident ? { triggers: [...spec.incident.triggers], delaySeconds: spec.incident.delaySeconds } : null,
    faults: { ...DEFAULT_FAULTS },
    clusters: {},
    elb: { loadBalancers: {}, listeners: {}, rules: {}, targetGroups: {}, targetGroupOrder: [], tags: {} },
    instances: {},
    events: [],
    faultRecords: [],
  };
  for (const c of spec.clusters) buildCluster(world, spec, c, now);
  if (spec.faults) applyFaultSettings(world, now, spec.faults);
  return world;
}

function buildCluster(world: World, spec: Scenario, c: ClusterSpec, now: number): void {
  const rel = kubernetesRelease(c.version);
  const created = now - 400 * 86_400_000;
  const cluster: Cluster = {
    name: c.name,
    arn: `arn:aws:eks:${world.region}:${world.accountId}:cluster/${c.name}`,
    version: c.version,
    platformVersion: rel?.platformVersion ?? 'eks.1',
    status: 'ACTIVE',
    createdAt: created,
    id: freshUuid(world),
    endpointHost: `${freshHex(world, 32).toUpperCase()}.gr7.${world.region}.eks.amazonaws.com`,
    vpcId: `vpc-0${freshHex(world, 16)}`,
    subnetIds: [0, 1, 2].map(() => `subnet-0${freshHex(world, 16)}`),
    securityGroupId: `sg-0${freshHex(world, 16)}`,
    tags: { environment: 'production' },
    updates: {},
    updateOrder: [],
    addons: {},
    nodegroups: {},
    insights: c.insights.map((i) => ({ ...i, id: freshUuid(world), lastTransitionTime: now - 86_400_000 })),
    kube: { objects: {}, resourceVersion: 1000 },
  };
  world.clusters[c.name] = cluster;
  seedKube(world, cluster, c, now);
  for (const ng of c.nodegroups) {
    const version = ng.version ?? c.version;
    const uuid = freshUuid(world);
    const group = {
      name: ng.name,
      arn: `arn:aws:eks:${world.region}:${world.accountId}:nodegroup/${c.name}/${ng.name}/${uuid}`,
      version,
      releaseVersion: kubernetesRelease(version)?.amiReleaseVersion ?? `${version}.0-20210628`,
      status: 'ACTIVE' as const,
      createdAt: created + 3_600_000,
      modifiedAt: created + 3_600_000,
      instanceType: ng.instanceType,
      desiredSize: ng.nodes,
      labels: ng.labels,
      asgName: `eks-${uuid}`,
      nodes: [] as string[],
    };
    cluster.nodegroups[ng.name] = group;
    for (let i = 0; i < ng.nodes; i++) launchNode(world, cluster, group, created + 3_600_000);
  }
  for (const lb of c.loadBalancers) buildLoadBalancer(world, spec, cluster, lb, now);
}

function seedKube(world: World, cluster: Cluster, c: ClusterSpec, now: number): void {
  const put = (o: KubeObject): void => void putObject(cluster.kube, resourceByKind(o.kind), o, cluster.createdAt);
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    put(namespaceObject(ns));
    put(serviceAccountObject(ns, 'default'));
  }
  const managed = new Map(c.managedAddons.map((a) => [a.name, a.version]));
  for (const name of new Set([...c.selfManagedAddons, ...managed.keys()])) {
    const entry = addonEntry(name);
    if (!entry) continue;
    put(serviceAccountObject('kube-system', entry.workload.serviceAccount));
    const version = managed.get(name);
    if (version !== undefined) {
      putAddonWorkload(world, cluster, name, version, version, cluster.createdAt);
      cluster.addons[name] = {
        name,
        arn: `arn:aws:eks:${world.region}:${world.accountId}:addon/${c.name}/${name}/${freshUuid(world)}`,
        version,
        status: 'ACTIVE',
        createdAt: now - 30 * 86_400_000,
        modifiedAt: now - 30 * 86_400_000,
        serviceAccountRoleArn: null,
        configurationValues: null,
        tags: {},
        issues: [],
        clientRequestToken: null,
      };
    } else {
      putAddonWorkload(world, cluster, name, entry.selfManagedTag[c.version] ?? 'latest', null, cluster.createdAt);
    }
  }
  put(serviceAccountObject('kube-system', 'aws-load-balancer-controller', { 'eks.amazonaws.com/role-arn': `arn:aws:iam::${world.accountId}:role/${c.name}-aws-load-balancer-controller` }));
  put(appDeployment('kube-system', 'aws-load-balancer-controller', `602401143452.dkr.ecr.${world.region}.amazonaws.com/amazon/aws-load-balancer-controller:v2.2.0`, { 'app.kubernetes.io/name': 'aws-load-balancer-controller' }));
  const nodeRole = `arn:aws:iam::${world.accountId}:role/${c.name}-node-role`;
  put(
    configMapObject('kube-system', 'aws-auth', {
      mapRoles: `- groups:\n  - system:bootstrappers\n  - system:nodes\n  rolearn: ${nodeRole}\n  username: system:node:{{EC2PrivateDNSName}}\n`,
    }),
  );
  put(configMapObject('kube-system', 'coredns', { Corefile: '.:53 {\n    errors\n    health\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n      pods insecure\n      fallthrough in-addr.arpa ip6.arpa\n    }\n    prometheus :9153\n    forward . /etc/resolv.conf\n    cache 30\n    loop\n    reload\n    loadbalance\n}\n' }, { 'eks.amazonaws.com/component': 'coredns', 'k8s-app': 'kube-dns' }));
  put(configMapObject('kube-system', 'kube-proxy-config', { config: 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: "iptables"\nclusterCIDR: ""\n' }, { 'eks.amazonaws.com/component': 'kube-proxy', 'k8s-app': 'kube-proxy' }));
  for (const m of c.manifests) put(m as KubeObject);
  void now;
}

function appDeployment(namespace: string, name: string, image: string, labels: Record<string, string>): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels, annotations: { 'deployment.kubernetes.io/revision': '1' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: { metadata: { labels }, spec: { serviceAccountName: name === 'aws-load-balancer-controller' ? name : 'default', containers: [{ name, image, ports: [{ containerPort: 8080, protocol: 'TCP' }] }] } },
    },
  };
}

function buildLoadBalancer(world: World, spec: Scenario, cluster: Cluster, lb: LoadBalancerSpec, now: number): void {
  const prefix = `arn:aws:elasticloadbalancing:${world.region}:${world.accountId}`;
  const lbId = freshHex(world, 16);
  const lbArn = `${prefix}:loadbalancer/app/${lb.name}/${lbId}`;
  const clusterTag = { Key: 'elbv2.k8s.aws/cluster', Value: cluster.name };
  const zones = ['a', 'b', 'c'].map((z, i) => ({ zone: `${world.region}${z}`, subnetId: cluster.subnetIds[i] ?? `subnet-0${freshHex(world, 16)}` }));
  world.elb.loadBalancers[lbArn] = {
    arn: lbArn,
    name: lb.name,
    dnsName: `${lb.scheme === 'internal' ? 'internal-' : ''}${lb.name}-${parseInt(lbId.slice(0, 8), 16)}.${world.region}.elb.amazonaws.com`,
    scheme: lb.scheme,
    vpcId: cluster.vpcId,
    createdAt: now - 200 * 86_400_000,
    subnets: zones,
    securityGroups: [`sg-0${freshHex(world, 16)}`, cluster.securityGroupId],
    cluster: cluster.name,
    listenerArns: [],
  };
  world.elb.tags[lbArn] = [...Object.entries(lb.tags).map(([Key, Value]) => ({ Key, Value })), clusterTag].filter(uniqueKey);

  const tgArnByName = new Map<string, string>();
  const instanceByNode = new Map(Object.values(world.instances).filter((i) => i.state === 'running').map((i) => [i.nodeName, i.id]));
  const put = (o: KubeObject): void => void putObject(cluster.kube, resourceByKind(o.kind), o, cluster.createdAt);
  for (const t of lb.targetGroups) {
    const arn = `${prefix}:targetgroup/${t.name}/${freshHex(world, 16)}`;
    tgArnByName.set(t.name, arn);
    const hc = t.healthCheck ?? { path: '/healthz', protocol: 'HTTP' as const, intervalSeconds: 15, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 2, matcher: '200' };
    const tg: TargetGroup = {
      arn,
      name: t.name,
      protocol: t.protocol,
      port: t.port,
      vpcId: cluster.vpcId,
      targetType: 'instance',
      healthCheck: { protocol: hc.protocol, port: 'traffic-port', path: hc.path, intervalSeconds: hc.intervalSeconds, timeoutSeconds: hc.timeoutSeconds, healthyThreshold: hc.healthyThreshold, unhealthyThreshold: hc.unhealthyThreshold, matcher: hc.matcher },
      attributes: defaultTargetGroupAttributes(t.deregistrationDelaySeconds ?? spec.defaults.deregistrationDelaySeconds),
      targets: [],
      cluster: cluster.name,
      followsNodegroups: t.nodegroups ?? null,
    };
    const registeredAt = now - 3_600_000;
    for (const ng of Object.values(cluster.nodegroups)) {
      if (tg.followsNodegroups && !tg.followsNodegroups.includes(ng.name)) continue;
      for (const nodeName of ng.nodes) {
        const inst = instanceByNode.get(nodeName);
        if (inst) tg.targets.push({ id: inst, port: t.port, registeredAt, healthyAt: registeredAt + healthyDelayMs(tg), drainUntil: null });
      }
    }
    world.elb.targetGroups[arn] = tg;
    world.elb.targetGroupOrder.push(arn);
    world.elb.tags[arn] = [
      clusterTag,
      { Key: 'service.k8s.aws/resource', Value: 'service' },
      { Key: 'service.k8s.aws/stack', Value: `${t.service.namespace}/${t.service.name}` },
      ...(lb.tags['ingress.k8s.aws/stack'] !== undefined ? [{ Key: 'ingress.k8s.aws/stack', Value: lb.tags['ingress.k8s.aws/stack'] }] : []),
      ...Object.entries(t.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    ].filter(uniqueKey);
    seedService(cluster, put, t.service.namespace, t.service.name, t.service.port, t.port, t.name, arn, lb.tags['ingress.k8s.aws/stack']);
  }

  for (const l of lb.listeners) {
    const lId = freshHex(world, 16);
    const lArn = `${prefix}:listener/app/${lb.name}/${lbId}/${lId}`;
    world.elb.listeners[lArn] = {
      arn: lArn,
      loadBalancerArn: lbArn,
      port: l.port,
      protocol: l.protocol,
      certificates: l.protocol === 'HTTPS' ? [{ CertificateArn: l.certificateArn ?? `arn:aws:acm:${world.region}:${world.accountId}:certificate/${freshUuid(world)}` }] : [],
      sslPolicy: l.protocol === 'HTTPS' ? 'ELBSecurityPolicy-2016-08' : null,
      defaultActions: [toAction(l.defaultAction, tgArnByName)],
      ruleArns: [],
    };
    world.elb.loadBalancers[lbArn]?.listenerArns.push(lArn);
    world.elb.tags[lArn] = [clusterTag];
    for (const r of l.rules) {
      const rArn = `${prefix}:listener-rule/app/${lb.name}/${lbId}/${lId}/${freshHex(world, 16)}`;
      const conditions = [
        ...(r.host ? [{ Field: 'host-header', Values: r.host, HostHeaderConfig: { Values: r.host } }] : []),
        ...(r.path ? [{ Field: 'path-pattern', Values: r.path, PathPatternConfig: { Values: r.path } }] : []),
      ];
      world.elb.rules[rArn] = { arn: rArn, listenerArn: lArn, priority: String(r.priority), isDefault: false, conditions, actions: [toAction(r.action, tgArnByName)] };
      world.elb.listeners[lArn]?.ruleArns.push(rArn);
      world.elb.tags[rArn] = [clusterTag];
    }
  }
}

function uniqueKey(t: { Key: string }, i: number, all: { Key: string }[]): boolean {
  return all.findIndex((x) => x.Key === t.Key) === i;
}

/** Forward actions carry both TargetGroupArn and ForwardConfig, as AWS returns them. */
export function forwardAction(tgArn: string): Action {
  return { Type: 'forward', Order: 1, TargetGroupArn: tgArn, ForwardConfig: { TargetGroups: [{ TargetGroupArn: tgArn, Weight: 1 }], TargetGroupStickinessConfig: { Enabled: false } } };
}

function toAction(a: ActionSpec, tgs: Map<string, string>): Action {
  if ('targetGroup' in a) return forwardAction(tgs.get(a.targetGroup) ?? '');
  if ('fixedResponse' in a) {
    const f = a.fixedResponse;
    return { Type: 'fixed-response', Order: 1, FixedResponseConfig: { StatusCode: f.statusCode, ContentType: f.contentType, ...(f.messageBody !== undefined ? { MessageBody: f.messageBody } : {}) } };
  }
  return { Type: 'redirect', Order: 1, RedirectConfig: { Protocol: a.redirect.protocol, Port: a.redirect.port, Host: '#{host}', Path: '/#{path}', Query: '#{query}', StatusCode: a.redirect.statusCode } };
}

export function defaultTargetGroupAttributes(deregistrationDelay: number): Record<string, string> {
  return {
    'deregistration_delay.timeout_seconds': String(deregistrationDelay),
    'stickiness.enabled': 'false',
    'stickiness.type': 'lb_cookie',
    'stickiness.lb_cookie.duration_seconds': '86400',
    'stickiness.app_cookie.cookie_name': '',
    'stickiness.app_cookie.duration_seconds': '86400',
    'load_balancing.algorithm.type': 'round_robin',
    'load_balancing.algorithm.anomaly_mitigation': 'off',
    'load_balancing.cross_zone.enabled': 'use_load_balancer_configuration',
    'slow_start.duration_seconds': '0',
    'target_group_health.dns_failover.minimum_healthy_targets.count': '1',
    'target_group_health.dns_failover.minimum_healthy_targets.percentage': 'off',
    'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': '1',
    'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': 'off',
  };
}

function seedService(
  cluster: Cluster,
  put: (o: KubeObject) => void,
  namespace: string,
  name: string,
  port: number,
  nodePort: number,
  tgName: string,
  tgArn: string,
  stack: string | undefined,
): void {
  if (!getObject(cluster.kube, resourceByKind('Namespace'), undefined, namespace)) {
    put(namespaceObject(namespace));
    put(serviceAccountObject(namespace, 'default'));
  }
  const labels = { app: name };
  put(appDeployment(namespace, name, `${cluster.arn.split(':')[4] ?? ''}.dkr.ecr.${cluster.arn.split(':')[3] ?? ''}.amazonaws.com/${namespace}/${name}:2021.06.28`, labels));
  put({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels },
    spec: { type: 'NodePort', selector: labels, ports: [{ name: 'http', port, protocol: 'TCP', targetPort: 8080, nodePort }] },
  });
  put({
    apiVersion: 'elbv2.k8s.aws/v1beta1',
    kind: 'TargetGroupBinding',
    metadata: {
      name: tgName.toLowerCase(),
      namespace,
      labels: stack ? { 'ingress.k8s.aws/stack-name': stack.split('/')[1] ?? stack, 'ingress.k8s.aws/stack-namespace': stack.split('/')[0] ?? namespace } : {},
      finalizers: ['elbv2.k8s.aws/resources'],
    },
    spec: { serviceRef: { name, port }, targetGroupARN: tgArn, targetType: 'instance', networking: { ingress: [{ from: [{ securityGroup: { groupID: cluster.securityGroupId } }], ports: [{ protocol: 'TCP' }] }] } },
    status: { observedGeneration: 1 },
  });
}
