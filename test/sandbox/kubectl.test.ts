/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument -- the JSON printed by aws/kubectl is untyped by nature; the assertions check its shape. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateAddonCommand } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/index.js';
import { clients, kubectl, kubectlJson, ManualClock } from './helpers.js';

/** The real kubectl v1.32 against the kubeconfig the sandbox writes. */
describe('kubectl', () => {
  let sb: RunningSandbox;
  const clock = new ManualClock();
  beforeAll(async () => {
    sb = await startSandbox({ scenario: 'default', speed: 1, clock });
  });
  afterAll(async () => {
    await sb.close();
  });

  it('get nodes,ds,deploy -A -o json shows the world', async () => {
    const list = await kubectlJson(sb, 'get', 'nodes,ds,deploy', '-A');
    const byKind = (k: string) => list.items.filter((i: any) => i.kind === k);
    expect(byKind('Node')).toHaveLength(5);
    expect(byKind('Node')[0].status.nodeInfo.kubeletVersion).toBe('v1.19.6-eks-49a6c0');
    expect(byKind('DaemonSet').map((d: any) => d.metadata.name).sort()).toEqual(['aws-node', 'kube-proxy']);
    expect(byKind('DaemonSet')[0].status.numberReady).toBe(5);
    expect(byKind('Deployment').map((d: any) => `${d.metadata.namespace}/${d.metadata.name}`)).toEqual(
      expect.arrayContaining(['kube-system/coredns', 'kube-system/aws-load-balancer-controller', 'shop/web']),
    );
    const awsNode = byKind('DaemonSet').find((d: any) => d.metadata.name === 'aws-node');
    expect(awsNode.spec.template.spec.containers[0].image).toBe('602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.7.5');
    expect(awsNode.metadata.labels['app.kubernetes.io/managed-by']).toBeUndefined();
  });

  it('gets pods, configmaps, serviceaccounts and TargetGroupBindings pointing at the target groups', async () => {
    const [pods, cms, sas, tgbs, node] = await Promise.all([
      kubectlJson(sb, 'get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=aws-node'),
      kubectlJson(sb, 'get', 'configmaps', '-n', 'kube-system'),
      kubectlJson(sb, 'get', 'serviceaccounts', '-n', 'kube-system'),
      kubectlJson(sb, 'get', 'targetgroupbindings.elbv2.k8s.aws', '-A'),
      kubectl(sb, ['get', 'node', 'no-such-node']),
    ]);
    expect(pods.items).toHaveLength(5);
    expect(new Set(pods.items.map((p: any) => p.spec.nodeName)).size).toBe(5);
    expect(cms.items.map((c: any) => c.metadata.name)).toEqual(expect.arrayContaining(['aws-auth', 'coredns', 'kube-proxy-config']));
    expect(sas.items.map((s: any) => s.metadata.name)).toEqual(expect.arrayContaining(['aws-node', 'coredns', 'kube-proxy', 'aws-load-balancer-controller']));
    const arns = new Set(Object.values(sb.world().elb.targetGroups).map((t) => t.arn));
    expect(tgbs.items).toHaveLength(4);
    for (const t of tgbs.items) expect(arns.has(t.spec.targetGroupARN)).toBe(true);
    expect(node.code).toBe(1);
    expect(node.stderr).toContain('nodes "no-such-node" not found');
  });

  it('a managed add-on shows its EKS version in the workload image', async () => {
    await clients(sb).eks.send(new CreateAddonCommand({ clusterName: 'prod-eu', addonName: 'vpc-cni', addonVersion: 'v1.7.10-eksbuild.1', resolveConflicts: 'OVERWRITE' }));
    clock.advance(30_000);
    const ds = await kubectlJson(sb, 'get', 'ds', 'aws-node', '-n', 'kube-system');
    expect(ds.spec.template.spec.containers[0].image).toBe('602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.7.10-eksbuild.1');
    expect(ds.metadata.labels['app.kubernetes.io/managed-by']).toBe('EKS');
  });

  it('applies a backup client-side and server-side, and deletes', async () => {
    const backup = await kubectlJson(sb, 'get', 'ds', 'kube-proxy', '-n', 'kube-system');
    backup.spec.template.spec.containers[0].image = backup.spec.template.spec.containers[0].image.replace('eksbuild.1', 'eksbuild.9');
    const file = join(sb.kubeconfigPath, '..', 'kube-proxy.json');
    await writeFile(file, JSON.stringify(backup));
    const csa = await kubectl(sb, ['apply', '-f', file]);
    expect(csa.code, csa.stderr).toBe(0);
    expect(csa.stdout).toContain('daemonset.apps/kube-proxy configured');
    let now = await kubectlJson(sb, 'get', 'ds', 'kube-proxy', '-n', 'kube-system');
    expect(now.spec.template.spec.containers[0].image).toMatch(/eksbuild\.9$/);
    expect(now.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toBeTruthy();

    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'restored', namespace: 'kube-system' }, data: { a: '1' } };
    const cmFile = join(sb.kubeconfigPath, '..', 'cm.json');
    await writeFile(cmFile, JSON.stringify(cm));
    expect((await kubectl(sb, ['apply', '-f', cmFile])).stdout).toContain('configmap/restored created');
    await writeFile(cmFile, JSON.stringify({ ...cm, data: { a: '2' } }));
    const ssa = await kubectl(sb, ['apply', '--server-side', '--force-conflicts', '-f', cmFile]);
    expect(ssa.code, ssa.stderr).toBe(0);
    now = await kubectlJson(sb, 'get', 'cm', 'restored', '-n', 'kube-system');
    expect(now.data).toEqual({ a: '2' });

    const dry = await kubectl(sb, ['delete', 'cm', 'restored', '-n', 'kube-system', '--dry-run=server']);
    expect(dry.code, dry.stderr).toBe(0);
    expect((await kubectl(sb, ['delete', 'cm', 'restored', '-n', 'kube-system'])).stdout).toContain('configmap "restored" deleted');
    expect((await kubectl(sb, ['get', 'cm', 'restored', '-n', 'kube-system'])).code).toBe(1);

    const kubeOps = sb.journal().filter((j) => j.service === 'kubernetes').map((j) => j.operation);
    expect(kubeOps).toContain('patch daemonsets.apps');
    expect(kubeOps).toContain('create configmaps');
    expect(kubeOps.filter((o) => o === 'delete configmaps')).toHaveLength(1); // the dry run is not journalled
  });

  it('patches a TargetGroupBinding (a CRD: JSON merge patch)', async () => {
    const r = await kubectl(sb, ['patch', 'targetgroupbinding', 'k8s-shop-web-6a1f2b3c4d', '-n', 'shop', '--type', 'merge', '-p', '{"metadata":{"labels":{"restored":"yes"}}}']);
    expect(r.code, r.stderr).toBe(0);
    const t = await kubectlJson(sb, 'get', 'targetgroupbinding', 'k8s-shop-web-6a1f2b3c4d', '-n', 'shop');
    expect(t.metadata.labels.restored).toBe('yes');
    expect(t.spec.targetGroupARN).toContain(':targetgroup/k8s-shop-web-6a1f2b3c4d/');
  });
});
