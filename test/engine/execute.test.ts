import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scriptedPrompter } from '../../src/ports/prompter.js';
import { harness, runFixture } from '../helpers/engine.js';

const lines = (p: string): string[] => (existsSync(p) ? readFileSync(p, 'utf8').trim().split('\n') : []);

describe('running a runbook', () => {
  it('runs every step in order, checkpoints each, and tells the story on the timeline', async () => {
    const h = harness();
    const { run, outcome } = await runFixture(h, {});
    expect(outcome.status).toBe('completed');
    expect(readFileSync(join(h.world, 'version'), 'utf8')).toBe('1.20');
    expect(lines(join(h.world, 'order'))).toEqual(['vpc-cni', 'coredns']);
    const types = run.events().map((e) => `${e.type}${e.stepId ? `:${e.stepId}` : ''}`);
    expect(types[0]).toBe('run.started');
    expect(types).toContain('approval.granted:control-plane');
    expect(types.indexOf('step.completed:backup')).toBeLessThan(types.indexOf('step.started:control-plane'));
    expect(types[types.length - 1]).toBe('run.completed');
    const seqs = run.events().map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(run.checkpoint.steps['addon-coredns']?.status).toBe('completed');
  });

  it('rolls back completed steps newest first across nested groups, stopping at nothing reversible', async () => {
    const h = harness();
    const { run, outcome } = await runFixture(h, { failAt: 'verify' }, { onFailure: 'rollback' });
    // control-plane is irreversible: the chain undoes coredns, vpc-cni, then stops there.
    expect(outcome.status).toBe('rollback-incomplete');
    expect(outcome.error?.code).toBe('ROLLBACK_INCOMPLETE');
    expect(outcome.error?.hint).toMatch(/cannot be downgraded/);
    expect(lines(join(h.world, 'rollback-order'))).toEqual(['coredns', 'vpc-cni']);
    expect(existsSync(join(h.world, 'backup'))).toBe(true); // older than the irreversible step: left alone
    const types = run.events().map((e) => `${e.type}${e.stepId ? `:${e.stepId}` : ''}`);
    expect(types).toContain('rollback.blocked:control-plane');
    expect(types.indexOf('rollback.step.completed:addon-coredns')).toBeLessThan(types.indexOf('rollback.step.completed:addon-vpc-cni'));
  });

  it('rolls back everything when no irreversible step is in the way', async () => {
    const h = harness();
    const { outcome, run } = await runFixture(h, { failAt: 'control-plane' }, { onFailure: 'rollback' });
    expect(outcome.status).toBe('rolled-back');
    expect(outcome.error?.code).toBe('ROLLED_BACK');
    expect(existsSync(join(h.world, 'backup'))).toBe(false);
    expect(run.checkpoint.steps.backup?.status).toBe('rolled-back');
  });

  it('keeps the checkpoint on abort, so the run can resume', async () => {
    const h = harness();
    const { outcome, run } = await runFixture(h, { failAt: 'addon-coredns' });
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.code).toBe('STEP_FAILED');
    expect(outcome.error?.hint).toContain(`runbook resume ${run.id}`);
    expect(run.checkpoint.steps['addon-coredns']?.status).toBe('failed');
    expect(run.checkpoint.steps['addon-vpc-cni']?.status).toBe('completed');
  });

  it('dry-run executes read-only steps, describes mutating ones, and changes nothing', async () => {
    const h = harness();
    const { outcome, run } = await runFixture(h, {}, { dryRun: true, yes: false });
    expect(outcome.status).toBe('completed');
    expect(existsSync(join(h.world, 'version'))).toBe(false);
    expect(existsSync(join(h.world, 'backup'))).toBe(false);
    const byId = Object.fromEntries(outcome.rows.map((r) => [r.id, r.result]));
    expect(byId).toEqual({ inspect: 'executed', backup: 'described', 'control-plane': 'described', 'addon-vpc-cni': 'described', 'addon-coredns': 'described', verify: 'described' });
    const described = run.events().find((e) => e.type === 'step.described' && e.stepId === 'control-plane');
    expect(described?.message).toBe('Would: would write version 1.20 (was 1.19)');
  });

  it('asks before each mutating step and honours skip and abort', async () => {
    const h = harness();
    const asked: string[] = [];
    const { outcome, run } = await runFixture(h, {}, { yes: false, interactive: true }, scriptedPrompter(['approve', 'approve', 'abort'], asked));
    expect(asked[0]).toBe('Write a backup of the add-on manifests next to the world');
    expect(asked[1]).toBe('Upgrade the control plane of demo (local-1) to 1.20');
    expect(outcome.status).toBe('aborted');
    expect(outcome.error?.code).toBe('ABORTED');
    expect(existsSync(join(h.world, 'addon-vpc-cni'))).toBe(false);
    expect(run.events().some((e) => e.type === 'approval.refused' && e.stepId === 'addon-vpc-cni')).toBe(true);
  });

  it('retries, rolls back or aborts as the operator chooses after a failure', async () => {
    const h = harness();
    const asked: string[] = [];
    const { outcome } = await runFixture(h, { failAt: 'addon-coredns' }, { yes: true, interactive: true, onFailure: 'ask' }, scriptedPrompter(['retry', 'rollback'], asked));
    expect(asked.filter((a) => a.includes('failed'))).toHaveLength(2);
    expect(outcome.status).toBe('rollback-incomplete'); // stops at the irreversible control plane
    expect(lines(join(h.world, 'rollback-order'))).toEqual(['vpc-cni']);
  });

  it('refuses before the first mutation when nobody can approve (no TTY, no --yes)', async () => {
    const h = harness();
    await expect(runFixture(h, {}, { yes: false, interactive: false })).rejects.toMatchObject({ code: 'NEEDS_APPROVAL' });
    expect(existsSync(h.world)).toBe(false);
    expect(h.store.list()).toEqual([]);
  });
});
