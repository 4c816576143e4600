import type { Command } from 'commander';
import { flattenSteps } from '../../dsl/flatten.js';
import { listRunbookFiles, loadRunbook, resolveRunbookFile } from '../../dsl/load.js';
import { describeParams } from '../../dsl/params.js';
import type { AnyStep, Runbook, StepContext } from '../../dsl/types.js';
import { describeError, RunbookError } from '../../errors.js';
import { forceUnlock, listLocks } from '../../store/lock.js';
import { readTimeline } from '../../store/timeline-log.js';
import { EXIT } from '../exit-codes.js';
import type { Io } from '../output.js';
import { table } from '../../format.js';
import { printJson, println, style, useColor } from '../output.js';
import type { GlobalOptions } from '../setup.js';
import { openStore, runbookDirs } from '../setup.js';

export function registerInspectCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('list')
    .description('list the runbooks this tool can run')
    .action(async (_o: unknown, cmd: Command) => setExit(await listCommand(cmd.optsWithGlobals<GlobalOptions>(), io)));

  program
    .command('show')
    .argument('<runbook>', 'runbook id or file')
    .description('explain a runbook: params, steps, which mutate, approvals, rollbacks, irreversible steps, guards, known fixes')
    .action(async (name: string, _o: unknown, cmd: Command) => setExit(await showCommand(name, cmd.optsWithGlobals<GlobalOptions>(), io)));

  program
    .command('runs')
    .description('list runs in the state dir: id, runbook, target, status, started, last event')
    .action(async (_o: unknown, cmd: Command) => setExit(await runsCommand(cmd.optsWithGlobals<GlobalOptions>(), io)));

  program
    .command('unlock')
    .argument('[target]', 'target key as shown by a busy-lock error (e.g. eks-1.20/eu-west-1/prod-eu); omit to list locks')
    .description("release a target's lock left by a run that is really gone")
    .action(async (target: string | undefined, _o: unknown, cmd: Command) => setExit(await unlockCommand(target, cmd.optsWithGlobals<GlobalOptions>(), io)));
}

async function listCommand(g: GlobalOptions, io: Io): Promise<number> {
  const files = listRunbookFiles(runbookDirs(g, io.env));
  const rows: { id: string; title: string; steps: number; file: string; error?: string }[] = [];
  for (const f of files) {
    try {
      const { runbook } = await loadRunbook(f.file);
      rows.push({ id: runbook.id, title: runbook.title, steps: flattenSteps(runbook.steps).length, file: f.file });
    } catch (e) {
      rows.push({ id: f.name, title: '(does not load)', steps: 0, file: f.file, error: describeError(e).split('\n')[0] ?? '' });
    }
  }
  if (g.json) {
    printJson(io, rows);
    return EXIT.ok;
  }
  if (rows.length === 0) {
    println(io.out, 'No runbooks found. Put runbook files in runbooks/ or pass --runbooks <dir>.');
    return EXIT.ok;
  }
  println(io.out, table(['Runbook', 'Title', 'Steps', 'File'], rows.map((r) => [r.id, r.error ? `${r.title}: ${r.error}` : r.title, String(r.steps), r.file])));
  return EXIT.ok;
}

async function showCommand(name: string, g: GlobalOptions, io: Io): Promise<number> {
  const loaded = await loadRunbook(resolveRunbookFile(name, runbookDirs(g, io.env)));
  const rb = loaded.runbook;
  const ctx = placeholderContext(rb);
  showCtx = ctx;
  const params = describeParams(rb.params);
  const steps = flattenSteps(rb.steps);
  if (g.json) {
    printJson(io, {
      id: rb.id,
      title: rb.title,
      description: rb.description,
      file: loaded.file,
      params,
      steps: steps.map(({ step, groups }) => ({
        id: step.id,
        title: staticTitle(step),
        group: groups.join(' › ') || null,
        mutates: step.mutates,
        approval: textOf(step.approval, ctx) ?? null,
        rollback: !!step.rollback,
        irreversible: step.irreversible ?? false,
        check: !!step.check,
        retry: step.retry ?? null,
        timeoutMs: step.timeoutMs ?? null,
      })),
      guards: (rb.guards ?? []).map((gd) => ({ id: gd.id, title: gd.title, during: gd.during, intervalMs: gd.intervalMs })),
      knownFixes: (rb.knownFixes ?? []).map((f) => ({ id: f.id, title: f.title, source: f.source ?? null, canApply: !!f.apply })),
    });
    return EXIT.ok;
  }
  const s = style(useColor(io, g.color));
  println(io.out, s.bold(`${rb.title} (${rb.id})`));
  println(io.out, rb.description);
  println(io.out, s.dim(loaded.file));
  println(io.out);
  println(io.out, s.bold('Params'));
  println(
    io.out,
    table(
      ['Flag', 'Type', 'Required', 'Default', 'Description'],
      params.map((p) => [p.flag, p.type, p.required ? 'yes' : 'no', p.defaultValue === undefined ? '' : JSON.stringify(p.defaultValue), firstSentence(p.description ?? '')]),
    ),
  );
  println(io.out);
  println(io.out, s.bold('Steps'));
  println(io.out, stepsTable(rb));
  if (rb.knownFixes?.length) {
    println(io.out);
    println(io.out, s.bold('Fixes from earlier postmortems (verified before anything mutates)'));
    for (const f of rb.knownFixes) println(io.out, `  ${f.id}: ${f.title}${f.source ? ` — ${f.source}` : ''}${f.apply ? ` (can apply: ${f.apply.title})` : ''}`);
  }
  if (rb.guards?.length) {
    println(io.out);
    println(io.out, s.bold('Guards'));
    for (const gd of rb.guards) println(io.out, `  ${gd.id}: ${gd.title} — during ${gd.during === 'mutating' ? 'every mutating step' : gd.during.join(', ')}, every ${gd.intervalMs / 1000}s`);
  }
  const approvals = steps.filter(({ step }) => step.mutates && step.approval);
  if (approvals.length) {
    println(io.out);
    println(io.out, s.bold('Approvals (what the operator is asked before each change)'));
    for (const { step } of approvals) println(io.out, wrap(`${step.id}: ${textOf(step.approval, ctx) ?? ''}`, 110, '    '));
  }
  const irreversible = steps.filter(({ step }) => step.irreversible);
  if (irreversible.length) {
    println(io.out);
    println(io.out, s.bold('Irreversible steps (a rollback stops here)'));
    for (const { step } of irreversible) println(io.out, wrap(`${step.id}: ${typeof step.irreversible === 'string' ? step.irreversible : 'cannot be undone automatically'}`, 110, '    '));
  }
  return EXIT.ok;
}

function stepsTable(rb: Runbook): string {
  const rows = flattenSteps(rb.steps).map(({ step, groups }, i) => [
    String(i + 1),
    step.id,
    (groups.length ? `${groups.join(' › ')} › ` : '') + staticTitle(step),
    step.mutates ? 'mutates' : 'read-only',
    step.mutates ? (step.irreversible ? 'irreversible' : step.rollback ? 'rollback' : 'no rollback') : '',
    step.check ? 'yes' : '',
  ]);
  return table(['#', 'Id', 'Title', 'Kind', 'Undo', 'Check'], rows);
}

/**
 * Titles and approval texts are often functions of the params ("Upgrade prod-eu to 1.20"): show
 * them with each param's default or its <name>, so a reviewer reads the real sentence.
 */
function placeholderContext(rb: Runbook): StepContext {
  const params = Object.fromEntries(describeParams(rb.params).map((p) => [p.name, p.defaultValue ?? `<${p.name}>`]));
  return { params, output: () => ({}) } as unknown as StepContext;
}

function textOf(value: string | ((ctx: StepContext) => string) | undefined, ctx: StepContext): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  try {
    return value(ctx);
  } catch {
    return '(computed at run time from earlier steps)';
  }
}

let showCtx: StepContext | undefined;

function staticTitle(step: AnyStep): string {
  return (showCtx ? textOf(step.title, showCtx) : typeof step.title === 'string' ? step.title : undefined) ?? step.id;
}

async function runsCommand(g: GlobalOptions, io: Io): Promise<number> {
  const { readCheckpoint } = await import('../../store/checkpoint.js');
  const store = await openStore(g, io.env, io.cwd);
  const rows = store.list().map((id) => {
    const dir = store.runDir(id);
    try {
      const cp = readCheckpoint(`${dir}/run.json`);
      const { events } = readTimeline(`${dir}/timeline.jsonl`);
      const last = events[events.length - 1];
      return {
        id,
        runbook: cp.runbook.id,
        target: Object.values(cp.target).join('/'),
        status: cp.status + (cp.mode.dryRun ? ' (dry run)' : cp.mode.sandbox ? ' (sandbox)' : ''),
        started: cp.createdAt,
        lastEvent: last ? `${last.ts} ${last.message}` : '',
      };
    } catch (e) {
      return { id, runbook: '?', target: '?', status: 'unreadable', started: '', lastEvent: describeError(e) };
    }
  });
  if (g.json) {
    printJson(io, rows);
    return EXIT.ok;
  }
  if (rows.length === 0) {
    println(io.out, `No runs in ${store.runsDir}.`);
    return EXIT.ok;
  }
  println(io.out, table(['Run', 'Runbook', 'Target', 'Status', 'Started', 'Last event'], rows.map((r) => [r.id, r.runbook, r.target, r.status, r.started, r.lastEvent.slice(0, 90)])));
  return EXIT.ok;
}

async function unlockCommand(target: string | undefined, g: GlobalOptions, io: Io): Promise<number> {
  const store = await openStore(g, io.env, io.cwd);
  if (!target) {
    const locks = listLocks(store.locksDir);
    if (g.json) printJson(io, locks);
    else if (locks.length === 0) println(io.out, 'No locks held.');
    else
      println(
        io.out,
        table(
          ['Target', 'Run', 'Holder', 'Since', 'State'],
          locks.map((l) => [l.holder.target, l.holder.runId, `${l.holder.actor} pid ${l.holder.pid}`, l.holder.started, l.stale ? `stale: ${l.staleReason ?? ''}` : 'held']),
        ),
      );
    return EXIT.ok;
  }
  const holder = forceUnlock(store.locksDir, target);
  if (!holder) {
    throw new RunbookError('USAGE', `No lock for '${target}' in ${store.locksDir}.`, { hint: 'List held locks with `runbook unlock` (no argument).' });
  }
  const msg = `Released the lock on ${holder.target} held by run ${holder.runId} (${holder.actor}, pid ${holder.pid} on ${holder.host}).`;
  if (g.json) printJson(io, { released: holder });
  else println(io.out, msg);
  return EXIT.ok;
}

/** Word-wrap for terminals; continuation lines indented. */
function wrap(text: string, width: number, indent: string): string {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let line = '  ';
  for (const w of words) {
    if (line.trim() && line.length + w.length + 1 > width) {
      lines.push(line);
      line = indent;
    }
    line += (line.trim() ? ' ' : '') + w;
  }
  lines.push(line);
  return lines.join('\n');
}

function firstSentence(text: string): string {
  const cut = text.split(/(?<=[.;])\s/)[0] ?? text;
  return cut.length > 90 ? `${cut.slice(0, 89)}…` : cut;
}
