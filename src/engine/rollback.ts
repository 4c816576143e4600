import type { AnyStep, Runbook, StepContext } from '../dsl/types.js';
import { describeError } from '../errors.js';
import { isoUtc } from '../ports/clock.js';
import type { Run } from '../store/run-store.js';
import { buildItems } from './plan.js';
import type { EngineSettings } from './types.js';

export interface RollbackInput {
  run: Run;
  runbook: Runbook;
  settings: EngineSettings;
  makeContext: (step: AnyStep, signal: AbortSignal) => StepContext;
  signal: AbortSignal;
  reason: string;
  now: () => number;
}

export interface RollbackResult {
  complete: boolean;
  results: Map<string, 'rolled back' | 'rollback failed'>;
  stoppedBecause?: string;
  /** What must be done by hand when the chain stopped. */
  manual?: string;
}

/**
 * The saga's compensation: rollback hooks of completed steps, newest first.
 *
 * Policy (docs/ARCHITECTURE.md): the chain stops at the first irreversible step (nothing older
 * can be undone safely underneath it) and at the first failing hook (undoing older steps on top
 * of a half-undone newer one can make things worse). Either way the run ends as
 * rollback-incomplete and says what is left for a person. Steps without a hook have nothing to
 * undo (read-only steps) and are passed over.
 */
export async function rollbackCompleted(input: RollbackInput): Promise<RollbackResult> {
  const { run, runbook } = input;
  const byId = new Map(buildItems(runbook).map((i) => [i.id, i.step]));
  const done = Object.entries(run.checkpoint.steps)
    .filter(([, s]) => s.status === 'completed' && s.completedSeq !== undefined)
    .sort(([, a], [, b]) => (b.completedSeq ?? 0) - (a.completedSeq ?? 0));
  const results = new Map<string, 'rolled back' | 'rollback failed'>();
  // A completed step missing from the runbook (resume --force after an edit) might have changed
  // the world: it is not passed over silently, it stops the chain for a person.
  const toUndo = done.filter(([id]) => byId.get(id)?.mutates ?? true);
  run.update((cp) => {
    cp.rollback = { status: 'running', reason: input.reason };
  });
  run.record({
    type: 'rollback.started',
    message: `Rolling back ${toUndo.length} completed mutating step(s), newest first: ${toUndo.map(([id]) => id).join(', ') || 'none'}`,
    data: { steps: toUndo.map(([id]) => id), reason: input.reason },
  });
  for (const [id, state] of toUndo) {
    const step = byId.get(id);
    if (!step) {
      const left = toUndo.slice(toUndo.findIndex(([x]) => x === id)).map(([x]) => x);
      const manual = `Step '${id}' completed in this run but is no longer in the runbook file; undo it by hand if it changed anything.`;
      run.record({ type: 'rollback.blocked', stepId: id, message: `Rollback stops at '${id}': ${manual}`, data: { manual, notRolledBack: left } });
      return finish(run, results, false, `'${id}' is no longer in the runbook`, `${manual} Steps not rolled back: ${left.join(', ')}.`);
    }
    if (step.irreversible) {
      const manual = typeof step.irreversible === 'string' ? step.irreversible : `Undo '${id}' by hand.`;
      const left = toUndo.slice(toUndo.findIndex(([x]) => x === id)).map(([x]) => x);
      run.record({ type: 'rollback.blocked', stepId: id, message: `Rollback stops at irreversible step '${id}': ${manual}`, data: { manual, notRolledBack: left } });
      return finish(run, results, false, `'${id}' cannot be undone automatically`, `${manual} Steps not rolled back: ${left.join(', ')}.`);
    }
    if (!step.rollback) {
      run.record({ type: 'note', stepId: id, message: `Nothing to undo for '${id}' (it has no rollback hook)` });
      continue;
    }
    run.record({ type: 'rollback.step.started', stepId: id, message: `Rolling back: ${id}` });
    const started = input.now();
    try {
      await step.rollback(input.makeContext(step, input.signal), state.output);
    } catch (e) {
      run.update(() => {
        run.step(id).status = 'rollback-failed';
      });
      results.set(id, 'rollback failed');
      const left = toUndo.slice(toUndo.findIndex(([x]) => x === id)).map(([x]) => x);
      run.record({ type: 'rollback.step.failed', stepId: id, message: `Rollback of '${id}' failed: ${describeError(e)}`, data: { error: describeError(e), notRolledBack: left } });
      return finish(run, results, false, `the rollback of '${id}' failed: ${describeError(e)}`, `Undo by hand, newest first: ${left.join(', ')}.`);
    }
    run.update(() => {
      const s = run.step(id);
      s.status = 'rolled-back';
      s.endedAt = isoUtc(input.now());
    });
    results.set(id, 'rolled back');
    run.record({ type: 'rollback.step.completed', stepId: id, message: `Rolled back: ${id}`, data: { durationMs: input.now() - started } });
  }
  return finish(run, results, true);
}

function finish(run: Run, results: RollbackResult['results'], complete: boolean, stoppedBecause?: string, manual?: string): RollbackResult {
  run.update((cp) => {
    cp.rollback = { status: complete ? 'completed' : stoppedBecause?.includes('cannot be undone') ? 'blocked' : 'incomplete', reason: cp.rollback?.reason ?? '' };
  });
  run.record({
    type: 'rollback.completed',
    message: complete ? `Rollback complete: ${[...results.keys()].join(', ') || 'nothing needed undoing'}` : `Rollback stopped: ${stoppedBecause ?? ''}`,
    data: { complete, rolledBack: [...results].filter(([, r]) => r === 'rolled back').map(([id]) => id), ...(manual ? { manual } : {}) },
  });
  return { complete, results, ...(stoppedBecause ? { stoppedBecause } : {}), ...(manual ? { manual } : {}) };
}
