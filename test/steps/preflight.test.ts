// Preflight against the sandbox's prod-eu: who we are, the cluster, node groups, insights, and
// which add-on versions the migration will install. All read-only: the journal stays empty.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_SCENARIOS } from '../../src/sandbox/index.js';
import { eksUpgradeSteps } from '../../src/steps/index.js';
import { sandboxRun, mutations } from './helpers.js';

const s = eksUpgradeSteps({ from: '1.19', to: '1.20' });

describe('preflight on the default world', () => {
  let w: Awaited<ReturnType<typeof sandboxRun>>;
  beforeAll(async () => {
    w = await sandboxRun({});
  });
  afterAll(async () => w?.close());

  it('records the caller and the account', async () => {
    const id = await w.run.run(s.identity);
    expect(id.account).toBe(w.sb.accountId);
    expect(w.run.notes.some((n) => n.message.includes(`in account ${w.sb.accountId}`))).toBe(true);
  });

  it('finds prod-eu ACTIVE on 1.19 with no update running', async () => {
    const c = await w.run.run(s.cluster);
    expect(c).toMatchObject({ name: 'prod-eu', version: '1.19', status: 'ACTIVE', alreadyAtTarget: false });
  });

  it('sees both node groups healthy', async () => {
    const out = await w.run.run(s.nodegroupsHealthy);
    expect(out.nodegroups.map((n) => n.name).sort()).toEqual(['ng-batch', 'ng-general']);
  });

  it('lets a WARNING insight pass and records it', async () => {
    const out = await w.run.run(s.insights);
    expect(out.insights.some((i) => i.status === 'WARNING')).toBe(true);
    expect(w.run.notes.some((n) => n.message.startsWith('Upgrade insight WARNING'))).toBe(true);
  });

  it('chooses the default add-on versions for 1.20', async () => {
    const out = await w.run.run(s.addonVersions);
    expect(out.addons).toEqual({
      'vpc-cni': { target: 'v1.7.5-eksbuild.1', managedNow: null },
      coredns: { target: 'v1.8.3-eksbuild.1', managedNow: null },
      'kube-proxy': { target: expect.stringMatching(/^v1\.20\./) as unknown, managedNow: null },
    });
  });

  it('changed nothing', () => {
    expect(mutations(w.sb)).toEqual([]);
  });
});

describe('preflight refusals', () => {
  it('refuses another account than --expect-account, saying which one it got', async () => {
    const w = await sandboxRun({ params: { expectAccount: '999999999999' } });
    try {
      await expect(w.run.run(s.identity)).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringMatching(/111122223333, not the expected 999999999999/) as unknown });
    } finally {
      await w.close();
    }
  });

  it('stops on an ERROR insight unless the operator acknowledged it', async () => {
    const spec = BUILTIN_SCENARIOS['default']!();
    spec.clusters[0]!.insights = [
      { name: 'Kubelet version skew', kubernetesVersion: '1.20', status: 'ERROR', reason: 'Nodes more than 2 minors behind', description: '', recommendation: '' },
    ];
    const w = await sandboxRun({ scenario: spec });
    try {
      const err = await w.run.run(s.insights).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PRECONDITION_FAILED' });
      expect((err as Error).message).toMatch(/\n\s+\S*\s*Kubelet version skew\s+1\.20\s+ERROR\b/);
      const ack = await sandboxRun({ scenario: spec, params: { acknowledgeInsights: ['Kubelet version skew'] } });
      try {
        const out = await ack.run.run(s.insights);
        expect(out.acknowledged).toHaveLength(1);
      } finally {
        await ack.close();
      }
    } finally {
      await w.close();
    }
  });

  it('names a missing cluster and what to check', async () => {
    const w = await sandboxRun({ params: { cluster: 'nope' } });
    try {
      await expect(w.run.run(s.cluster)).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', hint: expect.stringMatching(/--cluster/) as unknown });
    } finally {
      await w.close();
    }
  });
});
