import { isoUtc } from '../../ports/clock.js';
import { addonEntry, ecrImage, kubernetesRelease, type AddonCatalogEntry } from './catalog.js';
import { freshHex, hashHex } from './ids.js';
import { putObject, resourceByKind } from './kube.js';
import type { Cluster, Instance, KubeObject, Nodegroup, World } from './types.js';

/** Kubernetes objects as EKS creates them: nodes of managed node groups and the add-on workloads. */

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const ADDON_LABEL = 'eks.amazonaws.com/addon';

function k8sTime(ms: number): string {
  return isoUtc(Math.floor(ms / 1000) * 1000).replace('.000Z', 'Z');
}

/** Creates an EC2 instance and its Node object for a node group; returns the node name. */
export function launchNode(world: World, cluster: Cluster, ng: Nodegroup, now: number, image?: { version: string; releaseVersion: string }): string {
  const n = world.seq + 1;
  const zoneIndex = n % 3;
  const zone = `${world.region}${'abc'[zoneIndex] ?? 'a'}`;
  const ip = `10.0.${zoneIndex * 32 + ((n >> 8) % 32)}.${(n % 250) + 4}`;
  const id = `i-0${freshHex(world, 16)}`;
  const nodeName = `ip-${ip.replaceAll('.', '-')}.${world.region}.compute.internal`;
  const instance: Instance = { id, cluster: cluster.name, nodegroup: ng.name, nodeName, privateIp: ip, zone, state: 'running' };
  world.instances[id] = instance;
  putObject(cluster.kube, resourceByKind('Node'), nodeObject(world, instance, ng, now, image ?? ng), now);
  ng.nodes.push(nodeName);
  return nodeName;
}

function nodeObject(world: World, inst: Instance, ng: Nodegroup, now: number, image: { version: string; releaseVersion: string }): KubeObject {
  const rel = kubernetesRelease(image.version);
  const kubelet = rel?.kubeletVersion ?? `v${image.version}.0`;
  const t = k8sTime(now);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: inst.nodeName,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/instance-type': ng.instanceType,
        'beta.kubernetes.io/os': 'linux',
        'eks.amazonaws.com/capacityType': 'ON_DEMAND',
        'eks.amazonaws.com/nodegroup': ng.name,
        'eks.amazonaws.com/nodegroup-image': `ami-0${hashHex(image.releaseVersion, 16)}`,
        'eks.amazonaws.com/sourceLaunchTemplateVersion': '1',
        'failure-domain.beta.kubernetes.io/region': world.region,
        'failure-domain.beta.kubernetes.io/zone': inst.zone,
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': inst.nodeName,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': ng.instanceType,
        'topology.kubernetes.io/region': world.region,
        'topology.kubernetes.io/zone': inst.zone,
        ...ng.labels,
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: { providerID: `aws:///${inst.zone}/${inst.id}` },
    status: {
      addresses: [
        { type: 'InternalIP', address: inst.privateIp },
        { type: 'Hostname', address: inst.nodeName },
        { type: 'InternalDNS', address: inst.nodeName },
      ],
      allocatable: { cpu: '1930m', 'ephemeral-storage': '76224326324', memory: '7291400Ki', pods: '29' },
      capacity: { cpu: '2', 'ephemeral-storage': '83873772Ki', memory: '7934464Ki', pods: '29' },
      conditions: [
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available', lastHeartbeatTime: t, lastTransitionTime: t },
        { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure', lastHeartbeatTime: t, lastTransitionTime: t },
        { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available', lastHeartbeatTime: t, lastTransitionTime: t },
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: t, lastTransitionTime: t },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: 'amd64',
        bootID: hashHex(`${inst.id}boot`, 32),
        containerRuntimeVersion: 'docker://19.3.13',
        kernelVersion: '5.4.117-58.216.amzn2.x86_64',
        kubeProxyVersion: kubelet,
        kubeletVersion: kubelet,
        machineID: hashHex(`${inst.id}machine`, 32),
        operatingSystem: 'linux',
        osImage: 'Amazon Linux 2',
        systemUUID: hashHex(`${inst.id}uuid`, 32),
      },
    },
  };
}

/** The DaemonSet/Deployment of an add-on at a given image tag, self-managed or EKS-managed. */
export function addonWorkload(world: World, entry: AddonCatalogEntry, tag: string, managedVersion: string | null): KubeObject {
  const w = entry.workload;
  const labels: Record<string, string> = { 'k8s-app': w.k8sApp };
  if (managedVersion !== null) {
    labels[MANAGED_BY_LABEL] = 'EKS';
    labels[ADDON_LABEL] = entry.name;
    labels['app.kubernetes.io/version'] = managedVersion;
  }
  const container: Record<string, unknown> = {
    name: w.container,
    image: ecrImage(world.region, w.repository, tag),
    imagePullPolicy: 'IfNotPresent',
    resources: { requests: { cpu: w.kind === 'DaemonSet' ? '10m' : '100m' } },
  };
  if (entry.name === 'vpc-cni') {
    container['env'] = [
      { name: 'AWS_VPC_K8S_CNI_LOGLEVEL', value: 'DEBUG' },
      { name: 'AWS_VPC_ENI_MTU', value: '9001' },
      { name: 'MY_NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
    ];
    container['ports'] = [{ containerPort: 61678, name: 'metrics', protocol: 'TCP' }];
  }
  if (entry.name === 'coredns') {
    container['args'] = ['-conf', '/etc/coredns/Corefile'];
    container['ports'] = [
      { containerPort: 53, name: 'dns', protocol: 'UDP' },
      { containerPort: 53, name: 'dns-tcp', protocol: 'TCP' },
    ];
  }
  if (entry.name === 'kube-proxy') container['command'] = ['kube-proxy', '--v=2', '--config=/var/lib/kube-proxy-config/config'];
  const template = {
    metadata: { labels: { 'k8s-app': w.k8sApp } },
    spec: {
      serviceAccountName: w.serviceAccount,
      priorityClassName: w.kind === 'DaemonSet' ? 'system-node-critical' : 'system-cluster-critical',
      ...(w.kind === 'DaemonSet' ? { hostNetwork: true } : {}),
      containers: [container],
    },
  };
  const spec: Record<string, unknown> =
    w.kind === 'DaemonSet'
      ? { selector: { matchLabels: { 'k8s-app': w.k8sApp } }, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } }, template }
      : { replicas: 2, selector: { matchLabels: { 'k8s-app': w.k8sApp } }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } }, template };
  return {
    apiVersion: 'apps/v1',
    kind: w.kind,
    metadata: { name: w.name, namespace: 'kube-system', labels, annotations: w.kind === 'Deployment' ? { 'deployment.kubernetes.io/revision': '1' } : {} },
    spec,
  };
}

export function putAddonWorkload(world: World, cluster: Cluster, name: string, tag: string, managedVersion: string | null, now: number): void {
  const entry = addonEntry(name);
  if (!entry) return;
  const obj = addonWorkload(world, entry, tag, managedVersion);
  putObject(cluster.kube, resourceByKind(entry.workload.kind), obj, now);
}

export function namespaceObject(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } };
}

export function serviceAccountObject(namespace: string, name: string, annotations: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace, annotations }, secrets: [{ name: `${name}-token-${hashHex(namespace + name, 5)}` }] };
}

export function configMapObject(namespace: string, name: string, data: Record<string, string>, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels }, data };
}
