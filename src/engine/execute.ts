import type { AnyStep, FixCheck, Runbook, StepContext } from '../dsl/types.js';
import { describeError, isAbortError, isRunbookError, RunbookError } from '../errors.js';
import { isoUtc } from '../ports/clock.js';
import type { Choice, Prompter } from '../ports/prompter.js';
import type { RunStatus, StepState } from '../store/checkpoint.js';
import type { Run } from '../store/run-store.js';
import { buildStepContext } from './context.js';
import { GuardSupervisor } from './guards.js';
import type { PlannedItem } from './plan.js';
import { buildItems } from './plan.js';
import { recordTable } from '../format.js';
import type { StepUi, UiTask } from './render.js';
import { runWithListr } from './render.js';
import { rollbackCompleted } from './rollback.js';
import type { EngineDeps, EngineSettings } from './types.js';

/** Outputs up to this size (JSON chars) ride in their step.completed event. */
const MAX_OUTPUT_IN_EVENT = 16 * 1024;

export type StepResult =
  | 'executed'
  | 'described'
  | 'skipped'
  | 'done before'
  | 'failed'
  | 'refused'
  | 'interrupted'
  | 'rolled back'
  | 'rollback failed'
  | 'not rolled back'
  | 'not reached';

export interface SummaryRow {
  id: string;
  title: string;
  mutates: boolean;
  result: StepResult;
  durationMs?: number;
  note?: string;
}

export interface RunOutcome {
  status: RunStatus;
  /** Why the run did not complete (undefined when it did). */
  error?: RunbookError;
  rows: SummaryRow[];
}

/** Thrown out of a step task to stop the listr run with a decision already made. */
class Stop extends Error {
  constructor(
    readonly kind: 'rollback' | 'abort' | 'interrupted' | 'refused' | 'fix-missing' | 'in-flight',
    readonly error: RunbookError,
  ) {
    super(error.message);
  }
}

/**
 * Runs planned items in order: approvals, retries, checkpoints, guards, dry-run descriptions,
 * known fixes; then the rollback saga if the operator (or --on-failure) asks for it.
 * Every transition goes to the run store first; the screen only hears about it after.
 */
export class Executor {
  private readonly abort = new AbortController();
  private readonly guards: GuardSupervisor;
  private readonly results = new Map<string, Pick<SummaryRow, 'result' | 'durationMs' | 'note'>>();
  private readonly titles = new Map<string, string>();
  private currentUi: StepUi | undefined;
  private currentItemId: string | undefined;
  private promptChain: Promise<unknown> = Promise.resolve();
  private interrupted = false;

  constructor(
    private readonly run: Run,
    private readonly runbook: Runbook,
    private readonly params: Record<string, unknown>,
    private readonly settings: EngineSettings,
    private readonly deps: EngineDeps,
  ) {
    this.guards = new GuardSupervisor(
      runbook.guards ?? [],
      run,
      deps,
      settings,
      params,
      this.abort.signal,
      () => {
        const p = this.deps.prompter ?? (settings.interactive ? this.currentUi?.prompter : undefined);
        return p ? this.queued(p) : undefined;
      },
      (text) => this.currentUi?.status(text),
      (reason) => this.interrupt(reason),
    );
  }

  /** Ctrl-C: abort the in-flight call; the step stays "running" in the checkpoint for a resume to re-probe. */
  interrupt(reason = 'interrupted by the operator (SIGINT)'): void {
    if (this.interrupted) return;
    this.interrupted = true;
    this.abort.abort(new RunbookError('INTERRUPTED', reason));
  }


  async execute(planned: readonly PlannedItem[]): Promise<RunOutcome> {
    const tasks: UiTask[] = planned.map((item, index) => ({
      title: this.titleOf(item),
      ...(item.groups[0] ? { heading: item.groups[0] } : {}),
      run: (ui) => this.runItem(item, planned[index + 1] ?? null, ui),
    }));
    let stop: Stop | null = null;
    try {
      await runWithListr(tasks, this.settings.renderer);
    } catch (e) {
      if (!(e instanceof Stop) && isAbortError(e)) this.interrupt('interrupted by the operator at a prompt');
      stop = e instanceof Stop ? e : this.interrupted ? new Stop('interrupted', interruptedError()) : new Stop('abort', toRunbookError(e));
    }
    // Guards keep watching through a rollback (undoing an add-on switch can detach targets too).
    if (stop?.kind !== 'rollback') await this.guards.stopExcept(null, { force: true });
    const outcome = await this.finish(stop);
    await this.guards.stopExcept(null, { force: true });
    return { ...outcome, rows: this.rows(planned) };
  }

  /** Resume of a run that died while rolling back: finish the rollback, never go forward. */
  async continueRollback(planned: readonly PlannedItem[], reason: string): Promise<RunOutcome> {
    const error = new RunbookError('STEP_FAILED', `Continuing the rollback that was interrupted (${reason}).`);
    const outcome = await this.finish(new Stop('rollback', error));
    await this.guards.stopExcept(null, { force: true });
    return { ...outcome, rows: this.rows(planned) };
  }

  private async finish(stop: Stop | null): Promise<Omit<RunOutcome, 'rows'>> {
    if (!stop) {
      this.setRunStatus('completed');
      return { status: 'completed' };
    }
    switch (stop.kind) {
      case 'interrupted':
        if (this.currentItemId && !this.results.has(this.currentItemId)) {
          this.results.set(this.currentItemId, { result: 'interrupted', note: 'in flight when stopped; a resume re-checks it first' });
        }
        this.setRunStatus('interrupted');
        return { status: 'interrupted', error: stop.error };
      case 'rollback': {
        // No listr task is live during the rollback: no screen line, no prompt (ask acts as auto).
        this.currentUi = undefined;
        this.guards.rollingBack = true;
        if (!this.settings.dryRun) this.guards.startMutatingGuards('rollback');
        const rb = await rollbackCompleted({
          run: this.run,
          runbook: this.runbook,
          settings: this.settings,
          makeContext: (step, signal) => this.context(step, 1, signal, () => undefined),
          signal: this.abort.signal,
          reason: stop.error.message,
          now: () => this.deps.clock.now(),
        });
        for (const [id, r] of rb.results) this.results.set(id, { result: r });
        for (const [id, r] of this.results) {
          if ((r.result === 'executed' || r.result === 'done before') && this.run.checkpoint.steps[id]?.status === 'completed' && this.isMutating(id)) {
            this.results.set(id, { ...r, result: 'not rolled back' });
          }
        }
        const status: RunStatus = rb.complete ? 'rolled-back' : 'rollback-incomplete';
        this.setRunStatus(status);
        const error = rb.complete
          ? new RunbookError('ROLLED_BACK', `${stop.error.message}\nCompleted steps were rolled back.`, { ...(stop.error.hint ? { hint: stop.error.hint } : {}), cause: stop.error })
          : new RunbookError('ROLLBACK_INCOMPLETE', `${stop.error.message}\nRollback stopped: ${rb.stoppedBecause ?? 'see the timeline'}`, {
              hint: rb.manual ?? 'Finish the rollback by hand; the timeline lists what was undone and what was not.',
              cause: stop.error,
            });
        return { status, error };
      }
      case 'refused':
        this.setRunStatus('aborted');
        return { status: 'aborted', error: stop.error };
      default:
        this.setRunStatus(stop.kind === 'abort' && stop.error.code === 'ABORTED' ? 'aborted' : 'failed');
        return { status: this.run.checkpoint.status, error: stop.error };
    }
  }

  private setRunStatus(status: RunStatus): void {
    this.run.update((cp) => {
      cp.status = status;
    });
  }

  // ——— one item ———

  private async runItem(item: PlannedItem, next: PlannedItem | null, ui: StepUi): Promise<void> {
    this.currentUi = ui;
    this.currentItemId = item.id;
    const prompter = this.queued(this.deps.prompter ?? ui.prompter);
    const state = this.run.step(item.id);
    const fixUndone = item.kind === 'fix-apply' && (this.run.step(`fix.${item.fix?.id ?? ''}`).output as FixCheck | undefined)?.ok === false;
    if (item.action === 'done' && !fixUndone) {
      this.results.set(item.id, { result: 'done before', note: `${state.status} in an earlier attempt` });
      ui.title(`${this.titleOf(item)} (${state.status} earlier)`);
      await this.guards.stopExcept(next);
      return;
    }
    await this.waitForClear(ui);

    if (item.kind === 'fix-apply' && !(await this.fixApplyWanted(item, ui, prompter))) return;

    if (this.settings.dryRun && (item.step.mutates || item.step.dryRun === 'describe')) {
      if (item.action === 'reprobe' && (await this.reprobe(item, state, ui, true))) return;
      await this.describe(item);
      return;
    }
    // Guards watch from here: through a resume's re-probe (it may wait on an update in flight)
    // and the approval prompt, not only once the step runs.
    if (!this.settings.dryRun) this.guards.startFor(item);
    let ok = false;
    try {
      if (item.action === 'reprobe' && (await this.reprobe(item, state, ui, true))) {
        ok = true;
        return;
      }
      if (item.step.mutates && item.kind !== 'fix-apply' && !(await this.approve(item, prompter, ui))) {
        ok = true;
        return;
      }
      // An incident may have opened while the approval prompt was up.
      await this.waitForClear(ui);
      await this.attempts(item, ui, prompter);
      ok = true;
    } catch (e) {
      // Ctrl-C at a prompt: stop now, not after the incident or the next queued question.
      if (isAbortError(e)) this.interrupt('interrupted by the operator at a prompt');
      throw e;
    } finally {
      // On success: keep guards running into the next step if it is covered too, and wait out
      // an open incident. On failure the run is ending: execute() stops the guards (forced).
      if (ok) {
        await this.waitForClear(ui);
        await this.guards.stopExcept(next);
      }
    }
    if (item.kind === 'fix-check') this.afterFixCheck(item, next, ui);
  }

  /** A new step (or attempt) does not start while an incident is open; say so on its line. */
  private async waitForClear(ui: StepUi): Promise<void> {
    if (this.guards.paused) ui.status('Paused: an incident is open (see above); waiting until the guard sees the target groups healthy…');
    await this.guards.whenClear();
    this.throwIfInterrupted();
  }

  /** One prompt at a time: a guard's question waits for the approval on screen, and vice versa. */
  private queued(p: Prompter): Prompter {
    return {
      select: <T extends string>(message: string, choices: readonly Choice<T>[], signal?: AbortSignal): Promise<T> => {
        const turn = this.promptChain.then(async () => {
          if (this.interrupted) throw new RunbookError('INTERRUPTED', 'Interrupted before this question was asked.');
          try {
            return await p.select(message, choices, signal);
          } catch (e) {
            if (isAbortError(e)) this.interrupt('interrupted by the operator at a prompt');
            throw e;
          }
        });
        this.promptChain = turn.catch(() => undefined);
        return turn;
      },
    };
  }

  private async attempts(item: PlannedItem, ui: StepUi, prompter: Prompter): Promise<void> {
    const maxAttempts = item.step.retry?.attempts ?? 1;
    for (let tries = 1; ; tries++) {
      // A retry does not start while an incident is open either.
      if (tries > 1) await this.waitForClear(ui);
      const state = this.run.step(item.id);
      const attempt = state.attempts + 1;
      const started = this.deps.clock.now();
      // Not checkpointed here: the fsynced step.started event below is what tells a resume
      // that this step was in flight (see reconcileWithTimeline). One fsync less per step.
      state.status = 'running';
      state.attempts = attempt;
      state.startedAt = isoUtc(started);
      delete state.error;
      if (attempt > 1) ui.title(`${this.titleOf(item)} (attempt ${attempt})`);
      this.run.record({
        type: 'step.started',
        stepId: item.id,
        message: `Started: ${this.titleOf(item)}${attempt > 1 ? ` (attempt ${attempt})` : ''}`,
        data: { title: this.titleOf(item), mutates: item.step.mutates, attempt, groups: item.groups },
      });
      try {
        const output = await this.invoke(item, attempt, ui);
        this.complete(item, output, started);
        return;
      } catch (e) {
        this.throwIfInterrupted(e);
        const err = toRunbookError(e);
        const durationMs = this.deps.clock.now() - started;
        if (tries < maxAttempts) {
          this.run.record({
            type: 'step.retrying',
            stepId: item.id,
            message: `Retrying ${this.titleOf(item)} after: ${describeError(e)}`,
            data: { attempt, error: describeError(e), durationMs },
          });
          await this.deps.clock.sleep((item.step.retry?.delayMs ?? 1000) * 2 ** (tries - 1) * this.settings.pollScale, this.abort.signal).catch(() => undefined);
          this.throwIfInterrupted();
          if (await this.reprobe(item, state, ui, false)) return;
          continue;
        }
        this.run.update(
          () => {
            state.status = 'failed';
            state.endedAt = isoUtc(this.deps.clock.now());
            state.error = describeError(e);
          },
          { deferrable: true },
        );
        this.run.record({
          type: 'step.failed',
          stepId: item.id,
          message: `Failed: ${this.titleOf(item)}: ${describeError(e)}`,
          data: { title: this.titleOf(item), mutates: item.step.mutates, attempt, durationMs, error: describeError(e), ...(err.hint ? { hint: err.hint } : {}) },
        });
        this.results.set(item.id, { result: 'failed', durationMs, note: describeError(e) });
        const decision = await this.onFailure(item, err, prompter);
        if (decision === 'retry') continue;
        const stepErr = new RunbookError('STEP_FAILED', `Step '${item.id}' (${this.titleOf(item)}) failed: ${err.message}`, {
          hint: err.hint ?? (decision === 'abort' ? `Fix the cause, then \`runbook resume ${this.run.id}\`.` : undefined),
          cause: e,
          details: { stepId: item.id, code: err.code },
        });
        throw new Stop(decision, stepErr);
      }
    }
  }

  /** Runs the step with its timeout; the output must survive JSON (it goes to run.json). */
  private async invoke(item: PlannedItem, attempt: number, ui: StepUi): Promise<unknown> {
    const timeout = item.step.timeoutMs;
    const signals = [this.abort.signal, ...(timeout ? [AbortSignal.timeout(timeout)] : [])];
    const signal = signals.length > 1 ? AbortSignal.any(signals) : this.abort.signal;
    const ctx = this.context(item.step, attempt, signal, (text) => ui.status(text));
    const work: Promise<unknown> = Promise.resolve(item.step.run(ctx));
    const output: unknown = timeout ? await raceTimeout(work, signal, timeout, item.id) : await work;
    return output === undefined ? null : (JSON.parse(JSON.stringify(output)) as unknown);
  }

  private complete(item: PlannedItem, output: unknown, started: number, via?: string): void {
    const state = this.run.step(item.id);
    const durationMs = this.deps.clock.now() - started;
    // The event is the write-ahead record of the completion: with a small output in it, the
    // checkpoint write may be grouped with later ones (replayTimeline recovers it).
    const small = JSON.stringify(output ?? null).length <= MAX_OUTPUT_IN_EVENT;
    this.run.record({
      type: 'step.completed',
      stepId: item.id,
      message: `Completed: ${this.titleOf(item)}${via ? ` (${via})` : ''}`,
      data: { title: this.titleOf(item), mutates: item.step.mutates, attempt: state.attempts, durationMs, ...(via ? { via } : {}), ...(small ? { output } : {}) },
    });
    this.run.update(
      (cp) => {
        cp.completedCounter += 1;
        state.status = 'completed';
        state.output = output;
        state.endedAt = isoUtc(this.deps.clock.now());
        state.completedSeq = cp.completedCounter;
      },
      { deferrable: small },
    );
    this.results.set(item.id, { result: via ? 'done before' : 'executed', durationMs, ...(via ? { note: via } : {}) });
  }

  /** A step that was in flight or failed before: is it already done? Returns true if so. */
  private async reprobe(item: PlannedItem, state: StepState, ui: StepUi, onResume: boolean): Promise<boolean> {
    const step = item.step;
    if (!step.check) {
      const wasInFlight = onResume && state.status === 'running' && step.mutates && state.attempts > 0 && !this.settings.dryRun;
      if (wasInFlight && !this.settings.rerunInFlight) return this.inFlightWithoutProbe(item);
      return false;
    }
    const started = this.deps.clock.now();
    ui.status('Checking whether this already happened…');
    const probe = await step.check(this.context(step, state.attempts, this.abort.signal, (t) => ui.status(t)));
    this.run.record({
      type: 'step.probed',
      stepId: item.id,
      message: probe.done
        ? `Already done: ${this.titleOf(item)}${probe.reason ? ` (${probe.reason})` : ''}`
        : `Not done yet, will run: ${this.titleOf(item)}${probe.reason ? ` (${probe.reason})` : ''}`,
      data: { done: probe.done, ...(probe.reason ? { reason: probe.reason } : {}) },
    });
    if (!probe.done) return false;
    this.complete(item, JSON.parse(JSON.stringify(probe.output ?? null)) as unknown, started, 'found done by its check');
    return true;
  }

  private inFlightWithoutProbe(item: PlannedItem): never {
    throw new Stop(
      'in-flight',
      new RunbookError(
        'IN_FLIGHT_UNKNOWN',
        `Step '${item.id}' (${this.titleOf(item)}) was running when the last process stopped, and it has no check() to tell whether it finished.`,
        { hint: `Look at the target by hand. If the step did finish, or running it again is safe, resume with \`runbook resume ${this.run.id} --rerun-in-flight\`.` },
      ),
    );
  }

  private async describe(item: PlannedItem): Promise<void> {
    const ctx = this.context(item.step, 1, this.abort.signal, () => undefined);
    let text: string;
    try {
      text = item.step.describe ? await item.step.describe(ctx) : approvalText(item.step, ctx) ?? this.titleOf(item);
    } catch (e) {
      text = `${this.titleOf(item)} (cannot say more without earlier steps' results: ${describeError(e)})`;
    }
    this.run.update(
      () => {
        this.run.step(item.id).status = 'described';
      },
      { deferrable: true },
    );
    this.run.record({
      type: 'step.described',
      stepId: item.id,
      message: /^Would\b/.test(text) ? text : `Would: ${text}`,
      data: { title: this.titleOf(item), mutates: item.step.mutates, description: text },
    });
    this.results.set(item.id, { result: 'described', note: text });
  }

  /** Approve / skip / abort before a mutating step. */
  private async approve(item: PlannedItem, prompter: Prompter, ui: StepUi): Promise<boolean> {
    const ctx = this.context(item.step, 1, this.abort.signal, () => undefined);
    const text = approvalText(item.step, ctx) ?? this.titleOf(item);
    if (this.settings.yes) {
      // Pre-approved: one event carries both what was approved and how.
      this.run.record({ type: 'approval.granted', stepId: item.id, message: `Approved (--yes): ${text}`, data: { via: '--yes', approval: text } });
      return true;
    }
    this.run.record({ type: 'approval.requested', stepId: item.id, message: `Approval requested: ${text}`, data: { approval: text } });
    if (!this.settings.interactive && !this.deps.prompter) {
      this.results.set(item.id, { result: 'refused', note: 'nobody to approve it (no TTY, no --yes)' });
      throw new Stop('refused', needsApproval(item.id));
    }
    const choices = [
      { value: 'approve' as const, name: 'Approve and run it' },
      ...(item.step.skippable ? [{ value: 'skip' as const, name: 'Skip this step' }] : []),
      { value: 'abort' as const, name: 'Abort the run (the checkpoint is kept; resume later)' },
    ];
    const answer = await prompter.select(text, choices, this.abort.signal);
    if (answer === 'approve') {
      this.run.record({ type: 'approval.granted', stepId: item.id, message: `Approved: ${this.titleOf(item)}`, data: { via: 'prompt' } });
      return true;
    }
    if (answer === 'skip') {
      this.skip(item, 'skipped by the operator at the approval prompt', ui, 'approval.skipped');
      return false;
    }
    this.run.record({ type: 'approval.refused', stepId: item.id, message: `Refused: ${this.titleOf(item)}; the run stops here`, data: {} });
    this.results.set(item.id, { result: 'refused', note: 'refused at the approval prompt' });
    throw new Stop('refused', new RunbookError('ABORTED', `Aborted at the approval of '${item.id}' (${this.titleOf(item)}).`, { hint: `Resume later with \`runbook resume ${this.run.id}\`.` }));
  }

  private skip(item: PlannedItem, reason: string, ui: StepUi, type: 'step.skipped' | 'approval.skipped' = 'step.skipped'): void {
    ui.skip(reason);
    this.run.update(
      () => {
        const s = this.run.step(item.id);
        s.status = 'skipped';
        s.endedAt = isoUtc(this.deps.clock.now());
      },
      { deferrable: true },
    );
    this.run.record({ type, stepId: item.id, message: `Skipped: ${this.titleOf(item)} — ${reason}`, data: { reason, title: this.titleOf(item) } });
    if (type !== 'step.skipped') this.run.record({ type: 'step.skipped', stepId: item.id, message: `Skipped: ${this.titleOf(item)}`, data: { reason } });
    this.results.set(item.id, { result: 'skipped', note: reason });
  }

  private async onFailure(item: PlannedItem, err: RunbookError, prompter: Prompter): Promise<'retry' | 'rollback' | 'abort'> {
    const interactive = this.settings.interactive || this.deps.prompter !== undefined;
    if (!interactive || this.settings.onFailure !== 'ask') return this.settings.onFailure === 'rollback' ? 'rollback' : 'abort';
    const answer = await prompter.select(`'${this.titleOf(item)}' failed: ${err.message.split('\n')[0] ?? ''}. What now?`, [
      { value: 'retry', name: 'Retry the step' },
      { value: 'rollback', name: `Roll back the completed steps (in reverse order)${this.rollbackStopsAt()}` },
      { value: 'abort', name: 'Abort and keep the checkpoint (resume later)' },
    ], this.abort.signal);
    this.run.record({ type: 'note', stepId: item.id, message: `Operator chose to ${answer} after the failure of ${this.titleOf(item)}`, data: { decision: answer } });
    return answer;
  }

  // ——— known fixes ———

  private afterFixCheck(item: PlannedItem, next: PlannedItem | null, ui: StepUi): void {
    const fix = item.fix;
    const result = this.run.step(item.id).output as FixCheck | undefined;
    if (!fix || !result) return;
    if (result.ok) {
      this.run.record({ type: 'fix.verified', stepId: item.id, message: `Fix in place: ${fix.title} — ${result.message}`, data: { fixId: fix.id } });
      return;
    }
    ui.title(`${this.titleOf(item)} — MISSING: ${result.message}`);
    this.run.record({
      type: 'fix.missing',
      stepId: item.id,
      message: `Fix missing: ${fix.title} — ${result.message}`,
      data: { fixId: fix.id, findings: result.findings, ...(fix.source ? { source: fix.source } : {}) },
    });
    const hasApply = next?.kind === 'fix-apply' && next.fix?.id === fix.id;
    if (hasApply || this.settings.dryRun) return;
    if (this.override(fix.id, item.id, fix.title)) return;
    throw new Stop('fix-missing', fixMissingError(fix.id, fix.title, result, false));
  }

  /** Decide whether the apply item of a known fix runs; records why not. */
  private async fixApplyWanted(item: PlannedItem, ui: StepUi, prompter: Prompter): Promise<boolean> {
    const fix = item.fix;
    if (!fix) return true;
    const check = this.run.step(`fix.${fix.id}`).output as FixCheck | undefined;
    if (check?.ok) {
      this.skip(item, 'not needed: the fix is already in place', ui);
      return false;
    }
    if (this.override(fix.id, item.id, fix.title)) {
      this.skip(item, 'deliberately overridden by the operator', ui);
      return false;
    }
    if (this.settings.dryRun) return true; // described below
    const missing = check as FixCheck & { ok: false };
    const ctx = this.context(item.step, 1, this.abort.signal, () => undefined);
    const text = approvalText(item.step, ctx) ?? fix.title;
    this.run.record({ type: 'approval.requested', stepId: item.id, message: `Approval requested: ${text}`, data: { approval: text, fixId: fix.id } });
    if (this.settings.applyKnownFixes) {
      this.run.record({ type: 'approval.granted', stepId: item.id, message: `Approved (--apply-known-fixes): ${fix.title}`, data: { via: '--apply-known-fixes' } });
      return true;
    }
    if (this.settings.interactive || this.deps.prompter) {
      ui.status(`${missing.findings.length} finding(s): ${missing.message}`);
      const answer = await prompter.select(`${missing.message}\n${recordTable(missing.findings)}\n${text}`, [
        { value: 'apply', name: 'Apply the fix now (it becomes a step of this run, rolled back with it)' },
        { value: 'override', name: 'Continue without it (recorded as a deliberate override)' },
        { value: 'abort', name: 'Stop here (nothing has changed)' },
      ], this.abort.signal);
      if (answer === 'apply') {
        this.run.record({ type: 'approval.granted', stepId: item.id, message: `Approved: ${fix.title}`, data: { via: 'prompt' } });
        return true;
      }
      if (answer === 'override') {
        this.recordOverride(fix.id, item.id, fix.title, 'chosen at the prompt');
        this.skip(item, 'deliberately overridden by the operator', ui);
        return false;
      }
      this.run.record({ type: 'approval.refused', stepId: item.id, message: `Refused: ${fix.title}`, data: {} });
    }
    throw new Stop('fix-missing', fixMissingError(fix.id, fix.title, missing, true));
  }

  private override(fixId: string, stepId: string, title: string): boolean {
    const reason = this.settings.skipKnownFixes[fixId] ?? this.run.checkpoint.overrides[fixId];
    if (reason === undefined) return false;
    if (this.run.checkpoint.overrides[fixId] === undefined) this.recordOverride(fixId, stepId, title, reason);
    return true;
  }

  private recordOverride(fixId: string, stepId: string, title: string, reason: string): void {
    this.run.update((cp) => {
      cp.overrides[fixId] = reason;
    });
    this.run.record({ type: 'fix.overridden', stepId, message: `Fix deliberately skipped: ${title} (reason: ${reason})`, data: { fixId, reason } });
  }

  // ——— helpers ———

  private context(step: AnyStep, attempt: number, signal: AbortSignal, status: (t: string) => void): StepContext {
    return buildStepContext({
      run: this.run,
      deps: this.deps,
      settings: this.settings,
      params: this.params,
      owner: step,
      stepId: step.id,
      attempt,
      signal,
      whilePaused: () => this.guards.whenClear(),
      status,
    });
  }

  /** " — stops at X (irreversible)" when the newest completed irreversible step would end the chain. */
  private rollbackStopsAt(): string {
    const done = Object.entries(this.run.checkpoint.steps)
      .filter(([, s]) => s.status === 'completed')
      .sort(([, a], [, b]) => (b.completedSeq ?? 0) - (a.completedSeq ?? 0));
    const byId = new Map(buildItems(this.runbook).map((i) => [i.id, i.step]));
    const blocker = done.find(([id]) => byId.get(id)?.irreversible);
    return blocker ? ` — stops at '${blocker[0]}', which cannot be undone` : '';
  }

  private isMutating(id: string): boolean {
    return this.run.checkpoint.runbook.steps.find((s) => s.id === id)?.mutates ?? false;
  }

  titleOf(item: { id: string; step: AnyStep }): string {
    const cached = this.titles.get(item.id);
    if (cached) return cached;
    let title: string;
    try {
      title = typeof item.step.title === 'function' ? item.step.title(this.context(item.step, 1, this.abort.signal, () => undefined)) : item.step.title;
    } catch {
      title = item.id;
    }
    this.titles.set(item.id, title);
    return title;
  }

  private throwIfInterrupted(cause?: unknown): void {
    if (this.interrupted || (cause !== undefined && isAbortError(cause) && this.abort.signal.aborted)) {
      throw new Stop('interrupted', interruptedError());
    }
  }

  private rows(planned: readonly PlannedItem[]): SummaryRow[] {
    return planned.map((item) => ({
      id: item.id,
      title: this.titleOf(item),
      mutates: item.step.mutates,
      ...(this.results.get(item.id) ?? { result: this.resultFromCheckpoint(item) }),
    }));
  }

  /** For steps this process did not touch (a resumed rollback): what the checkpoint says. */
  private resultFromCheckpoint(item: PlannedItem): StepResult {
    const s = this.run.checkpoint.steps[item.id]?.status;
    if (s === 'rolled-back') return 'rolled back';
    if (s === 'rollback-failed') return 'rollback failed';
    if (s === 'completed') return this.run.checkpoint.rollback && item.step.mutates ? 'not rolled back' : 'done before';
    if (s === 'skipped') return 'skipped';
    if (s === 'described') return 'described';
    if (s === 'failed') return 'failed';
    return 'not reached';
  }
}

function approvalText(step: AnyStep, ctx: StepContext): string | undefined {
  if (!step.approval) return undefined;
  return typeof step.approval === 'function' ? step.approval(ctx) : step.approval;
}

function interruptedError(): RunbookError {
  return new RunbookError('INTERRUPTED', 'Interrupted.', {});
}

export function needsApproval(stepId: string): RunbookError {
  return new RunbookError('NEEDS_APPROVAL', `Step '${stepId}' changes the world and needs approval, but nobody can answer a prompt here (no TTY).`, {
    hint: 'Run it on a terminal to approve each step, pass --yes to approve the planned steps, or rehearse with --dry-run.',
  });
}

function fixMissingError(fixId: string, title: string, check: FixCheck & { ok: false }, canApply: boolean): RunbookError {
  return new RunbookError('KNOWN_FIX_MISSING', `A fix from an earlier postmortem is missing: ${title}.\n${check.message}\n${recordTable(check.findings)}`, {
    hint:
      (canApply ? 'Apply it as part of this run with --apply-known-fixes (or approve it on a terminal), ' : 'Apply it by hand, ') +
      `or skip it deliberately with --skip-known-fix ${fixId}="<reason>" (recorded). Nothing has been changed.`,
    details: { fixId, findings: check.findings },
  });
}

function toRunbookError(e: unknown): RunbookError {
  if (e instanceof Stop) return e.error;
  if (isRunbookError(e)) return e;
  return new RunbookError('STEP_FAILED', describeError(e), { cause: e });
}

async function raceTimeout<T>(work: Promise<T>, signal: AbortSignal, ms: number, id: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      const reason: unknown = signal.reason;
      if (reason instanceof DOMException && reason.name === 'TimeoutError') {
        reject(new RunbookError('TIMEOUT', `Step '${id}' did not finish within ${Math.round(ms / 1000)}s.`, { hint: 'Look at the target to see where it stands; the step may still be in progress there.' }));
      } else reject(reason instanceof Error ? reason : new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
