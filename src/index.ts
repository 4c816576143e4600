/**
 * The public API for runbook authors. A runbook file imports from here (as `upgrade-runbook`)
 * and default-exports `defineRunbook({...})`.
 *
 * @example
 * import { z } from 'zod';
 * import { defineRunbook, defineStep } from 'upgrade-runbook';
 *
 * const hello = defineStep({ id: 'hello', title: 'Say hello', mutates: false, run: (ctx) => ({ cluster: ctx.params.cluster }) });
 * export default defineRunbook({
 *   id: 'hello', title: 'Hello', description: 'Says hello to a cluster',
 *   params: z.object({ cluster: z.string() }),
 *   steps: [hello],
 * });
 */
export { defineGroup, defineGuard, defineKnownFix, defineRunbook, defineStep, stepsFor } from './dsl/define.js';
export type { StepDef } from './dsl/define.js';
export type {
  AnyParams,
  AnyStep,
  FixCheck,
  Group,
  Guard,
  GuardContext,
  GuardFinding,
  Json,
  KnownFix,
  OutputOf,
  ParamsOf,
  Probe,
  RetryPolicy,
  Runbook,
  Step,
  StepContext,
} from './dsl/types.js';
export { RunbookError } from './errors.js';
export type { ErrorCode } from './errors.js';

/** The step library: preflight, known fixes, target-group snapshot and guard, control plane, add-ons, node groups, post-checks. */
export * from './steps/index.js';
