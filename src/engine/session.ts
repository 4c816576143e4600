import type { LoadedRunbook } from '../dsl/load.js';
import type { Runbook } from '../dsl/types.js';
import { RunbookError } from '../errors.js';
import type { RunSummary } from '../ports/notifier.js';
import type { Checkpoint } from '../store/checkpoint.js';
import { acquireLock, releaseLock } from '../store/lock.js';
import type { Run, RunStore } from '../store/run-store.js';
import type { RunOutcome } from './execute.js';
import { Executor, needsApproval } from './execute.js';
import type { PlannedItem } from './plan.js';
import { buildItems, plan } from './plan.js';
import type { EngineDeps, EngineSettings } from './types.js';

export interface SessionInput {
  store: RunStore;
  loaded: LoadedRunbook;
  settings: EngineSettings;
  deps: EngineDeps;
  /** For the lock: who holds it. */
  host: string;
  pid: number;
  /** Lets the CLI wire Ctrl-C to the executor. */
  onStart?: (executor: Executor, run: Run) => void;
}

export interface SessionResult {
  run: Run;
  outcome: RunOutcome;
}

export interface Target {
  key: string;
  fields: Record<string, string>;
}

const DEFAULT_TARGET_PARAMS = ['account', 'region', 'cluster'];

/** What a run changes, for the lock: runbook + account/region/cluster (or the runbook's own list). */
export function targetOf(runbook: Runbook, params: Record<string, unknown>): Target {
  const names = runbook.target ?? DEFAULT_TARGET_PARAMS.filter((n) => n in runbook.params.shape);
  const fields: Record<string, string> = {};
  for (const n of names) {
    const v = params[n];
    if (v !== undefined && v !== null && v !== '') fields[n] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return { key: [runbook.id, ...Object.values(fields)].join('/'), fields };
}

/** Start a new run: lock the target, write run.json, record the start, execute. */
export async function startRun(input: SessionInput & { params: Record<string, unknown> }): Promise<SessionResult> {
  const { store, loaded, settings, params } = input;
  const { runbook } = loaded;
  const items = buildItems(runbook);
  const planned = plan(items, { steps: {} });
  refuseSilentPrompts(planned, input);
  const target = targetOf(runbook, params);
  const runId = store.newRunId(runbook.id);
  const lock = acquireLock(store.locksDir, {
    target: target.key,
    runId,
    actor: store.opts.actor,
    host: input.host,
    pid: input.pid,
    started: new Date(input.deps.clock.now()).toISOString(),
  });
  try {
    const run = store.create({
      version: 1,
      runId,
      runbook: {
        id: runbook.id,
        title: runbook.title,
        file: loaded.file,
        sourceHash: loaded.sourceHash,
        steps: items.map((i) => ({ id: i.id, title: typeof i.step.title === 'string' ? i.step.title : i.id, mutates: i.step.mutates })),
      },
      params,
      target: target.fields,
      mode: { dryRun: settings.dryRun, sandbox: settings.sandbox },
      status: 'running',
      steps: {},
      overrides: {},
      completedCounter: 0,
    });
    attachNotifier(run, runbook, input);
    if (lock.tookOverFrom) recordTakeover(run, lock.tookOverFrom);
    run.record({
      type: 'run.started',
      message: `${settings.dryRun ? 'Dry run' : settings.sandbox ? 'Sandbox rehearsal' : 'Run'} of ${runbook.title} started on ${describeTarget(target)}`,
      data: {
        runbook: { id: runbook.id, title: runbook.title, file: loaded.file, sourceHash: loaded.sourceHash },
        params,
        target: target.fields,
        mode: { dryRun: settings.dryRun, sandbox: settings.sandbox },
        steps: items.length,
      },
    });
    return await execute(run, runbook, params, planned, input);
  } finally {
    releaseLock(lock.path, { runId, pid: input.pid });
  }
}

/** Continue a run from its checkpoint: done steps stay done, the in-flight one is re-probed. */
export async function resumeRun(
  input: SessionInput & { runId: string; force: boolean; rerunInFlight: boolean },
): Promise<SessionResult> {
  const { store, loaded } = input;
  const settings = { ...input.settings, rerunInFlight: input.rerunInFlight };
  const run = store.open(input.runId);
  const cp = run.checkpoint;
  const { runbook } = loaded;
  try {
    refuseUnresumable(cp);
    refuseChangedRunbook(cp, loaded, input.force);
    if (cp.mode.dryRun !== settings.dryRun) {
      throw new RunbookError('USAGE', `Run ${cp.runId} was ${cp.mode.dryRun ? 'a dry run' : 'a real run'}; it resumes as one.`, {
        hint: cp.mode.dryRun ? 'Resume it with --dry-run, or start a real run with `runbook run`.' : 'Resume it without --dry-run.',
      });
    }
    const items = buildItems(runbook);
    const planned = plan(items, cp);
    const rollingBack = cp.rollback?.status === 'running';
    if (!rollingBack) refuseSilentPrompts(planned, input);
    const params = cp.params;
    const target = targetOf(runbook, params);
    const lock = acquireLock(
      store.locksDir,
      { target: target.key, runId: cp.runId, actor: store.opts.actor, host: input.host, pid: input.pid, started: new Date(input.deps.clock.now()).toISOString() },
      { allowRunId: cp.runId },
    );
    try {
      attachNotifier(run, runbook, input);
      if (lock.tookOverFrom) recordTakeover(run, lock.tookOverFrom);
      const done = planned.filter((p) => p.action === 'done').length;
      const inFlight = planned.filter((p) => p.action === 'reprobe').map((p) => p.id);
      run.update((c) => {
        c.status = 'running';
      });
      if (rollingBack) {
        // The process died mid-rollback: going forward would redo what was being undone.
        run.record({
          type: 'run.resumed',
          message: `Resumed the interrupted rollback of ${runbook.title} on ${describeTarget(target)} (steps already rolled back stay rolled back)`,
          data: { rollback: true, forced: input.force && cp.runbook.sourceHash !== loaded.sourceHash },
        });
        return await execute(run, runbook, params, planned, { ...input, settings }, cp.rollback?.reason ?? 'interrupted rollback');
      }
      run.record({
        type: 'run.resumed',
        message: `Resumed ${runbook.title} on ${describeTarget(target)}: ${done} step(s) already done${inFlight.length ? `; re-checking ${inFlight.join(', ')} before repeating anything` : ''}`,
        data: { done, reprobe: inFlight, forced: input.force && cp.runbook.sourceHash !== loaded.sourceHash },
      });
      return await execute(run, runbook, params, planned, { ...input, settings });
    } finally {
      releaseLock(lock.path, { runId: cp.runId, pid: input.pid });
    }
  } catch (e) {
    run.close();
    throw e;
  }
}

async function execute(
  run: Run,
  runbook: Runbook,
  params: Record<string, unknown>,
  planned: PlannedItem[],
  input: SessionInput,
  continueRollback?: string,
): Promise<SessionResult> {
  const executor = new Executor(run, runbook, params, input.settings, input.deps);
  input.onStart?.(executor, run);
  const started = input.deps.clock.now();
  const outcome = continueRollback === undefined ? await executor.execute(planned) : await executor.continueRollback(planned, continueRollback);
  const counts = countResults(outcome);
  const durationMs = input.deps.clock.now() - started;
  const type = (
    {
      completed: 'run.completed',
      failed: 'run.failed',
      aborted: 'run.aborted',
      interrupted: 'run.interrupted',
      'rolled-back': 'run.rolled-back',
      'rollback-incomplete': 'run.failed',
      running: 'run.failed',
    } as const
  )[outcome.status];
  const what = outcome.status === 'interrupted' ? `Interrupted; resume with \`runbook resume ${run.id}\`` : `Run ${outcome.status}`;
  run.record({
    type,
    message: `${what}${outcome.error && outcome.status !== 'interrupted' ? `: ${outcome.error.message.split('\n')[0] ?? ''}` : ''}`,
    data: { status: outcome.status, durationMs, counts, ...(outcome.error ? { code: outcome.error.code } : {}) },
  });
  await input.deps.notifier.flush(5_000);
  run.close();
  return { run, outcome };
}

function countResults(outcome: RunOutcome): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of outcome.rows) counts[r.result] = (counts[r.result] ?? 0) + 1;
  return counts;
}

/**
 * A prompt on a closed stdin makes Node exit 0 with the run promise never settled: refuse
 * before the first mutation instead, and say how to approve.
 */
function refuseSilentPrompts(planned: readonly PlannedItem[], input: SessionInput): void {
  const { settings } = input;
  if (settings.dryRun || settings.yes || settings.interactive || input.deps.prompter) return;
  const first = planned.find((p) => p.action !== 'done' && p.step.mutates && p.kind !== 'fix-apply');
  if (first) throw needsApproval(first.id);
}

function refuseUnresumable(cp: Checkpoint): void {
  if (cp.status === 'completed') {
    throw new RunbookError('USAGE', `Run ${cp.runId} already completed; there is nothing to resume.`, { hint: 'Start a new run with `runbook run`.' });
  }
  if (cp.status === 'rolled-back' || cp.status === 'rollback-incomplete') {
    throw new RunbookError('USAGE', `Run ${cp.runId} was rolled back (${cp.status}); it cannot be resumed.`, {
      hint: 'Check the target, then start a new run with `runbook run`.',
    });
  }
}

function refuseChangedRunbook(cp: Checkpoint, loaded: LoadedRunbook, force: boolean): void {
  if (cp.runbook.sourceHash === loaded.sourceHash || force) return;
  const before = new Map(cp.runbook.steps.map((s) => [s.id, s]));
  const now = buildItems(loaded.runbook).map((i) => ({ id: i.id, title: typeof i.step.title === 'string' ? i.step.title : i.id, mutates: i.step.mutates }));
  const after = new Map(now.map((s) => [s.id, s]));
  const changes = [
    ...now.filter((s) => !before.has(s.id)).map((s) => `step added: ${s.id}`),
    ...cp.runbook.steps.filter((s) => !after.has(s.id)).map((s) => `step removed: ${s.id}`),
    ...now.filter((s) => before.has(s.id) && (before.get(s.id)?.title !== s.title || before.get(s.id)?.mutates !== s.mutates)).map((s) => `step changed: ${s.id}`),
  ];
  const order = cp.runbook.steps.map((s) => s.id).filter((id) => after.has(id)).join() !== now.map((s) => s.id).filter((id) => before.has(id)).join();
  if (order) changes.push('steps reordered');
  throw new RunbookError(
    'RUNBOOK_CHANGED',
    `The runbook file ${loaded.file} changed since run ${cp.runId} started: ${changes.length ? changes.join('; ') : 'step code changed (ids and titles are the same)'}.`,
    { hint: `Review the change. To continue under the new file anyway: runbook resume ${cp.runId} --force`, details: { changes } },
  );
}

function attachNotifier(run: Run, runbook: Runbook, input: SessionInput): void {
  const summary: RunSummary = {
    runId: run.id,
    runbookId: runbook.id,
    runbookTitle: runbook.title,
    target: run.checkpoint.target,
    rehearsal: run.checkpoint.mode.sandbox ? 'sandbox' : run.checkpoint.mode.dryRun ? 'dry-run' : null,
  };
  run.onEvent((e) => input.deps.notifier.notify(e, summary));
}

function recordTakeover(run: Run, from: { runId: string; pid: number; host: string; actor: string }): void {
  run.record({
    type: 'note',
    message: `Took over a stale lock from run ${from.runId} (${from.actor}, pid ${from.pid} on ${from.host} is gone)`,
    data: { staleLock: from },
  });
}

function describeTarget(t: Target): string {
  const f = t.fields;
  const parts = Object.entries(f).map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(', ') : 'its target';
}
