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
/** Context helpers for steps of your own (see docs/authoring.md). */
export { eksIo, elbIo, scaled, waitOptions } from './steps/context.js';
/** EKS and ELBv2 helpers with pagination, polling and the API budget done right. */
export * as eks from './aws/eks.js';
export * as elbv2 from './aws/elbv2.js';
export { toRunbookError as awsError, isAwsError, isNotFound, isThrottling } from './aws/errors.js';
