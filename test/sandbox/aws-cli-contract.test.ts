/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument -- the JSON printed by aws/kubectl is untyped by nature; the assertions check its shape. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/index.js';
import { aws, awsRaw, ManualClock } from './helpers.js';

/**
 * The installed aws CLI (v1, botocore's own models and parsers) drives every operation the
 * sandbox implements; every answer must parse. The clock is moved by hand between calls.
 */
describe('aws CLI contract', () => {
  let sb: RunningSandbox;
  const clock = new ManualClock();
  beforeAll(async () => {
    sb = await startSandbox({ scenario: '2021-06-30', speed: 1, clock });
  });
  afterAll(async () => {
    await sb.close();
  });

  it('EKS: clusters, updates, add-ons, node groups, insights', async () => {
    const [clusters, cluster, nodegroups, versions, addons, insights, who] = await Promise.all([
      aws(sb, 'eks', 'list-clusters'),
      aws(sb, 'eks', 'describe-cluster', '--name', 'prod-eu'),
      aws(sb, 'eks', 'list-nodegroups', '--cluster-name', 'prod-eu'),
      aws(sb, 'eks', 'describe-addon-versions', '--kubernetes-version', '1.20', '--addon-name', 'vpc-cni'),
      aws(sb, 'eks', 'list-addons', '--cluster-name', 'prod-eu'),
      aws(sb, 'eks', 'list-insights', '--cluster-name', 'prod-eu', '--filter', 'categories=UPGRADE_READINESS'),
      aws(sb, 'sts', 'get-caller-identity'),
    ]);
    expect(clusters.clusters).toEqual(['prod-eu']);
    expect(cluster.cluster).toMatchObject({ name: 'prod-eu', version: '1.19', status: 'ACTIVE', arn: 'arn:aws:eks:eu-west-1:111122223333:cluster/prod-eu' });
    // CLI v1 prints timestamps as they came on the wire: epoch seconds with milliseconds.
    expect(cluster.cluster.createdAt).toBe(sb.world().clusters['prod-eu']!.createdAt / 1000);
    expect(nodegroups.nodegroups).toEqual(['ng-batch', 'ng-general']);
    expect(versions.addons[0].addonVersions.map((v: any) => v.addonVersion)).toContain('v1.7.10-eksbuild.1');
    expect(addons.addons).toEqual([]);
    expect(insights.insights.length).toBeGreaterThanOrEqual(3);
    expect(who.Account).toBe('111122223333');

    const [ng, insight] = await Promise.all([
      aws(sb, 'eks', 'describe-nodegroup', '--cluster-name', 'prod-eu', '--nodegroup-name', 'ng-general'),
      aws(sb, 'eks', 'describe-insight', '--cluster-name', 'prod-eu', '--id', insights.insights[0].id),
    ]);
    expect(ng.nodegroup).toMatchObject({ nodegroupName: 'ng-general', version: '1.19', status: 'ACTIVE', scalingConfig: { desiredSize: 3 } });
    expect(insight.insight.id).toBe(insights.insights[0].id);

    const up = await aws(sb, 'eks', 'update-cluster-version', '--name', 'prod-eu', '--kubernetes-version', '1.20');
    expect(up.update).toMatchObject({ status: 'InProgress', type: 'VersionUpdate' });
    const conflict = await awsRaw(sb, 'eks', 'update-cluster-version', '--name', 'prod-eu', '--kubernetes-version', '1.20');
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toContain('ResourceInUseException');
    clock.advance(600_000);
    const [done, updates] = await Promise.all([
      aws(sb, 'eks', 'describe-update', '--name', 'prod-eu', '--update-id', up.update.id),
      aws(sb, 'eks', 'list-updates', '--name', 'prod-eu'),
    ]);
    expect(done.update.status).toBe('Successful');
    expect(updates.updateIds).toEqual([up.update.id]);

    const created = await aws(sb, 'eks', 'create-addon', '--cluster-name', 'prod-eu', '--addon-name', 'coredns', '--addon-version', 'v1.8.3-eksbuild.1', '--resolve-conflicts', 'OVERWRITE');
    expect(created.addon).toMatchObject({ addonName: 'coredns', status: 'CREATING', addonVersion: 'v1.8.3-eksbuild.1' });
    clock.advance(30_000);
    expect((await aws(sb, 'eks', 'describe-addon', '--cluster-name', 'prod-eu', '--addon-name', 'coredns')).addon.status).toBe('ACTIVE');
    const upd = await aws(sb, 'eks', 'update-addon', '--cluster-name', 'prod-eu', '--addon-name', 'coredns', '--addon-version', 'v1.8.3-eksbuild.1', '--resolve-conflicts', 'OVERWRITE');
    expect(upd.update).toMatchObject({ type: 'AddonUpdate', status: 'InProgress' });
    clock.advance(30_000);
    expect((await aws(sb, 'eks', 'describe-update', '--name', 'prod-eu', '--update-id', upd.update.id, '--addon-name', 'coredns')).update.status).toBe('Successful');
    const del = await aws(sb, 'eks', 'delete-addon', '--cluster-name', 'prod-eu', '--addon-name', 'coredns', '--preserve');
    expect(del.addon.status).toBe('DELETING');

    const roll = await aws(sb, 'eks', 'update-nodegroup-version', '--cluster-name', 'prod-eu', '--nodegroup-name', 'ng-batch');
    expect(roll.update.params).toEqual(expect.arrayContaining([{ type: 'Version', value: '1.20' }]));

    const missing = await awsRaw(sb, 'eks', 'describe-cluster', '--name', 'nope');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/ResourceNotFoundException.*No cluster found for name: nope\./);
  }, 90_000);

  it('ELBv2: load balancers, listeners, rules, target groups, health, attributes, tags, targets, modify', async () => {
    const lbs = await aws(sb, 'elbv2', 'describe-load-balancers');
    const lb = lbs.LoadBalancers[0];
    const [listeners, tgs, tags] = await Promise.all([
      aws(sb, 'elbv2', 'describe-listeners', '--load-balancer-arn', lb.LoadBalancerArn),
      aws(sb, 'elbv2', 'describe-target-groups', '--load-balancer-arn', lb.LoadBalancerArn),
      aws(sb, 'elbv2', 'describe-tags', '--resource-arns', lb.LoadBalancerArn),
    ]);
    expect(tags.TagDescriptions[0].Tags).toContainEqual({ Key: 'elbv2.k8s.aws/cluster', Value: 'prod-eu' });
    const https = listeners.Listeners.find((l: any) => l.Port === 443);
    const tg = tgs.TargetGroups[0];
    const [rules, health, attrs, paged] = await Promise.all([
      aws(sb, 'elbv2', 'describe-rules', '--listener-arn', https.ListenerArn),
      aws(sb, 'elbv2', 'describe-target-health', '--target-group-arn', tg.TargetGroupArn),
      aws(sb, 'elbv2', 'describe-target-group-attributes', '--target-group-arn', tg.TargetGroupArn),
      aws(sb, 'elbv2', 'describe-target-groups', '--page-size', '3', '--no-paginate'),
    ]);
    expect(rules.Rules.map((r: any) => r.Priority)).toEqual(['1', '2', '3', '4', 'default']);
    expect(health.TargetHealthDescriptions).toHaveLength(5);
    expect(attrs.Attributes).toContainEqual({ Key: 'deregistration_delay.timeout_seconds', Value: '300' });
    expect(paged.TargetGroups).toHaveLength(3);
    const rest = await aws(sb, 'elbv2', 'describe-target-groups', '--page-size', '3', '--marker', paged.NextMarker, '--no-paginate');
    expect(rest.NextMarker).toBeUndefined();
    expect([...paged.TargetGroups, ...rest.TargetGroups].map((t: any) => t.TargetGroupArn)).toEqual(tgs.TargetGroups.map((t: any) => t.TargetGroupArn));

    const modified = await aws(sb, 'elbv2', 'modify-target-group-attributes', '--target-group-arn', tg.TargetGroupArn, '--attributes', 'Key=deregistration_delay.timeout_seconds,Value=600');
    expect(modified.Attributes).toContainEqual({ Key: 'deregistration_delay.timeout_seconds', Value: '600' });
    const bad = await awsRaw(sb, 'elbv2', 'modify-target-group-attributes', '--target-group-arn', tg.TargetGroupArn, '--attributes', 'Key=deregistration_delay.timeout_seconds,Value=-1');
    expect(bad.stderr).toContain('InvalidConfigurationRequest');

    const target = health.TargetHealthDescriptions[0].Target;
    await aws(sb, 'elbv2', 'deregister-targets', '--target-group-arn', tg.TargetGroupArn, '--targets', `Id=${target.Id},Port=${target.Port}`);
    const drain = await aws(sb, 'elbv2', 'describe-target-health', '--target-group-arn', tg.TargetGroupArn, '--targets', `Id=${target.Id},Port=${target.Port}`);
    expect(drain.TargetHealthDescriptions[0].TargetHealth.State).toBe('draining');
    await aws(sb, 'elbv2', 'register-targets', '--target-group-arn', tg.TargetGroupArn, '--targets', `Id=${target.Id},Port=${target.Port}`);

    const rule = rules.Rules[0];
    const mr = await aws(sb, 'elbv2', 'modify-rule', '--rule-arn', rule.RuleArn, '--actions', `Type=forward,TargetGroupArn=${tg.TargetGroupArn}`);
    expect(mr.Rules[0].Actions[0]).toMatchObject({ Type: 'forward', TargetGroupArn: tg.TargetGroupArn });
    const ml = await aws(sb, 'elbv2', 'modify-listener', '--listener-arn', https.ListenerArn, '--default-actions', 'Type=fixed-response,FixedResponseConfig={StatusCode=503,ContentType=text/plain}');
    expect(ml.Listeners[0].DefaultActions[0]).toMatchObject({ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503' } });

    const nf = await awsRaw(sb, 'elbv2', 'describe-target-health', '--target-group-arn', `${tg.TargetGroupArn}0`);
    expect(nf.stderr).toContain('TargetGroupNotFound');
  }, 90_000);
});
