import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ModifyTargetGroupAttributesCommand, DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListClustersCommand } from '@aws-sdk/client-eks';
import { describe, expect, it } from 'vitest';
import { isRunbookError } from '../../src/errors.js';
import { parseScenario, startSandbox } from '../../src/sandbox/index.js';
import { clients } from './helpers.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'sandbox-test-'));
}

describe('scenario files', () => {
  it('a bad scenario file fails with an error naming the field', async () => {
    const dir = await tempDir();
    const file = join(dir, 'bad.yaml');
    await writeFile(file, ['name: broken', 'clusters:', '  - name: prod-eu', "    version: '1.19'", '    nodegroups:', '      - name: ng-a', '        nodes: three', ''].join('\n'));
    const err = await startSandbox({ scenario: file, dir }).catch((e: unknown) => e);
    expect(isRunbookError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'SANDBOX_ERROR' });
    expect((err as Error).message).toContain('clusters[0].nodegroups[0].nodes');
    expect((err as { hint: string }).hint).toContain('docs/sandbox.md');
  });

  it('names dangling references and unknown fields too', () => {
    const bad = () =>
      parseScenario({
        name: 'x',
        clusters: [{ name: 'c', version: '1.19', colour: 'blue', loadBalancers: [{ name: 'lb', listeners: [{ port: 80, protocol: 'HTTP', defaultAction: { targetGroup: 'missing' } }] }] }],
      });
    expect(bad).toThrow(/clusters\[0\]: Unrecognized key: "colour"/);
    expect(() => parseScenario({ name: 'x', clusters: [{ name: 'c', version: '1.19', loadBalancers: [{ name: 'lb', listeners: [{ port: 80, protocol: 'HTTP', defaultAction: { targetGroup: 'missing' } }] }] }] })).toThrow(
      /clusters\[0\]\.loadBalancers\[0\]\.listeners\[0\]\.defaultAction\.targetGroup: no target group named 'missing'/,
    );
    expect(() => parseScenario({ name: 'x', clusters: [{ name: 'c', version: '1.17' }] })).toThrow(/clusters\[0\]\.version/);
  });

  it('an unknown scenario name says which ones exist', async () => {
    await expect(startSandbox({ scenario: 'yesterday' })).rejects.toMatchObject({ code: 'SANDBOX_ERROR', hint: expect.stringContaining("'2021-06-30'") });
  });

  it('a user-written JSON scenario builds the world it describes', async () => {
    const dir = await tempDir();
    const file = join(dir, 'tiny.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'tiny',
        accountId: '444455556666',
        region: 'us-east-1',
        clusters: [
          {
            name: 'edge',
            version: '1.20',
            nodegroups: [{ name: 'ng', nodes: 2 }],
            loadBalancers: [{ name: 'alb', targetGroups: [{ name: 'tg-web', port: 30080, service: { namespace: 'web', name: 'web', port: 80 } }], listeners: [{ port: 80, protocol: 'HTTP', defaultAction: { targetGroup: 'tg-web' } }] }],
          },
        ],
      }),
    );
    const sb = await startSandbox({ scenario: file, dir });
    try {
      expect(sb).toMatchObject({ clusterName: 'edge', region: 'us-east-1', accountId: '444455556666' });
      const { eks, elb } = clients(sb);
      expect((await eks.send(new ListClustersCommand({}))).clusters).toEqual(['edge']);
      expect((await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups?.[0]?.LoadBalancerArns).toHaveLength(1);
    } finally {
      await sb.close();
    }
  });
});

describe('state file and control endpoint', () => {
  it('persists the world and the journal across restarts', async () => {
    const dir = await tempDir();
    const stateFile = join(dir, 'world.json');
    const first = await startSandbox({ scenario: '2021-06-30', stateFile, dir });
    const tg = (await clients(first).elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups![0]!.TargetGroupArn!;
    await clients(first).elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '600' }] }));
    await first.close();

    const second = await startSandbox({ scenario: 'default', stateFile, dir });
    try {
      expect(second.scenario).toBe('2021-06-30'); // the state file wins over the scenario
      expect(second.journal().map((j) => j.operation)).toEqual(['ModifyTargetGroupAttributes']);
      expect(second.world().elb.targetGroups[tg]?.attributes['deregistration_delay.timeout_seconds']).toBe('600');
    } finally {
      await second.close();
    }
  });

  it('is driven over HTTP: faults, journal, fault records, state', async () => {
    const sb = await startSandbox({ scenario: 'default' });
    try {
      const post = await fetch(`${sb.endpoint}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ detachAt: 'now' }) });
      expect(post.status).toBe(200);
      const records = (await (await fetch(`${sb.endpoint}/_sandbox/fault-records`)).json()) as { kind: string; at: string }[];
      expect(records.map((r) => r.kind)).toEqual(['target-groups-detached']);
      expect(Number.isNaN(Date.parse(records[0]!.at))).toBe(false);
      const bad = await fetch(`${sb.endpoint}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ errorRate: 2 }) });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toContain('errorRate');
      const state = (await (await fetch(`${sb.endpoint}/_sandbox/state`)).json()) as { scenario: string; speed: number };
      expect(state).toMatchObject({ scenario: 'default', speed: 600 });
      expect(await (await fetch(`${sb.endpoint}/_sandbox/journal`)).json()).toEqual([]);
    } finally {
      await sb.close();
    }
  });

  it('runs standalone from the CLI command and stops cleanly on SIGTERM', async () => {
    const dir = await tempDir();
    const script = join(process.cwd(), 'test/fixtures/sandbox/start-sandbox-cli.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script, 'sandbox', 'start', '--json', '--scenario', '2021-06-30', '--dir', dir], {
      cwd: process.cwd(),
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`sandbox exited early with ${String(code)}`)));
    });
    const info = JSON.parse(line) as { endpoint: string; env: Record<string, string>; cluster: string };
    expect(info.cluster).toBe('prod-eu');
    expect(info.env.KUBECONFIG).toBe(join(dir, 'kubeconfig'));
    const { eks } = clients({ endpoint: info.endpoint, region: 'eu-west-1' });
    expect((await eks.send(new ListClustersCommand({}))).clusters).toEqual(['prod-eu']);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 20_000);
});
