/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- the JSON printed by kubectl is untyped by nature; the assertions check its shape. */
import {
  CreateAddonCommand,
  DeleteAddonCommand,
  DescribeAddonCommand,
  DescribeAddonVersionsCommand,
  DescribeClusterCommand,
  DescribeInsightCommand,
  DescribeNodegroupCommand,
  DescribeUpdateCommand,
  ListAddonsCommand,
  ListInsightsCommand,
  ListUpdatesCommand,
  UpdateAddonCommand,
  UpdateClusterVersionCommand,
  UpdateNodegroupVersionCommand,
} from '@aws-sdk/client-eks';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/index.js';
import { clients, kubectlJson, ManualClock } from './helpers.js';

const open: RunningSandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function start(clock: ManualClock, scenario = 'default'): Promise<RunningSandbox> {
  const sb = await startSandbox({ scenario, speed: 1, clock });
  open.push(sb);
  return sb;
}

describe('UpdateClusterVersion', () => {
  it('goes one minor at a time, is idempotent per token, refuses a second update, and lands on the new version', async () => {
    const clock = new ManualClock();
    const sb = await start(clock);
    const { eks } = clients(sb);
    await expect(eks.send(new UpdateClusterVersionCommand({ name: 'prod-eu', version: '1.21' }))).rejects.toMatchObject({ name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } });
    await expect(eks.send(new UpdateClusterVersionCommand({ name: 'nope', version: '1.20' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });

    const first = await eks.send(new UpdateClusterVersionCommand({ name: 'prod-eu', version: '1.20', clientRequestToken: 'tok-1' }));
    const again = await eks.send(new UpdateClusterVersionCommand({ name: 'prod-eu', version: '1.20', clientRequestToken: 'tok-1' }));
    expect(again.update?.id).toBe(first.update?.id);
    expect(first.update).toMatchObject({ status: 'InProgress', type: 'VersionUpdate', params: expect.arrayContaining([{ type: 'Version', value: '1.20' }]) });
    expect(first.update?.createdAt).toBeInstanceOf(Date);
    await expect(eks.send(new UpdateClusterVersionCommand({ name: 'prod-eu', version: '1.20', clientRequestToken: 'tok-2' }))).rejects.toMatchObject({
      name: 'ResourceInUseException',
      $metadata: { httpStatusCode: 409 },
    });

    // Eventually consistent: the update exists at once, DescribeCluster says UPDATING a little later.
    expect((await eks.send(new DescribeClusterCommand({ name: 'prod-eu' }))).cluster?.status).toBe('ACTIVE');
    clock.advance(5_000);
    expect((await eks.send(new DescribeClusterCommand({ name: 'prod-eu' }))).cluster?.status).toBe('UPDATING');
    clock.advance(300_000);
    expect((await eks.send(new DescribeUpdateCommand({ name: 'prod-eu', updateId: first.update!.id! }))).update?.status).toBe('InProgress');
    clock.advance(295_000);
    expect((await eks.send(new DescribeUpdateCommand({ name: 'prod-eu', updateId: first.update!.id! }))).update?.status).toBe('Successful');
    const c = (await eks.send(new DescribeClusterCommand({ name: 'prod-eu' }))).cluster;
    expect(c).toMatchObject({ status: 'ACTIVE', version: '1.20', platformVersion: 'eks.2' });
    expect((await kubectlJson(sb, 'version')).serverVersion.minor).toBe('20+');
    expect((await eks.send(new ListUpdatesCommand({ name: 'prod-eu' }))).updateIds).toEqual([first.update!.id]);
    // An update id asked for under the wrong target is not found, as on AWS.
    await expect(eks.send(new DescribeUpdateCommand({ name: 'prod-eu', updateId: first.update!.id!, addonName: 'vpc-cni' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('fails the next update when told to, leaving the cluster on its version', async () => {
    const clock = new ManualClock();
    const sb = await start(clock);
    const { eks } = clients(sb);
    sb.setFaults({ failNextUpdate: ['cluster-version'] });
    const u = await eks.send(new UpdateClusterVersionCommand({ name: 'prod-eu', version: '1.20' }));
    clock.advance(120_000);
    const d = await eks.send(new DescribeUpdateCommand({ name: 'prod-eu', updateId: u.update!.id! }));
    expect(d.update?.status).toBe('Failed');
    expect(d.update?.errors?.[0]?.errorMessage).toMatch(/injected/);
    expect((await eks.send(new DescribeClusterCommand({ name: 'prod-eu' }))).cluster).toMatchObject({ version: '1.19', status: 'ACTIVE' });
    expect(sb.faults().failNextUpdate).toEqual([]);
    expect(sb.faultRecords().map((r) => r.kind)).toEqual(['update-failed']);
  });
});

describe('node groups', () => {
  it('roll: new nodes join with the new kubelet, old ones leave, over the update', async () => {
    const clock = new ManualClock();
    const sb = await start(clock);
    const { eks } = clients(sb);
    const kubelets = async (): Promise<string[]> =>
      (await kubectlJson(sb, 'get', 'nodes', '-l', 'eks.amazonaws.com/nodegroup=ng-general')).items.map((n: any) => n.status.nodeInfo.kubeletVersion).sort();
    expect(await kubelets()).toEqual(['v1.19.6-eks-49a6c0', 'v1.19.6-eks-49a6c0', 'v1.19.6-eks-49a6c0']);

    await eks.send(new UpdateClusterVersionCommand({ name: 'prod-eu', version: '1.20' }));
    await expect(eks.send(new UpdateNodegroupVersionCommand({ clusterName: 'prod-eu', nodegroupName: 'ng-general', version: '1.20' }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
    clock.advance(600_000);

    const u = await eks.send(new UpdateNodegroupVersionCommand({ clusterName: 'prod-eu', nodegroupName: 'ng-general' }));
    expect(u.update?.params).toEqual(expect.arrayContaining([{ type: 'Version', value: '1.20' }, { type: 'ReleaseVersion', value: '1.20.4-20210628' }]));
    await expect(eks.send(new UpdateNodegroupVersionCommand({ clusterName: 'prod-eu', nodegroupName: 'ng-general' }))).rejects.toMatchObject({ name: 'ResourceInUseException' });
    expect((await eks.send(new DescribeNodegroupCommand({ clusterName: 'prod-eu', nodegroupName: 'ng-general' }))).nodegroup?.status).toBe('UPDATING');

    clock.advance(60_000); // first new node joins (surge)
    expect(await kubelets()).toEqual(['v1.19.6-eks-49a6c0', 'v1.19.6-eks-49a6c0', 'v1.19.6-eks-49a6c0', 'v1.20.4-eks-6b7464']);
    clock.advance(60_000); // first old node leaves
    expect(await kubelets()).toEqual(['v1.19.6-eks-49a6c0', 'v1.19.6-eks-49a6c0', 'v1.20.4-eks-6b7464']);
    clock.advance(240_000);
    expect(await kubelets()).toEqual(['v1.20.4-eks-6b7464', 'v1.20.4-eks-6b7464', 'v1.20.4-eks-6b7464']);
    const ng = (await eks.send(new DescribeNodegroupCommand({ clusterName: 'prod-eu', nodegroupName: 'ng-general' }))).nodegroup;
    expect(ng).toMatchObject({ status: 'ACTIVE', version: '1.20', releaseVersion: '1.20.4-20210628' });
    const d = await eks.send(new DescribeUpdateCommand({ name: 'prod-eu', updateId: u.update!.id!, nodegroupName: 'ng-general' }));
    expect(d.update?.status).toBe('Successful');
  });
});

describe('add-ons', () => {
  it('versions per Kubernetes minor, create/update/delete with the workload following in Kubernetes', async () => {
    const clock = new ManualClock();
    const sb = await start(clock);
    const { eks } = clients(sb);
    const v = await eks.send(new DescribeAddonVersionsCommand({ kubernetesVersion: '1.20', addonName: 'coredns' }));
    const versions = v.addons?.[0]?.addonVersions?.map((x) => x.addonVersion);
    expect(versions).toEqual(['v1.8.3-eksbuild.1']);
    expect(v.addons?.[0]?.addonVersions?.[0]?.compatibilities?.[0]).toMatchObject({ clusterVersion: '1.20', defaultVersion: true });
    expect((await eks.send(new ListAddonsCommand({ clusterName: 'prod-eu' }))).addons).toEqual([]);

    await expect(eks.send(new CreateAddonCommand({ clusterName: 'prod-eu', addonName: 'coredns', addonVersion: 'v1.8.3-eksbuild.1' }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await eks.send(new CreateAddonCommand({ clusterName: 'prod-eu', addonName: 'coredns', addonVersion: 'v1.8.0-eksbuild.1', resolveConflicts: 'OVERWRITE' }));
    await expect(eks.send(new CreateAddonCommand({ clusterName: 'prod-eu', addonName: 'coredns', addonVersion: 'v1.8.0-eksbuild.1' }))).rejects.toMatchObject({ name: 'ResourceInUseException', $metadata: { httpStatusCode: 409 } });
    clock.advance(30_000);
    expect((await eks.send(new ListAddonsCommand({ clusterName: 'prod-eu' }))).addons).toEqual(['coredns']);
    let deploy = await kubectlJson(sb, '-n', 'kube-system', 'get', 'deploy', 'coredns');
    expect(deploy.spec.template.spec.containers[0].image).toBe('602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/coredns:v1.8.0-eksbuild.1');
    expect(deploy.metadata.labels['app.kubernetes.io/managed-by']).toBe('EKS');

    sb.setFaults({ failNextUpdate: ['addon:coredns'] });
    const failing = await eks.send(new UpdateAddonCommand({ clusterName: 'prod-eu', addonName: 'coredns', addonVersion: 'v1.8.0-eksbuild.1', resolveConflicts: 'OVERWRITE' }));
    expect((await eks.send(new DescribeAddonCommand({ clusterName: 'prod-eu', addonName: 'coredns' }))).addon?.status).toBe('UPDATING');
    clock.advance(120_000);
    expect((await eks.send(new DescribeUpdateCommand({ name: 'prod-eu', updateId: failing.update!.id!, addonName: 'coredns' }))).update?.status).toBe('Failed');
    expect((await eks.send(new DescribeAddonCommand({ clusterName: 'prod-eu', addonName: 'coredns' }))).addon?.status).toBe('DEGRADED');

    await eks.send(new DeleteAddonCommand({ clusterName: 'prod-eu', addonName: 'coredns', preserve: true }));
    clock.advance(10_000);
    expect((await eks.send(new ListAddonsCommand({ clusterName: 'prod-eu' }))).addons).toEqual([]);
    deploy = await kubectlJson(sb, '-n', 'kube-system', 'get', 'deploy', 'coredns');
    expect(deploy.spec.template.spec.containers[0].image).toMatch(/coredns:v1\.8\.0-eksbuild\.1$/);
    expect(deploy.metadata.labels['app.kubernetes.io/managed-by']).toBeUndefined();
  });
});

describe('insights', () => {
  it('lists upgrade-readiness findings, including a deprecated API in use', async () => {
    const sb = await start(new ManualClock());
    const { eks } = clients(sb);
    const list = await eks.send(new ListInsightsCommand({ clusterName: 'prod-eu', filter: { categories: ['UPGRADE_READINESS'] } }));
    const names = list.insights?.map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['Deprecated APIs removed in Kubernetes v1.22', 'Kubelet version skew', 'Amazon EKS add-on version compatibility']));
    const dep = list.insights!.find((i) => i.name?.startsWith('Deprecated'))!;
    const d = await eks.send(new DescribeInsightCommand({ clusterName: 'prod-eu', id: dep.id! }));
    expect(d.insight?.insightStatus?.status).toBe('WARNING');
    expect(d.insight?.categorySpecificSummary?.deprecationDetails?.[0]).toMatchObject({ usage: '/apis/extensions/v1beta1/ingresses', replacedWith: '/apis/networking.k8s.io/v1/ingresses' });
  });
});
