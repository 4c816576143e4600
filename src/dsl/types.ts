import type { z } from 'zod';
import type { AwsClients } from '../aws/types.js';
import type { Kube } from '../kube/types.js';
import type { Clock } from '../ports/clock.js';
import type { Shell } from '../ports/shell.js';

/** What a step may return: it is written to run.json and read back on resume. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json | undefined };

/** Params as the engine sees them before a runbook narrows them. */
export type AnyParams = Record<string, unknown>;

/** The schema a runbook declares its params with (zod). */
export type ParamsSchema = z.ZodObject;

export interface RetryPolicy {
  /** Total attempts including the first (default 1: no retry). */
  attempts: number;
  /** Delay before the second attempt, doubled each time (default 1000 ms). */
  delayMs?: number;
}

/** Result of a step's idempotency probe. */
export type Probe<O> =
  | { done: true; output: O; reason?: string }
  | { done: false; reason?: string };

/** A step as a value: ids are stable (checkpoints key on them), outputs are typed handles. */
export interface Step<Id extends string = string, O = unknown, P = AnyParams> {
  readonly kind: 'step';
  readonly id: Id;
  /** Operators' words: "Upgrade control plane of prod-eu to 1.20". */
  readonly title: string | ((ctx: StepContext<P>) => string);
  /** True when the step changes the world; such steps need approval and are only described in dry-run. */
  readonly mutates: boolean;
  /** Earlier steps whose outputs this one reads with ctx.output(). Validated on load. */
  readonly uses?: readonly AnyStep[];
  run(ctx: StepContext<P>): Promise<O> | O;
  /**
   * Is the world already as this step would leave it? Used on resume (for a step that was in
   * flight when the runner died) and before a retry. Return the output the step would have returned.
   */
  check?(ctx: StepContext<P>): Promise<Probe<O>> | Probe<O>;
  /** Undo this step, given its recorded output. Runs in reverse order of completion. */
  rollback?(ctx: StepContext<P>, output: O): Promise<void> | void;
  /** What the operator approves: what changes, and where. Required on mutating steps. */
  readonly approval?: string | ((ctx: StepContext<P>) => string);
  /** Whether "skip" is offered at the approval prompt. */
  readonly skippable?: boolean;
  /**
   * Cannot be undone: a rollback stops here. A string says what must be done by hand instead.
   */
  readonly irreversible?: boolean | string;
  readonly retry?: RetryPolicy;
  /** Milliseconds before the step is aborted and fails. */
  readonly timeoutMs?: number;
  /** What the step would do, for --dry-run and `runbook show`. */
  describe?(ctx: StepContext<P>): string | Promise<string>;
  /** Known fixes must be verified (or applied) before this step, even if it is read-only. */
  readonly requiresKnownFixes?: boolean;
  /**
   * What --dry-run does with this step. Read-only steps run by default; a post-check that only
   * makes sense after real mutations says 'describe'.
   */
  readonly dryRun?: 'run' | 'describe';
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStep = Step<string, any, any>;

export type OutputOf<S> = S extends Step<string, infer O, infer _P> ? Awaited<O> : never;

/** Steps shown and checkpointed together; rollback order still follows completion order. */
export interface Group<P = AnyParams> {
  readonly kind: 'group';
  readonly id: string;
  readonly title: string;
  readonly steps: readonly (AnyStep | Group<P>)[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyGroup = Group<any>;
export type StepOrGroup = AnyStep | AnyGroup;

/** Everything a step can touch. Side effects go through these, never through globals. */
export interface StepContext<P = AnyParams, U extends AnyStep = AnyStep> {
  readonly params: Readonly<P>;
  /** The recorded output of an earlier step (declared in `uses`). */
  output<S extends U>(step: S): OutputOf<S>;
  readonly aws: AwsClients;
  readonly kube: Kube;
  /** zx `$`: every command is recorded on the timeline before it runs. */
  readonly $: Shell;
  /** A timeline note attributed to this step. Secrets are redacted on write. */
  record(message: string, data?: Record<string, unknown>): void;
  /** Replace what the step's line says it is doing now ("Waiting for update 3f2… (InProgress, 2m10s)"). */
  status(text: string): void;
  /**
   * A value that survives a crash: computed once, checkpointed before it is returned, and
   * returned as-is on resume (e.g. an idempotency token that must be sent again, not re-made).
   */
  remember<T extends Json>(key: string, make: () => T | Promise<T>): Promise<T>;
  /** Drop a remembered value (e.g. a token whose request definitely failed, before making a new one). */
  forget(key: string): void;
  /** This run's directory; put artefacts (manifest backups, snapshots) under `artefactsDir`. */
  readonly runDir: string;
  readonly artefactsDir: string;
  readonly runId: string;
  readonly stepId: string;
  readonly attempt: number;
  /** Aborts on Ctrl-C, on the step's timeout, and when the run stops. Pass it to every call. */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly dryRun: boolean;
  /** Running against the embedded simulated world. */
  readonly sandbox: boolean;
  /** Multiply poll intervals by this (the sandbox runs fast; 1 in production). */
  readonly pollScale: number;
  /** Resolves at once, or when the open incident (see guards) is resolved. Call it in polling loops. */
  whilePaused(): Promise<void>;
}

export interface GuardFinding {
  /** "tg-web lost its attachment to alb-prod (0/3 healthy)" */
  summary: string;
  /** One line for the prompt's first line when `rows` carry the detail ("4 of 4 target groups out of service"). */
  headline?: string;
  /** One row per affected resource: shown as a table at the remediation prompt. */
  rows?: Record<string, string | number | boolean | null>[];
  data?: Record<string, unknown>;
}

export type GuardContext<P = AnyParams, U extends AnyStep = AnyStep> = Omit<
  StepContext<P, U>,
  'remember' | 'forget' | 'attempt' | 'status'
>;

/** A watcher that runs while named steps run. */
export interface Guard<P = AnyParams> {
  readonly kind: 'guard';
  readonly id: string;
  readonly title: string;
  /** 'mutating': while any mutating step runs; or explicit step ids. */
  readonly during: 'mutating' | readonly string[];
  /** Poll interval in ms before pollScale. */
  readonly intervalMs: number;
  readonly uses?: readonly AnyStep[];
  /** Look at the world; a finding opens an incident (and pauses the run) until a poll returns null. */
  poll(ctx: GuardContext<P>): Promise<GuardFinding | null>;
  /** Put the world back. Called per the run's remediation mode (auto / ask / off). */
  remediate?(ctx: GuardContext<P>, finding: GuardFinding): Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyGuard = Guard<any>;

export type FixCheck =
  | { ok: true; message: string; data?: Record<string, unknown> }
  | {
      ok: false;
      /** "3 target groups have no deregistration delay fix" */
      message: string;
      /** One row per offender; shown as a table and recorded. */
      findings: Record<string, string | number | boolean | null>[];
      data?: Record<string, unknown>;
    };

/** A fix learned from an earlier postmortem: verified before any mutation, optionally applied. */
export interface KnownFix<P = AnyParams, AO = unknown> {
  readonly kind: 'known-fix';
  readonly id: string;
  readonly title: string;
  /** Where the lesson comes from ("postmortem 2021-03-02: ALB 503 during node roll"). */
  readonly source?: string;
  readonly uses?: readonly AnyStep[];
  check(ctx: StepContext<P>): Promise<FixCheck> | FixCheck;
  /** Applies the fix as a step of its own: approved, checkpointed, rolled back like any other. */
  readonly apply?: {
    readonly title: string;
    readonly approval: string | ((ctx: StepContext<P>) => string);
    run(ctx: StepContext<P>, missing: FixCheck & { ok: false }): Promise<AO> | AO;
    rollback?(ctx: StepContext<P>, output: AO): Promise<void> | void;
    describe?(ctx: StepContext<P>, missing: FixCheck & { ok: false }): string | Promise<string>;
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyKnownFix = KnownFix<any, any>;

export interface Runbook<S extends ParamsSchema = ParamsSchema> {
  readonly kind: 'runbook';
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly params: S;
  readonly steps: readonly StepOrGroup[];
  readonly guards?: readonly AnyGuard[];
  readonly knownFixes?: readonly AnyKnownFix[];
  /**
   * Params that name what the run changes; one run at a time per target (the lock key).
   * Default: whichever of account, region, cluster the params have.
   */
  readonly target?: readonly string[];
}

export type ParamsOf<R> = R extends Runbook<infer S> ? z.infer<S> : never;
