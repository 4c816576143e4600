import type { StepOrGroup } from '../../src/dsl/types.js';

/** Step ids in run order, groups flattened. */
export function flattenIds(items: readonly StepOrGroup[]): string[] {
  return items.flatMap((i) => (i.kind === 'group' ? flattenIds(i.steps) : [i.id]));
}
