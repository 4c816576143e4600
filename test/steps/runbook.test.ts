// runbooks/eks-1.20.ts as the CLI loads it: valid, in the documented order, params with defaults.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRunbook } from '../../src/dsl/load.js';
import { parseParams } from '../../src/dsl/params.js';
import { flattenIds } from './runbook-helpers.js';

const file = join(import.meta.dirname, '../../runbooks/eks-1.20.ts');

describe('runbooks/eks-1.20.ts', () => {
  it('loads and validates: preflight → snapshot → control plane → add-ons → node groups → post-checks', async () => {
    const { runbook } = await loadRunbook(file);
    expect(runbook.id).toBe('eks-1.20');
    expect(flattenIds(runbook.steps)).toEqual([
      'preflight-identity',
      'preflight-cluster',
      'preflight-nodegroups',
      'preflight-insights',
      'preflight-addon-versions',
      'snapshot-target-groups',
      'upgrade-control-plane',
      'addon-vpc-cni',
      'addon-coredns',
      'addon-kube-proxy',
      'upgrade-nodegroups',
      'post-checks',
    ]);
    expect(runbook.knownFixes?.map((f) => f.id)).toEqual(['deregistration-delay']);
    expect(runbook.guards?.[0]?.during).toEqual(['upgrade-control-plane', 'addon-vpc-cni', 'addon-coredns', 'addon-kube-proxy', 'upgrade-nodegroups']);
  });

  it('params: cluster and region required, the fix value defaults to 600, lists come comma-separated', async () => {
    const { runbook } = await loadRunbook(file);
    const p = parseParams(runbook.params, { cluster: 'prod-eu', region: 'eu-west-1', targetGroupArns: 'arn:a,arn:b' }, 'eks-1.20');
    expect(p).toMatchObject({ requiredDeregistrationDelay: 600, minHealthyRatio: 1, targetGroupArns: ['arn:a', 'arn:b'] });
    expect(() => parseParams(runbook.params, { cluster: 'prod-eu', region: 'mars' }, 'eks-1.20')).toThrow(/param 'region'.*eu-west-1/s);
  });
});
