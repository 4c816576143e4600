/**
 * One error type for everything the operator can act on. `code` is stable (tests and
 * `--json` output key on it); `hint` says what to do next. The CLI is the one place that maps
 * codes to exit codes (src/cli/exit-codes.ts).
 */
export type ErrorCode =
  | 'USAGE'
  | 'BAD_PARAMS'
  | 'RUNBOOK_NOT_FOUND'
  | 'RUNBOOK_INVALID'
  | 'RUN_NOT_FOUND'
  | 'CHECKPOINT_CORRUPT'
  | 'RUNBOOK_CHANGED'
  | 'NEEDS_APPROVAL'
  | 'IN_FLIGHT_UNKNOWN'
  | 'LOCK_BUSY'
  | 'KNOWN_FIX_MISSING'
  | 'PRECONDITION_FAILED'
  | 'STEP_FAILED'
  | 'ROLLED_BACK'
  | 'ROLLBACK_INCOMPLETE'
  | 'ABORTED'
  | 'INTERRUPTED'
  | 'AWS_CREDENTIALS'
  | 'AWS_ERROR'
  | 'KUBECTL_ERROR'
  | 'TIMEOUT'
  | 'SANDBOX_ERROR'
  | 'INTERNAL';

export class RunbookError extends Error {
  override readonly name = 'RunbookError';
  readonly code: ErrorCode;
  /** What the operator should do next, in one or two sentences. */
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { hint?: string; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.hint = opts.hint;
    this.details = opts.details;
  }
}

export function isRunbookError(e: unknown): e is RunbookError {
  return e instanceof Error && (e as { name?: string }).name === 'RunbookError' && 'code' in e;
}

/** A short, single-line description of any thrown value, for timelines and titles. */
export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const name = (e as { name?: string }).name;
    const prefix = name && name !== 'Error' && name !== 'RunbookError' ? `${name}: ` : '';
    return `${prefix}${e.message}`.split('\n')[0] ?? String(e);
  }
  return String(e);
}

export function isAbortError(e: unknown): boolean {
  return (
    e instanceof Error &&
    ((e as { name?: string }).name === 'AbortError' || (isRunbookError(e) && e.code === 'INTERRUPTED'))
  );
}
