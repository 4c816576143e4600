// What a restore registers and what counts as drift, on plain records (no network).
import { describe, expect, it } from 'vitest';
import { diffTargetGroup, lostAttachments, wantedTargets } from '../../src/steps/target-group-health.js';
import type { TargetGroupRecord, TargetGroupState } from '../../src/steps/target-groups.js';

const tgArn = 'arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/web/1';
const snap: TargetGroupRecord = {
  arn: tgArn,
  name: 'web',
  protocol: 'HTTP',
  port: 30080,
  targetType: 'instance',
  loadBalancerArns: ['lb-1'],
  attachments: [{ loadBalancerArn: 'lb-1', listenerArn: 'l-1', ruleArn: 'r-4', isDefault: false, priority: '4', actions: [{ Type: 'forward', TargetGroupArn: tgArn }] }],
  targets: [
    { id: 'i-0aaa', port: 30080, availabilityZone: null, state: 'healthy', reason: null, nodegroup: 'ng-general' },
    { id: 'i-0bbb', port: 30080, availabilityZone: null, state: 'healthy', reason: null, nodegroup: 'ng-general' },
  ],
  healthy: 2,
  attributes: {},
};
const empty: TargetGroupState = { arn: tgArn, exists: true, loadBalancerArns: [], targets: [], healthy: 0 };

describe('wantedTargets', () => {
  it('re-registers the snapshot targets that are still nodes', () => {
    const nodes = [{ instanceId: 'i-0aaa', nodegroup: 'ng-general', ready: true }, { instanceId: 'i-0bbb', nodegroup: 'ng-general', ready: true }];
    expect(wantedTargets(snap, empty, nodes).map((t) => t.Id)).toEqual(['i-0aaa', 'i-0bbb']);
  });

  it('after a roll: skips replaced instances, registers the Ready nodes of the same node group on the same port', () => {
    const nodes = [
      { instanceId: 'i-0ccc', nodegroup: 'ng-general', ready: true },
      { instanceId: 'i-0ddd', nodegroup: 'ng-general', ready: false },
      { instanceId: 'i-0eee', nodegroup: 'ng-batch', ready: true },
    ];
    expect(wantedTargets(snap, empty, nodes)).toEqual([{ Id: 'i-0ccc', Port: 30080 }]);
  });

  it('leaves alone what is already registered', () => {
    const state = { ...empty, targets: [{ id: 'i-0aaa', port: 30080, availabilityZone: null, state: 'healthy', reason: null }] };
    expect(wantedTargets(snap, state, []).map((t) => t.Id)).toEqual(['i-0bbb']);
  });
});

describe('drift', () => {
  it('a rule that now answers 503 is a lost attachment even if the group still lists its load balancer', () => {
    const rules = new Map([['l-1', [{ RuleArn: 'r-4', Actions: [{ Type: 'fixed-response' as const }] }]]]);
    const lost = lostAttachments(snap, rules);
    expect(lost).toHaveLength(1);
    const d = diffTargetGroup(snap, { ...empty, loadBalancerArns: ['lb-1'], healthy: 2, targets: snap.targets }, { strict: false, minHealthyRatio: 1 }, lost);
    expect(d.drift).toEqual(['detached']);
  });

  it('strict mode (post-check) also wants the snapshot healthy count × ratio', () => {
    const one = { ...empty, loadBalancerArns: ['lb-1'], healthy: 1, targets: [snap.targets[0]!] };
    expect(diffTargetGroup(snap, one, { strict: false, minHealthyRatio: 1 }).drift).toEqual([]);
    expect(diffTargetGroup(snap, one, { strict: true, minHealthyRatio: 1 }).drift).toEqual(['fewer-healthy', 'fewer-targets']);
    expect(diffTargetGroup(snap, one, { strict: true, minHealthyRatio: 0.5 }).drift).toEqual([]);
  });
});
