import type { ErrorCode } from '../errors.js';

/**
 * The documented exit codes (README "Exit codes"). The CLI is the only place that maps errors
 * to them; scripts and CI branch on these numbers.
 */
export const EXIT = {
  ok: 0,
  stepFailed: 1,
  badInput: 2,
  rolledBack: 3,
  aborted: 4,
  lockBusy: 5,
  precondition: 6,
  rollbackIncomplete: 7,
  environment: 8,
  internal: 70,
  interrupted: 130,
} as const;

export const EXIT_BY_CODE: Record<ErrorCode, number> = {
  USAGE: EXIT.badInput,
  BAD_PARAMS: EXIT.badInput,
  RUNBOOK_NOT_FOUND: EXIT.badInput,
  RUNBOOK_INVALID: EXIT.badInput,
  RUN_NOT_FOUND: EXIT.badInput,
  CHECKPOINT_CORRUPT: EXIT.badInput,
  RUNBOOK_CHANGED: EXIT.badInput,
  NEEDS_APPROVAL: EXIT.badInput,
  IN_FLIGHT_UNKNOWN: EXIT.precondition,
  LOCK_BUSY: EXIT.lockBusy,
  KNOWN_FIX_MISSING: EXIT.precondition,
  PRECONDITION_FAILED: EXIT.precondition,
  STEP_FAILED: EXIT.stepFailed,
  TIMEOUT: EXIT.stepFailed,
  ROLLED_BACK: EXIT.rolledBack,
  ROLLBACK_INCOMPLETE: EXIT.rollbackIncomplete,
  ABORTED: EXIT.aborted,
  INTERRUPTED: EXIT.interrupted,
  AWS_CREDENTIALS: EXIT.environment,
  AWS_ERROR: EXIT.environment,
  KUBECTL_ERROR: EXIT.environment,
  SANDBOX_ERROR: EXIT.environment,
  INTERNAL: EXIT.internal,
};

export const EXIT_DOCS: [number, string][] = [
  [EXIT.ok, 'success (or nothing to do)'],
  [EXIT.stepFailed, 'a step failed; the run stopped and kept its checkpoint (`runbook resume <run-id>`)'],
  [EXIT.badInput, 'bad input: usage, params, runbook file, run id, corrupt checkpoint, changed runbook, approval impossible without a TTY'],
  [EXIT.rolledBack, 'a step failed and the completed steps were rolled back'],
  [EXIT.aborted, 'the operator refused an approval (abort at an approval prompt; abort after a failure is 1)'],
  [EXIT.lockBusy, 'another run holds the target lock'],
  [EXIT.precondition, 'stopped before changing anything: a known fix is missing, a preflight check failed, or an in-flight step needs a person'],
  [EXIT.rollbackIncomplete, 'rollback stopped (irreversible step or failing hook): finish by hand as the message says'],
  [EXIT.environment, 'environment: AWS credentials/region, AWS API, kubectl or sandbox problem'],
  [EXIT.internal, 'internal error (a bug: please report it with the timeline)'],
  [EXIT.interrupted, 'interrupted (Ctrl-C / SIGTERM); the checkpoint is safe (`runbook resume <run-id>`)'],
];
