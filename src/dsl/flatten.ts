import type { AnyStep, StepOrGroup } from './types.js';

export interface FlatStep {
  step: AnyStep;
  /** Titles of the groups this step sits in, outermost first. */
  groups: string[];
  groupIds: string[];
}

/** Steps in execution order, groups dissolved (they are headings, not units of work). */
export function flattenSteps(items: readonly StepOrGroup[], groups: string[] = [], groupIds: string[] = []): FlatStep[] {
  return items.flatMap((item) =>
    item.kind === 'group'
      ? flattenSteps(item.steps, [...groups, item.title], [...groupIds, item.id])
      : [{ step: item, groups, groupIds }],
  );
}
