/**
 * What EKS offered in mid-2021, as far as the sandbox needs it: per Kubernetes minor, the
 * kubelet/AMI/platform strings nodes and clusters report, and the add-on versions
 * DescribeAddonVersions lists. Version strings follow the real formats so parsers written
 * against the sandbox also parse AWS.
 */
export interface KubernetesRelease {
  minor: string;
  gitVersion: string;
  kubeletVersion: string;
  amiReleaseVersion: string;
  platformVersion: string;
}

export const KUBERNETES_RELEASES: readonly KubernetesRelease[] = [
  { minor: '1.18', gitVersion: 'v1.18.16-eks-7737de', kubeletVersion: 'v1.18.20-eks-c9f1ce', amiReleaseVersion: '1.18.20-20210628', platformVersion: 'eks.8' },
  { minor: '1.19', gitVersion: 'v1.19.8-eks-96780e', kubeletVersion: 'v1.19.6-eks-49a6c0', amiReleaseVersion: '1.19.6-20210628', platformVersion: 'eks.5' },
  { minor: '1.20', gitVersion: 'v1.20.4-eks-6b7464', kubeletVersion: 'v1.20.4-eks-6b7464', amiReleaseVersion: '1.20.4-20210628', platformVersion: 'eks.2' },
  { minor: '1.21', gitVersion: 'v1.21.2-eks-0389ca3', kubeletVersion: 'v1.21.2-eks-55daa9d', amiReleaseVersion: '1.21.2-20210722', platformVersion: 'eks.1' },
  { minor: '1.22', gitVersion: 'v1.22.6-eks-7d68063', kubeletVersion: 'v1.22.6-eks-7d68063', amiReleaseVersion: '1.22.6-20220317', platformVersion: 'eks.1' },
];

export function kubernetesRelease(minor: string): KubernetesRelease | undefined {
  return KUBERNETES_RELEASES.find((r) => r.minor === minor);
}

export function nextMinor(minor: string): string {
  const [major, m] = minor.split('.');
  return `${major ?? '1'}.${Number(m ?? '0') + 1}`;
}

export type AddonName = 'vpc-cni' | 'coredns' | 'kube-proxy';
export const ADDON_NAMES: readonly AddonName[] = ['vpc-cni', 'coredns', 'kube-proxy'];

export interface AddonWorkload {
  kind: 'DaemonSet' | 'Deployment';
  name: string;
  container: string;
  /** Image repository below the regional ECR registry of EKS (account 602401143452). */
  repository: string;
  serviceAccount: string;
  k8sApp: string;
}

export interface AddonCatalogEntry {
  name: AddonName;
  type: string;
  workload: AddonWorkload;
  versions: readonly { version: string; clusterVersions: readonly string[]; defaultFor: readonly string[] }[];
  /** The image tag a self-managed install of this add-on carries, per cluster minor. */
  selfManagedTag: Readonly<Record<string, string>>;
}

export const ADDON_CATALOG: readonly AddonCatalogEntry[] = [
  {
    name: 'vpc-cni',
    type: 'networking',
    workload: { kind: 'DaemonSet', name: 'aws-node', container: 'aws-node', repository: 'amazon-k8s-cni', serviceAccount: 'aws-node', k8sApp: 'aws-node' },
    versions: [
      { version: 'v1.9.0-eksbuild.1', clusterVersions: ['1.18', '1.19', '1.20', '1.21'], defaultFor: [] },
      { version: 'v1.8.0-eksbuild.1', clusterVersions: ['1.18', '1.19', '1.20', '1.21'], defaultFor: ['1.21'] },
      { version: 'v1.7.10-eksbuild.1', clusterVersions: ['1.18', '1.19', '1.20', '1.21'], defaultFor: [] },
      { version: 'v1.7.5-eksbuild.1', clusterVersions: ['1.18', '1.19', '1.20'], defaultFor: ['1.18', '1.19', '1.20'] },
      { version: 'v1.10.1-eksbuild.1', clusterVersions: ['1.19', '1.20', '1.21', '1.22'], defaultFor: ['1.22'] },
    ],
    selfManagedTag: { '1.18': 'v1.7.5', '1.19': 'v1.7.5', '1.20': 'v1.7.5', '1.21': 'v1.8.0', '1.22': 'v1.10.1' },
  },
  {
    name: 'coredns',
    type: 'networking',
    workload: { kind: 'Deployment', name: 'coredns', container: 'coredns', repository: 'eks/coredns', serviceAccount: 'coredns', k8sApp: 'kube-dns' },
    versions: [
      { version: 'v1.7.0-eksbuild.1', clusterVersions: ['1.18'], defaultFor: ['1.18'] },
      { version: 'v1.8.0-eksbuild.1', clusterVersions: ['1.19'], defaultFor: ['1.19'] },
      { version: 'v1.8.3-eksbuild.1', clusterVersions: ['1.20', '1.21'], defaultFor: ['1.20'] },
      { version: 'v1.8.4-eksbuild.1', clusterVersions: ['1.21'], defaultFor: ['1.21'] },
      { version: 'v1.8.7-eksbuild.1', clusterVersions: ['1.22'], defaultFor: ['1.22'] },
    ],
    selfManagedTag: { '1.18': 'v1.7.0', '1.19': 'v1.8.0', '1.20': 'v1.8.3', '1.21': 'v1.8.4', '1.22': 'v1.8.7' },
  },
  {
    name: 'kube-proxy',
    type: 'networking',
    workload: { kind: 'DaemonSet', name: 'kube-proxy', container: 'kube-proxy', repository: 'eks/kube-proxy', serviceAccount: 'kube-proxy', k8sApp: 'kube-proxy' },
    versions: [
      { version: 'v1.18.8-eksbuild.1', clusterVersions: ['1.18'], defaultFor: ['1.18'] },
      { version: 'v1.19.6-eksbuild.2', clusterVersions: ['1.19'], defaultFor: ['1.19'] },
      { version: 'v1.20.4-eksbuild.2', clusterVersions: ['1.20'], defaultFor: ['1.20'] },
      { version: 'v1.21.2-eksbuild.2', clusterVersions: ['1.21'], defaultFor: ['1.21'] },
      { version: 'v1.22.6-eksbuild.1', clusterVersions: ['1.22'], defaultFor: ['1.22'] },
    ],
    selfManagedTag: { '1.18': 'v1.18.8-eksbuild.1', '1.19': 'v1.19.6-eksbuild.1', '1.20': 'v1.20.4-eksbuild.1', '1.21': 'v1.21.2-eksbuild.1', '1.22': 'v1.22.6-eksbuild.1' },
  },
];

export function addonEntry(name: string): AddonCatalogEntry | undefined {
  return ADDON_CATALOG.find((a) => a.name === name);
}

export function ecrImage(region: string, repository: string, tag: string): string {
  return `602401143452.dkr.ecr.${region}.amazonaws.com/${repository}:${tag}`;
}

export function defaultAddonVersion(name: string, clusterVersion: string): string | undefined {
  return addonEntry(name)?.versions.find((v) => v.defaultFor.includes(clusterVersion))?.version;
}
