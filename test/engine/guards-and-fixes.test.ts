import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scriptedPrompter } from '../../src/ports/prompter.js';
import { FIXTURES, harness, resumeFixture, runFixture } from '../helpers/engine.js';

const GUARDED = join(FIXTURES, 'runbooks', 'guarded.ts');
const withDelay = (world: string, v: string): void => {
  mkdirSync(world, { recursive: true });
  writeFileSync(join(world, 'delay'), v);
};

describe('guards', () => {
  it('detect a detachment mid-step, remediate, and resolve before the next step starts', async () => {
    const h = harness();
    withDelay(h.world, '300');
    const { outcome, run } = await runFixture(h, { breakWorld: true }, {}, undefined, GUARDED);
    expect(outcome.status).toBe('completed');
    expect(readFileSync(join(h.world, 'attached'), 'utf8')).toBe('restored');
    const evs = run.events();
    const at = (type: string, stepId?: string): number => evs.findIndex((e) => e.type === type && (stepId === undefined || e.stepId === stepId));
    expect(at('guard.started')).toBeGreaterThan(-1);
    expect(at('incident.detected')).toBeGreaterThan(at('step.started', 'roll-nodes'));
    expect(at('incident.remediating')).toBeGreaterThan(at('incident.detected'));
    expect(at('incident.resolved')).toBeGreaterThan(at('incident.remediating'));
    expect(at('step.started', 'after')).toBeGreaterThan(at('incident.resolved'));
    const detected = evs[at('incident.detected')];
    const resolved = evs[at('incident.resolved')];
    expect(detected?.data?.incidentId).toBe(resolved?.data?.incidentId);
    expect(detected?.message).toContain('the world lost its attachment');
  });

  it('with remediation off, record the incident and keep the run paused until a person fixes it', async () => {
    const h = harness();
    withDelay(h.world, '300');
    // A person repairs the world 200 ms after the step broke it (never before: that would race).
    writeFileSync(join(h.world, 'attached'), 'yes');
    let missingFor = 0;
    const fixByHand = setInterval(() => {
      missingFor = existsSync(join(h.world, 'attached')) ? 0 : missingFor + 1;
      if (missingFor >= 10) writeFileSync(join(h.world, 'attached'), 'by hand');
    }, 20);
    const { outcome, run } = await runFixture(h, { breakWorld: true }, { remediate: 'off' }, undefined, GUARDED);
    clearInterval(fixByHand);
    expect(outcome.status).toBe('completed');
    const types = run.events().map((e) => e.type);
    expect(types).toContain('incident.detected');
    expect(types).not.toContain('incident.remediating');
    expect(types).toContain('incident.resolved');
    expect(readFileSync(join(h.world, 'attached'), 'utf8')).toBe('by hand');
    expect(types.indexOf('step.started')).toBeLessThan(types.indexOf('incident.resolved'));
    expect(types.lastIndexOf('step.started')).toBeGreaterThan(types.indexOf('incident.resolved'));
  });
});

describe('remediation on a terminal (--remediate ask)', () => {
  it('asks before restoring, records the answer, and resolves', async () => {
    const h = harness();
    withDelay(h.world, '300');
    const asked: string[] = [];
    const { outcome, run } = await runFixture(h, { breakWorld: true }, { remediate: 'ask', interactive: true }, scriptedPrompter(['auto'], asked), GUARDED);
    expect(outcome.status).toBe('completed');
    expect(asked).toEqual([expect.stringContaining('the world lost its attachment')]);
    expect(asked[0]).toContain('Restore it now (The world stays attached)?');
    const types = run.events().map((e) => e.type);
    expect(types.indexOf('approval.granted', types.indexOf('incident.detected'))).toBeLessThan(types.indexOf('incident.remediating'));
    expect(types).toContain('incident.resolved');
  });
});

describe('known fixes', () => {
  it('stop the run before any mutation when a fix is missing, listing the offenders', async () => {
    const h = harness();
    withDelay(h.world, '0');
    const { outcome, run } = await runFixture(h, {}, {}, undefined, GUARDED);
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.code).toBe('KNOWN_FIX_MISSING');
    expect(outcome.error?.message).toContain('tg-web');
    expect(outcome.error?.hint).toContain('--apply-known-fixes');
    expect(existsSync(join(h.world, 'rolled'))).toBe(false);
    expect(readFileSync(join(h.world, 'delay'), 'utf8')).toBe('0');
    expect(run.events().map((e) => e.type)).toContain('fix.missing');
  });

  it('--yes alone never applies an unplanned fix; --apply-known-fixes does, and rollback restores the old value', async () => {
    const h = harness();
    withDelay(h.world, '0');
    const { outcome, run } = await runFixture(h, { failAfter: true }, { applyKnownFixes: true, onFailure: 'rollback' }, undefined, GUARDED);
    expect(outcome.status).toBe('rolled-back');
    const types = run.events().map((e) => `${e.type}${e.stepId ? `:${e.stepId}` : ''}`);
    expect(types).toContain('approval.granted:fix.delay.apply');
    expect(types).toContain('rollback.step.completed:fix.delay.apply');
    expect(readFileSync(join(h.world, 'delay'), 'utf8')).toBe('0');
    expect(existsSync(join(h.world, 'rolled'))).toBe(false);
  });

  it('a deliberate override is recorded with its reason and the run goes on', async () => {
    const h = harness();
    withDelay(h.world, '0');
    const { outcome, run } = await runFixture(h, {}, { skipKnownFixes: { delay: 'rehearsing the incident' } }, undefined, GUARDED);
    expect(outcome.status).toBe('completed');
    const o = run.events().find((e) => e.type === 'fix.overridden');
    expect(o?.message).toContain('rehearsing the incident');
    expect(o?.actor).toBe('tester@test');
  });

  it('a fix already in place is verified and its apply step skipped', async () => {
    const h = harness();
    withDelay(h.world, '300');
    const { outcome, run } = await runFixture(h, {}, {}, undefined, GUARDED);
    expect(outcome.status).toBe('completed');
    expect(run.events().map((e) => e.type)).toContain('fix.verified');
    expect(run.checkpoint.steps['fix.delay.apply']?.status).toBe('skipped');
  });
});

describe('resuming', () => {
  it('checks a missing known fix again: a resume never slips past it', async () => {
    const h = harness();
    withDelay(h.world, '0');
    const first = await runFixture(h, {}, {}, undefined, GUARDED);
    expect(first.outcome.error?.code).toBe('KNOWN_FIX_MISSING');
    const again = await resumeFixture(h, first.run.id, {}, { file: GUARDED });
    expect(again.outcome.error?.code).toBe('KNOWN_FIX_MISSING');
    expect(existsSync(join(h.world, 'rolled'))).toBe(false);
    // Fixed by hand in between: the resume sees it and goes on.
    writeFileSync(join(h.world, 'delay'), '300');
    const fixed = await resumeFixture(h, first.run.id, {}, { file: GUARDED });
    expect(fixed.outcome.status).toBe('completed');
    expect(fixed.run.events().filter((e) => e.type === 'fix.verified')).toHaveLength(1);
  });

  it('after a crash mid-rollback, finishes the rollback instead of running forward', async () => {
    const h = harness();
    withDelay(h.world, '0');
    const first = await runFixture(h, { failAfter: true }, { applyKnownFixes: true }, undefined, GUARDED);
    expect(first.outcome.status).toBe('failed');
    // The process died right after it started rolling back.
    const run = h.store.open(first.run.id);
    run.update((cp) => {
      cp.status = 'running';
      cp.rollback = { status: 'running', reason: 'post-check failed' };
    });
    run.close();
    const resumed = await resumeFixture(h, first.run.id, {}, { file: GUARDED });
    expect(resumed.outcome.status).toBe('rolled-back');
    expect(existsSync(join(h.world, 'rolled'))).toBe(false);
    expect(readFileSync(join(h.world, 'delay'), 'utf8')).toBe('0');
    const starts = (evs: { type: string }[]) => evs.filter((e) => e.type === 'step.started').length;
    expect(starts(resumed.run.events())).toBe(starts(first.run.events())); // nothing ran forward again
    expect(resumed.run.events().map((e) => e.type)).toContain('rollback.completed');
  });
});
