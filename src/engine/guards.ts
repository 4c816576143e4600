import { randomBytes } from 'node:crypto';
import type { AnyGuard, GuardContext, GuardFinding } from '../dsl/types.js';
import { describeError, isAbortError } from '../errors.js';
import type { Prompter } from '../ports/prompter.js';
import type { Run } from '../store/run-store.js';
import { buildGuardContext } from './context.js';
import type { PlanItem } from './plan.js';
import { recordTable } from '../format.js';
import type { EngineDeps, EngineSettings } from './types.js';

interface OpenIncident {
  id: string;
  guardId: string;
  detectedAt: number;
  finding: GuardFinding;
  remediations: number;
}

interface Loop {
  guard: AnyGuard;
  stop: AbortController;
  done: Promise<void>;
}

/** How many times a guard's remediation is tried for one incident before leaving it to a person. */
const MAX_REMEDIATIONS = 3;

/**
 * Runs the runbook's guards while the steps they cover run. An incident pauses the run (no new
 * step starts; polling steps wait in ctx.whilePaused) until a poll sees the world healthy again.
 */
export class GuardSupervisor {
  private readonly loops = new Map<string, Loop>();
  private incident: OpenIncident | null = null;
  private waiters: (() => void)[] = [];
  private readonly lastErrors = new Map<string, string>();

  constructor(
    private readonly guards: readonly AnyGuard[],
    private readonly run: Run,
    private readonly deps: EngineDeps,
    private readonly settings: EngineSettings,
    private readonly params: Record<string, unknown>,
    private readonly runSignal: AbortSignal,
    private readonly prompter: () => Prompter | undefined,
    /** Puts a line on the screen (the running step's status): incidents must be seen, not only recorded. */
    private readonly showLine: (text: string) => void = () => undefined,
    /** Stops the run (a guard that dies holding an open incident must not leave it paused forever). */
    private readonly fatal: (reason: string) => void = () => undefined,
  ) {}

  /** Set during a rollback: there is no live prompt then, so 'ask' remediates as 'auto'. */
  rollingBack = false;
  private forced = false;
  private readonly forceStop = new AbortController();

  private show(text: string): void {
    try {
      this.showLine(text);
    } catch {
      // the screen line belongs to a finished task (e.g. during a rollback): the timeline has it
    }
  }

  covering(item: PlanItem): AnyGuard[] {
    return this.guards.filter((g) => (g.during === 'mutating' ? item.step.mutates : g.during.includes(item.id)));
  }

  get paused(): boolean {
    return this.incident !== null;
  }

  /** Resolves now, or when the open incident is resolved (or the run is aborted). */
  whenClear(): Promise<void> {
    if (!this.incident || this.runSignal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.runSignal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  /** Start the guards that cover `item` (guards already running keep running). */
  startFor(item: PlanItem): void {
    for (const guard of this.covering(item)) this.start(guard, item.id);
  }

  /** Start every guard that watches mutating steps (for the rollback, which mutates too). */
  startMutatingGuards(why: string): void {
    for (const guard of this.guards) if (guard.during === 'mutating') this.start(guard, undefined, why);
  }

  private start(guard: AnyGuard, stepId: string | undefined, why?: string): void {
    if (this.loops.has(guard.id)) return;
    const stop = new AbortController();
    this.run.record({
      type: 'guard.started',
      ...(stepId ? { stepId } : {}),
      message: `Guard on: ${guard.title}${why ? ` (during the ${why})` : ''}`,
      data: { guardId: guard.id },
    });
    const loop: Loop = { guard, stop, done: Promise.resolve() };
    // A guard must never take the run down: anything it throws is recorded, and it stops.
    loop.done = this.loop(loop).catch((e: unknown) => {
      this.recordError(guard, `stopped after an unexpected error: ${describeError(e)}`);
      if (this.incident?.guardId === guard.id) {
        // Nobody is left to see this incident close: stop the run rather than wait forever.
        this.fatal(`guard '${guard.id}' stopped while incident ${this.incident.id} was open`);
        this.release();
      }
    });
    this.loops.set(guard.id, loop);
  }

  /**
   * Stop the guards not needed by `next`; a guard with an open incident runs until it is
   * resolved — unless `force` (the run is ending: an open incident is recorded as left open).
   */
  async stopExcept(next: PlanItem | null, opts: { force?: boolean } = {}): Promise<void> {
    if (opts.force) {
      this.forced = true;
      this.forceStop.abort();
      const open = this.incident;
      if (open) {
        this.run.record({
          type: 'note',
          message: `Incident ${open.id} is still open as the run ends: ${open.finding.summary}. Check the target by hand.`,
          data: { incidentId: open.id, guardId: open.guardId, open: true },
        });
        this.incident = null;
        this.release();
      }
    }
    const keep = new Set(next ? this.covering(next).map((g) => g.id) : []);
    const stopping = [...this.loops.values()].filter((l) => !keep.has(l.guard.id));
    for (const l of stopping) l.stop.abort();
    await Promise.all(stopping.map((l) => l.done));
    for (const l of stopping) {
      this.loops.delete(l.guard.id);
      this.run.record({ type: 'guard.stopped', message: `Guard off: ${l.guard.title}`, data: { guardId: l.guard.id } });
    }
  }

  private async loop(loop: Loop): Promise<void> {
    const { guard } = loop;
    const signal = AbortSignal.any([this.runSignal]);
    const ctx = buildGuardContext({
      run: this.run,
      deps: this.deps,
      settings: this.settings,
      params: this.params,
      owner: { id: `guard ${guard.id}`, ...(guard.uses ? { uses: guard.uses } : {}) },
      stepId: `guard.${guard.id}`,
      signal,
      whilePaused: async () => undefined,
    });
    for (;;) {
      const mine = this.incident?.guardId === guard.id;
      if (this.runSignal.aborted || this.forced || (loop.stop.signal.aborted && !mine)) return;
      // Right after a remediation, look again at once: recovery is measured to the next poll.
      if (await this.pollOnce(guard, ctx)) continue;
      // Sleep until the next poll, or until told to stop (a step transition must not wait a
      // whole interval) — unless this guard's incident is open: then it keeps polling.
      const holding = this.incident?.guardId === guard.id;
      try {
        await this.deps.clock.sleep(
          Math.max(1, guard.intervalMs * this.settings.pollScale),
          holding ? AbortSignal.any([this.runSignal, this.forceStop.signal]) : AbortSignal.any([this.runSignal, loop.stop.signal]),
        );
      } catch {
        if (this.runSignal.aborted) return;
      }
    }
  }

  /** One look at the world; true when it ran a remediation (so the next look comes at once). */
  private async pollOnce(guard: AnyGuard, ctx: GuardContext): Promise<boolean> {
    let finding: GuardFinding | null;
    try {
      finding = await guard.poll(ctx);
      this.lastErrors.delete(guard.id);
    } catch (e) {
      if (isAbortError(e)) return false;
      this.recordError(guard, `poll failed: ${describeError(e)}`);
      return false;
    }
    const open = this.incident;
    const before = open?.remediations ?? 0;
    if (finding && !open) await this.open(guard, ctx, finding);
    else if (finding && open?.guardId === guard.id) await this.remediate(guard, ctx, open, finding);
    else if (!finding && open?.guardId === guard.id) this.resolve(open);
    const now = this.incident;
    return now !== null && now.guardId === guard.id && now.remediations > before && now.remediations <= MAX_REMEDIATIONS && !this.runSignal.aborted;
  }

  private async open(guard: AnyGuard, ctx: GuardContext, finding: GuardFinding): Promise<void> {
    const incident: OpenIncident = {
      id: `inc-${randomBytes(3).toString('hex')}`,
      guardId: guard.id,
      detectedAt: this.deps.clock.now(),
      finding,
      remediations: 0,
    };
    this.incident = incident;
    this.show(`INCIDENT: ${finding.summary} — the run is paused until it is resolved`);
    this.run.record({
      type: 'incident.detected',
      message: `Incident: ${finding.summary}. The run is paused until it is resolved.`,
      data: { guardId: guard.id, incidentId: incident.id, summary: finding.summary, ...(finding.data ?? {}) },
    });
    await this.remediate(guard, ctx, incident, finding);
  }

  private async remediate(guard: AnyGuard, ctx: GuardContext, incident: OpenIncident, finding: GuardFinding): Promise<void> {
    if (!guard.remediate || incident.remediations >= MAX_REMEDIATIONS) return;
    if (this.settings.dryRun) {
      this.run.record({ type: 'note', message: `Dry run: would remediate (${guard.title})`, data: { incidentId: incident.id } });
      incident.remediations = MAX_REMEDIATIONS;
      return;
    }
    let mode: 'auto' | 'off';
    try {
      mode = await this.remediationMode(guard, incident, finding);
    } catch (e) {
      // Ctrl-C (or a broken terminal) at the remediation prompt: leave it to a person.
      this.recordError(guard, `remediation prompt failed (${describeError(e)}); remediation is off for this incident`);
      incident.remediations = MAX_REMEDIATIONS;
      return;
    }
    if (mode === 'off') {
      if (incident.remediations === 0) {
        this.show(`INCIDENT: ${finding.summary} — remediation is off: fix it by hand; the run goes on once the guard sees it healthy`);
        this.run.record({
          type: 'note',
          message: `Automatic remediation is off: fix it by hand (${finding.summary}); the run continues once the guard sees it healthy.`,
          data: { incidentId: incident.id },
        });
        incident.remediations = MAX_REMEDIATIONS; // ask once, not on every poll
      }
      return;
    }
    incident.remediations++;
    this.show(`INCIDENT: remediating (attempt ${incident.remediations}): ${guard.title}…`);
    this.run.record({
      type: 'incident.remediating',
      message: `Remediating (attempt ${incident.remediations}): ${guard.title}`,
      data: { incidentId: incident.id, guardId: guard.id, attempt: incident.remediations },
    });
    try {
      await guard.remediate(ctx, finding);
    } catch (e) {
      if (isAbortError(e)) return;
      this.recordError(guard, `remediation failed: ${describeError(e)}`);
    }
  }

  private async remediationMode(guard: AnyGuard, incident: OpenIncident, finding: GuardFinding): Promise<'auto' | 'off'> {
    if (this.settings.remediate !== 'ask') return this.settings.remediate;
    // During a rollback nobody is at a prompt, and the operator already chose to put things back.
    if (this.rollingBack) return 'auto';
    if (incident.remediations > 0) return 'auto'; // the operator already said yes for this incident
    const prompter = this.prompter();
    if (!prompter) return 'off';
    const what = finding.rows?.length ? `${finding.headline ?? finding.summary}\n${recordTable(finding.rows)}` : finding.summary;
    const answer = await prompter.select(`${what}\nRestore it now (${guard.title})?`, [
      { value: 'auto', name: 'Restore from the snapshot now' },
      { value: 'off', name: 'No, I will fix it by hand (the run waits until the guard sees it healthy)' },
    ], this.runSignal);
    this.run.record({
      type: answer === 'auto' ? 'approval.granted' : 'approval.refused',
      message: answer === 'auto' ? `Remediation approved for ${incident.id}` : `Remediation declined for ${incident.id}: fixing by hand`,
      data: { incidentId: incident.id },
    });
    return answer;
  }

  private resolve(incident: OpenIncident): void {
    const durationMs = this.deps.clock.now() - incident.detectedAt;
    this.run.record({
      type: 'incident.resolved',
      message: `Resolved: ${incident.finding.summary} (open for ${Math.round(durationMs / 100) / 10}s)`,
      data: {
        incidentId: incident.id,
        guardId: incident.guardId,
        detectedAt: new Date(incident.detectedAt).toISOString(),
        durationMs,
        remediations: incident.remediations,
      },
    });
    this.incident = null;
    this.release();
    this.show(`Incident resolved after ${Math.round(durationMs / 100) / 10}s: ${incident.finding.summary}`);
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private recordError(guard: AnyGuard, message: string): void {
    if (this.lastErrors.get(guard.id) === message) return; // one line per distinct error, not per poll
    this.lastErrors.set(guard.id, message);
    this.run.record({ type: 'guard.error', message: `${guard.title}: ${message}`, data: { guardId: guard.id } });
  }
}
