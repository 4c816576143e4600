import { RunbookError } from '../errors.js';
import { flattenSteps } from './flatten.js';
import type { AnyStep, Runbook, StepOrGroup } from './types.js';

const ID = /^[a-z0-9][a-z0-9.-]*$/;

/**
 * Static checks run when a runbook loads, before anything touches the world.
 * Every problem is reported at once, each pointing to the file and the step.
 */
export function validateRunbook(value: unknown, file: string): Runbook {
  if (!isRunbook(value)) {
    throw new RunbookError('RUNBOOK_INVALID', `${file}: the default export is not a runbook.`, {
      hint: 'End the file with `export default defineRunbook({ id, title, description, params, steps })`.',
    });
  }
  const problems = findProblems(value);
  if (problems.length > 0) {
    throw new RunbookError(
      'RUNBOOK_INVALID',
      `${file}: ${problems.length} problem${problems.length > 1 ? 's' : ''} in runbook '${String(value.id)}':\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
      { hint: 'Fix the runbook file and run again; nothing was executed.', details: { problems } },
    );
  }
  return value;
}

function isRunbook(v: unknown): v is Runbook {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'runbook';
}

export function findProblems(rb: Runbook): string[] {
  const problems: string[] = [];
  if (typeof rb.id !== 'string' || !ID.test(rb.id)) problems.push(`runbook id ${JSON.stringify(rb.id)} must be lowercase letters, digits, '.' or '-'`);
  if (!rb.title) problems.push('runbook has no title');
  if (typeof rb.params?.safeParse !== 'function') problems.push('params must be a zod object schema (z.object({...}))');
  if (!Array.isArray(rb.steps) || rb.steps.length === 0) {
    problems.push('runbook has no steps');
    return problems;
  }
  problems.push(...checkShapes(rb.steps));
  if (problems.length > 0) return problems;

  const flat = flattenSteps(rb.steps);
  const seen = new Map<string, number>();
  const groupIds = collectGroupIds(rb.steps);
  flat.forEach(({ step }, index) => {
    const where = `step '${step.id}'`;
    if (!ID.test(step.id)) problems.push(`${where}: id must be lowercase letters, digits, '.' or '-' (checkpoints key on it)`);
    if (seen.has(step.id) || groupIds.has(step.id)) problems.push(`${where}: id is used twice (ids must be unique across the runbook)`);
    seen.set(step.id, index);
    if (typeof step.run !== 'function') problems.push(`${where}: has no run() function`);
    if (step.mutates && !step.approval) problems.push(`${where}: mutates but has no approval text (say what changes and where)`);
    if (step.irreversible && !step.mutates) problems.push(`${where}: irreversible but read-only (drop one of them)`);
    if (step.irreversible && step.rollback) problems.push(`${where}: irreversible steps cannot have a rollback`);
    if (step.retry && (!Number.isInteger(step.retry.attempts) || step.retry.attempts < 1)) problems.push(`${where}: retry.attempts must be an integer ≥ 1`);
    if (step.timeoutMs !== undefined && !(step.timeoutMs > 0)) problems.push(`${where}: timeoutMs must be > 0`);
    for (const used of step.uses ?? []) problems.push(...checkUse(where, used, index, seen, flat.map((f) => f.step)));
  });
  const known = new Set(flat.map((f) => f.step.id));
  for (const g of rb.guards ?? []) {
    if (g.kind !== 'guard') problems.push(`guard '${g.id}': not made with defineGuard`);
    if (Array.isArray(g.during)) for (const id of g.during as readonly string[]) if (!known.has(id)) problems.push(`guard '${g.id}': during names unknown step '${id}'`);
    if (!(g.intervalMs > 0)) problems.push(`guard '${g.id}': intervalMs must be > 0`);
    for (const used of g.uses ?? []) if (!known.has(used.id)) problems.push(`guard '${g.id}': uses step '${used.id}' that is not in this runbook`);
  }
  const fixIds = new Set<string>();
  for (const f of rb.knownFixes ?? []) {
    if (f.kind !== 'known-fix') problems.push(`known fix '${f.id}': not made with defineKnownFix`);
    if (fixIds.has(f.id)) problems.push(`known fix '${f.id}': id is used twice`);
    fixIds.add(f.id);
    if (f.apply && !f.apply.approval) problems.push(`known fix '${f.id}': apply has no approval text`);
    for (const used of f.uses ?? []) if (!known.has(used.id)) problems.push(`known fix '${f.id}': uses step '${used.id}' that is not in this runbook`);
  }
  return problems;
}

function checkShapes(items: readonly StepOrGroup[]): string[] {
  return items.flatMap((item, i) => {
    if (item?.kind === 'group') return Array.isArray(item.steps) && item.steps.length > 0 ? checkShapes(item.steps) : [`group '${item.id}': has no steps`];
    if (item?.kind === 'step') return [];
    return [`steps[${i}]: not a step or group (make it with defineStep/defineGroup)`];
  });
}

function collectGroupIds(items: readonly StepOrGroup[]): Set<string> {
  const ids = new Set<string>();
  const walk = (xs: readonly StepOrGroup[]): void => {
    for (const x of xs) if (x.kind === 'group') {
      ids.add(x.id);
      walk(x.steps);
    }
  };
  walk(items);
  return ids;
}

function checkUse(where: string, used: AnyStep, index: number, seen: Map<string, number>, all: AnyStep[]): string[] {
  const at = seen.get(used.id);
  if (at !== undefined && at < index) return [];
  if (at === index) return [`${where}: uses its own output`];
  if (all.some((s) => s.id === used.id)) return [`${where}: uses the output of '${used.id}', which runs later — move '${used.id}' before it`];
  return [`${where}: uses the output of '${used.id}', which is not a step of this runbook`];
}
