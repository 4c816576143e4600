import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, tempDir } from '../helpers/engine.js';
import { runCli, startCli, timelineOf, waitFor } from '../helpers/cli.js';

const RUNBOOKS = join(FIXTURES, 'runbooks');
const runIds = (stateDir: string): string[] => (existsSync(join(stateDir, 'runs')) ? readdirSync(join(stateDir, 'runs')) : []);

function env() {
  const stateDir = tempDir('cli-state-');
  const world = join(tempDir('cli-world-'), 'w');
  const base = ['--state-dir', stateDir, '--runbooks', RUNBOOKS];
  return { stateDir, world, base };
}

describe('the runbook CLI', () => {
  it('prints its version and help with the exit codes', async () => {
    const v = await runCli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const h = await runCli(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('Exit codes:');
    expect(h.stdout).toMatch(/run \[options\] <runbook>/);
  });

  it('runs a runbook end to end with --yes and prints a summary worth pasting', async () => {
    const { stateDir, world, base } = env();
    const r = await runCli([...base, 'run', 'file-world', '--world', world, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Run \S+-file-world-\w+: completed/);
    expect(r.stdout).toMatch(/control-plane\s+mutates\s+executed/);
    const [id] = runIds(stateDir);
    expect(r.stdout).toContain(`runbook timeline ${id}`);
    const md = await runCli([...base, 'timeline', id!]);
    expect(md.code).toBe(0);
    expect(md.stdout).toContain('| Time | Event |');
    const runs = await runCli([...base, 'runs', '--json']);
    expect(JSON.parse(runs.stdout)).toEqual([expect.objectContaining({ id, runbook: 'file-world', status: 'completed' })]);
  });

  it('with stdin closed and no --yes, fails before the first mutation with exit 2 (never a silent exit 0)', async () => {
    const { stateDir, world, base } = env();
    const r = await runCli([...base, 'run', 'file-world', '--world', world]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[NEEDS_APPROVAL]');
    expect(r.stderr).toContain('--yes');
    expect(existsSync(world)).toBe(false);
    expect(runIds(stateDir)).toEqual([]);
  });

  it('names the bad param, what was expected and an example (exit 2)', async () => {
    const { world, base } = env();
    const r = await runCli([...base, 'run', 'file-world', '--world', world, '--to-versoin', '1', '--to-version', 'one.two', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown param 'to-versoin'");
    expect(r.stderr).toContain("param 'toVersion' (got \"one.two\"): a Kubernetes minor version like 1.20. Example: --to-version 1.20");
  });

  it('reports a malformed runbook file and an unknown runbook with exit 2', async () => {
    const { base } = env();
    const bad = await runCli([...base, 'run', join(FIXTURES, 'bad-runbooks', 'later-ref.ts'), '--yes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('[RUNBOOK_INVALID]');
    expect(bad.stderr).toContain("which runs later — move 'later' before it");
    const missing = await runCli([...base, 'run', 'no-such-runbook']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/Known runbooks: .*file-world/);
  });

  it('a second run against the same target fails with the holder and exit 5', async () => {
    const { stateDir, world, base } = env();
    const first = startCli([...base, 'run', 'file-world', '--world', world, '--yes', '--slow-step-ms', '4000']);
    await waitFor(() => runIds(stateDir).length === 1 && timelineOf(stateDir, runIds(stateDir)[0]!).some((e) => e.type === 'step.started' && e.stepId === 'control-plane'), 'first run to start its slow step');
    const second = await runCli([...base, 'run', 'file-world', '--world', world, '--yes']);
    expect(second.code).toBe(5);
    expect(second.stderr).toMatch(/Another run holds file-world\/local-1\/demo: run \S+ by tester@ci \(pid \d+ on /);
    expect(second.stderr).toContain('runbook unlock file-world/local-1/demo');
    first.child.kill('SIGKILL');
    await first.done;
  });

  it('resumes after the runner is SIGKILLed mid-step: nothing completed repeats, nothing recorded is lost, the in-flight step is re-probed', async () => {
    const { stateDir, world, base } = env();
    const first = startCli([...base, 'run', 'file-world', '--world', world, '--yes', '--slow-step-ms', '1500']);
    // Killed after the step checkpointed its idempotency token and sent its first request.
    await waitFor(() => existsSync(join(world, 'started')), 'the control-plane step to send its request');
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    const id = runIds(stateDir)[0]!;
    const before = timelineOf(stateDir, id);
    const cp = JSON.parse(readFileSync(join(stateDir, 'runs', id, 'run.json'), 'utf8'));
    expect(cp.steps['control-plane'].status).toBe('running');

    const resumed = await runCli([...base, 'resume', id, '--yes']);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    const after = timelineOf(stateDir, id);
    // Every event from before the crash is still there, in order, and seq stays gapless.
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.map((e) => e.seq)).toEqual(after.map((_, i) => i + 1));
    const started = (stepId: string) => after.filter((e) => e.type === 'step.started' && e.stepId === stepId).length;
    expect(started('inspect')).toBe(1);
    expect(started('backup')).toBe(1);
    expect(after.some((e) => e.type === 'run.resumed')).toBe(true);
    expect(after.find((e) => e.type === 'step.probed' && e.stepId === 'control-plane')?.message).toMatch(/Not done yet, will run/);
    // The idempotency token was checkpointed before use: the resumed attempt re-used it.
    const tokens = readFileSync(join(world, 'started'), 'utf8').match(/tok-\d+/g);
    expect(tokens).toHaveLength(2);
    expect(tokens![0]).toBe(tokens![1]);
    expect(readFileSync(join(world, 'version'), 'utf8')).toBe('1.20');
  });

  it('on Ctrl-C aborts the in-flight step, checkpoints, says how to resume (exit 130)', async () => {
    const { stateDir, world, base } = env();
    const run = startCli([...base, 'run', 'file-world', '--world', world, '--yes', '--slow-step-ms', '20000']);
    await waitFor(() => runIds(stateDir).length === 1 && timelineOf(stateDir, runIds(stateDir)[0]!).some((e) => e.type === 'step.started' && e.stepId === 'control-plane'), 'the slow step');
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    const id = runIds(stateDir)[0]!;
    expect(r.stdout).toContain(`runbook resume ${id}`);
    const cp = JSON.parse(readFileSync(join(stateDir, 'runs', id, 'run.json'), 'utf8'));
    expect(cp.status).toBe('interrupted');
    expect(timelineOf(stateDir, id).at(-1)?.type).toBe('run.interrupted');
    // The lock is released: a resume could start at once.
    const locks = await runCli([...base, 'unlock', '--json']);
    expect(JSON.parse(locks.stdout)).toEqual([]);
  });

  it('refuses to resume under a changed runbook unless --force, saying what changed', async () => {
    const { stateDir, world, base } = env();
    await runCli([...base, 'run', 'file-world', '--world', world, '--yes', '--fail-at', 'addon-coredns']);
    const id = runIds(stateDir)[0]!;
    const cpPath = join(stateDir, 'runs', id, 'run.json');
    const cp = JSON.parse(readFileSync(cpPath, 'utf8')) as { runbook: { sourceHash: string; steps: { id: string }[] } };
    cp.runbook.sourceHash = 'something-else';
    cp.runbook.steps = cp.runbook.steps.filter((s) => s.id !== 'verify');
    writeFileSync(cpPath, JSON.stringify(cp));
    const r = await runCli([...base, 'resume', id, '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[RUNBOOK_CHANGED]');
    expect(r.stderr).toContain('step added: verify');
    expect(r.stderr).toContain('--force');
  });
});

describe('runbooks kept outside this package', () => {
  it('load from --runbooks with this installation\'s upgrade-runbook and zod', async () => {
    const dir = tempDir('user-runbooks-');
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(
      join(dir, 'hello.ts'),
      `import { z } from 'zod';
import { defineRunbook, defineStep } from 'upgrade-runbook';
const hello = defineStep({ id: 'hello', title: 'Say hello', mutates: false, run: (ctx) => ({ hi: String(ctx.params.cluster) }) });
export default defineRunbook({ id: 'hello', title: 'Hello from elsewhere', description: 'x', params: z.object({ cluster: z.string() }), steps: [hello] });
`,
    );
    const state = tempDir('user-state-');
    const r = await runCli(['--runbooks', dir, '--state-dir', state, 'run', 'hello', '--cluster', 'c1'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/hello\s+read-only\s+executed/);
  });
});

describe('runbook sandbox start', () => {
  it('takes fault-injection flags and serves them on its control endpoint', async () => {
    const sb = startCli(['sandbox', 'start', '--json', '--error-rate', '0.1', '--latency-ms', '5', '--fail-next-update', 'addon:coredns', '--detach-on', 'CreateAddon:vpc-cni']);
    try {
      await waitFor(() => sb.output().includes('"endpoint"'), 'the sandbox to print its endpoint');
      const { endpoint } = JSON.parse(sb.output().split('\n')[0] ?? '{}') as { endpoint: string };
      expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const faults = (await (await fetch(`${endpoint}/_sandbox/faults`)).json()) as Record<string, unknown>;
      expect(faults).toMatchObject({ errorRate: 0.1, latencyMs: 5, failNextUpdate: ['addon:coredns'], detachTargetGroupsOn: ['CreateAddon:vpc-cni'] });
    } finally {
      sb.child.kill('SIGTERM');
      await sb.done;
    }
    const bad = await runCli(['sandbox', 'start', '--error-rate', '2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--error-rate 2 is not between 0 and 1');
  });
});
