import { flattenSteps } from '../dsl/flatten.js';
import type { AnyKnownFix, AnyStep, FixCheck, Runbook } from '../dsl/types.js';
import type { Checkpoint } from '../store/checkpoint.js';

export type ItemKind = 'step' | 'fix-check' | 'fix-apply';

/** One unit of work in execution order; known fixes become a check item and an apply item. */
export interface PlanItem {
  id: string;
  kind: ItemKind;
  step: AnyStep;
  groups: string[];
  fix?: AnyKnownFix;
}

export type Action =
  /** never started: run it */
  | 'run'
  /** finished in an earlier process: do not repeat */
  | 'done'
  /** was in flight (or failed) when the last process stopped: ask check() before repeating */
  | 'reprobe';

export interface PlannedItem extends PlanItem {
  action: Action;
}

export function fixCheckId(fix: AnyKnownFix): string {
  return `fix.${fix.id}`;
}

export function fixApplyId(fix: AnyKnownFix): string {
  return `fix.${fix.id}.apply`;
}

/** The runbook as a flat list of items, known fixes placed before the first step that needs them. */
export function buildItems(runbook: Runbook): PlanItem[] {
  const flat = flattenSteps(runbook.steps);
  const items: PlanItem[] = flat.map(({ step, groups }) => ({ id: step.id, kind: 'step', step, groups }));
  const fixes = runbook.knownFixes ?? [];
  if (fixes.length === 0) return items;
  const at = items.findIndex((i) => i.step.mutates || i.step.requiresKnownFixes);
  const fixItems = fixes.flatMap((fix) => fixToItems(fix));
  items.splice(at === -1 ? items.length : at, 0, ...fixItems);
  return items;
}

function fixToItems(fix: AnyKnownFix): PlanItem[] {
  const groups = ['Fixes from earlier postmortems'];
  const checkStep: AnyStep = {
    kind: 'step',
    id: fixCheckId(fix),
    title: `Verify fix: ${fix.title}`,
    mutates: false,
    run: (ctx): Promise<FixCheck> | FixCheck => fix.check(ctx),
  };
  const items: PlanItem[] = [{ id: checkStep.id, kind: 'fix-check', step: checkStep, groups, fix }];
  const apply = fix.apply;
  if (apply) {
    const missing = (ctx: { output: (s: AnyStep) => unknown }): FixCheck & { ok: false } =>
      ctx.output(checkStep) as FixCheck & { ok: false };
    const applyStep: AnyStep = {
      kind: 'step',
      id: fixApplyId(fix),
      title: apply.title,
      mutates: true,
      uses: [checkStep],
      approval: apply.approval,
      run: (ctx): unknown => apply.run(ctx, missing(ctx)),
      ...(apply.rollback ? { rollback: (ctx, output) => apply.rollback?.(ctx, output) } : {}),
      describe: async (ctx) => (apply.describe ? apply.describe(ctx, missing(ctx)) : apply.title),
    };
    items.push({ id: applyStep.id, kind: 'fix-apply', step: applyStep, groups, fix });
  }
  return items;
}

/**
 * Pure: what remains to do, given the items and the saved state. Completed, skipped and
 * described steps are done; a step that was running or failed is re-probed before it repeats.
 */
export function plan(items: readonly PlanItem[], checkpoint: Pick<Checkpoint, 'steps'>): PlannedItem[] {
  return items.map((item) => {
    const state = checkpoint.steps[item.id];
    // A known fix is checked again on every resume (the world may have changed since), and a
    // skipped apply is decided again: a missing fix must never slip through a resume.
    if (item.kind === 'fix-check' && state?.status !== 'running') return { ...item, action: 'run' };
    if (item.kind === 'fix-apply' && (state?.status === 'skipped' || state?.status === 'described')) return { ...item, action: 'run' };
    switch (state?.status) {
      case undefined:
      case 'pending':
        return { ...item, action: 'run' };
      case 'completed':
      case 'skipped':
      case 'described':
      case 'rolled-back':
      case 'rollback-failed':
        return { ...item, action: 'done' };
      case 'running':
      case 'failed':
        return { ...item, action: 'reprobe' };
    }
  });
}
