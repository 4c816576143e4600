import type { Command } from 'commander';
import { Option } from 'commander';
import { hostname } from 'node:os';
import { parseParams } from '../../dsl/params.js';
import type { LoadedRunbook } from '../../dsl/load.js';
import { loadRunbook, resolveRunbookFile } from '../../dsl/load.js';
import type { SummaryRow } from '../../engine/execute.js';
import type { SessionResult } from '../../engine/session.js';
import type { EngineDeps, EngineSettings, OnFailure, RemediateMode } from '../../engine/types.js';
import { RunbookError } from '../../errors.js';
import { systemClock } from '../../ports/clock.js';
import type { Notifier } from '../../ports/notifier.js';
import { nullNotifier } from '../../ports/notifier.js';
import type { RunningSandbox } from '../../sandbox/index.js';
import type { Run, RunStore } from '../../store/run-store.js';
import { createRedactor } from '../../timeline/redact.js';
import { EXIT, EXIT_BY_CODE } from '../exit-codes.js';
import { collect } from '../collect.js';
import type { Io } from '../output.js';
import { formatDuration, table } from '../../format.js';
import { printJson, println, style, useColor } from '../output.js';
import type { GlobalOptions } from '../setup.js';
import { openStore, runbookDirs } from '../setup.js';

export interface RunOptions {
  param?: string[];
  dryRun?: boolean;
  yes?: boolean;
  ci?: boolean;
  onFailure?: OnFailure;
  applyKnownFixes?: boolean;
  skipKnownFix?: string[];
  remediate?: RemediateMode;
  sandbox?: boolean;
  scenario?: string;
  speed?: string;
  endpointUrl?: string;
  kubeconfig?: string;
  context?: string;
  profile?: string;
  notify?: string[];
  force?: boolean;
  rerunInFlight?: boolean;
}

/** Options shared by `run` and `resume`. */
function executionOptions(cmd: Command): Command {
  return cmd
    .option('--dry-run', 'run read-only steps for real; describe mutating steps without executing them')
    .option('-y, --yes', 'approve the planned mutating steps (never an unplanned known-fix apply)')
    .option('--ci', 'plain line output, no prompts (implied when stdin/stdout is not a TTY)')
    .addOption(new Option('--on-failure <mode>', 'when a step fails without a person to ask').choices(['rollback', 'abort']))
    .option('--apply-known-fixes', 'apply missing fixes from earlier postmortems as steps of this run')
    .option('--skip-known-fix <id=reason>', 'deliberately go on without a known fix, recorded with your reason (repeatable)', collect, [])
    .addOption(new Option('--remediate <mode>', 'what a guard does on an incident (default: ask on a TTY, auto with --yes)').choices(['auto', 'ask', 'off']))
    .option('--sandbox', 'run against the embedded simulated world (a rehearsal that mutates nothing real)')
    .option('--scenario <name|file>', 'sandbox scenario (default, 2021-06-30, or a scenario file)')
    .option('--speed <n>', 'sandbox time multiplier (1 = real pace)')
    .option('--endpoint-url <url>', 'AWS endpoint override (e.g. a standalone sandbox); also AWS_ENDPOINT_URL')
    .option('--kubeconfig <file>', 'kubeconfig for kubectl (default: KUBECONFIG / ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context')
    .option('--profile <name>', 'AWS profile (default: AWS_PROFILE / the default credential chain)')
    .option('--notify <spec>', 'send notifications, e.g. slack:SLACK_WEBHOOK_URL (an env var name) or slack:https://hooks.slack.com/… (repeatable)', collect, []);
}

export function registerRunCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  executionOptions(
    program
      .command('run')
      .argument('<runbook>', 'runbook id (file name in runbooks/ or --runbooks) or a path to a runbook file')
      .description('run a runbook against a target; params as flags (--cluster prod-eu) or --param key=value')
      .option('-p, --param <key=value>', 'a runbook param (repeatable)', collect, [])
      .allowUnknownOption()
      .allowExcessArguments(),
  ).action(async (name: string, opts: RunOptions, cmd: Command) => {
    setExit(await runCommand(name, opts, paramFlags(cmd.args.slice(1)), globals(cmd), io));
  });

  executionOptions(
    program
      .command('resume')
      .argument('<run-id>', 'a run id from `runbook runs`')
      .description('continue a run from its checkpoint: done steps stay done, the in-flight step is re-checked first')
      .option('--force', 'resume even though the runbook file changed since the run started')
      .option('--rerun-in-flight', 'run the step that was in flight again even though it has no check()'),
  ).action(async (runId: string, opts: RunOptions, cmd: Command) => {
    setExit(await resumeCommand(runId, opts, globals(cmd), io));
  });
}

function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** `--cluster prod-eu --min-healthy=2 --flag` → { cluster: 'prod-eu', 'min-healthy': '2', flag: '' } */
export function paramFlags(tokens: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const add = (k: string, v: string): void => {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] ?? '';
    if (!t.startsWith('--')) {
      throw new RunbookError('USAGE', `Unexpected argument '${t}'.`, { hint: 'Params are flags: --cluster prod-eu, or --param cluster=prod-eu.' });
    }
    const eq = t.indexOf('=');
    if (eq > 0) add(t.slice(2, eq), t.slice(eq + 1));
    else if (tokens[i + 1] !== undefined && !(tokens[i + 1] ?? '').startsWith('--')) add(t.slice(2), tokens[++i] ?? '');
    else add(t.slice(2), '');
  }
  return out;
}

function keyValues(list: readonly string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new RunbookError('USAGE', `${what} '${kv}' is not key=value.`, { hint: `Write it as ${what === '--param' ? '--param cluster=prod-eu' : '--skip-known-fix dereg-delay="reason"'}.` });
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

interface Prepared {
  settings: EngineSettings;
  deps: EngineDeps;
  store: RunStore;
  sandboxParams: Record<string, string>;
  /** Tell the notifier (and the sandbox fault watcher) which run they report on. */
  bind: (run: Run) => void;
  close: () => Promise<void>;
}

/** Flags + env → engine settings and the real ports (AWS, kubectl, zx, notifier, sandbox). */
async function prepare(
  opts: RunOptions,
  g: GlobalOptions,
  io: Io,
  mode: { startSandbox: boolean; sandbox: boolean; dryRun: boolean },
): Promise<Prepared> {
  const { sandbox, dryRun } = mode;
  // --json owns stdout and hides the screen: nobody could see a prompt, so none may be asked.
  const interactive = io.stdinIsTTY && io.stdoutIsTTY && !opts.ci && !g.json && io.env.RUNBOOK_RENDERER !== 'silent';
  // Everything that can reject bad input happens before a sandbox server exists to be left behind.
  const secrets = [io.env.AWS_SECRET_ACCESS_KEY, io.env.AWS_SESSION_TOKEN].filter((s): s is string => !!s && s.length >= 8 && !sandbox);
  const { notifier, bind: bindNotifier } = await buildNotifier(opts.notify, io.env, secrets);
  const redactor = createRedactor(secrets);
  const store = await openStore(g, io.env, io.cwd, (v) => redactor.redact(v));
  const scale = Number(io.env.RUNBOOK_POLL_SCALE ?? (sandbox ? '0.02' : '1'));
  const settings: EngineSettings = {
    dryRun,
    sandbox,
    yes: !!opts.yes,
    interactive,
    applyKnownFixes: !!opts.applyKnownFixes,
    skipKnownFixes: keyValues(opts.skipKnownFix, '--skip-known-fix'),
    onFailure: opts.onFailure ?? (interactive ? 'ask' : 'abort'),
    remediate: opts.remediate ?? (opts.yes || !interactive ? 'auto' : 'ask'),
    pollScale: Number.isFinite(scale) && scale > 0 ? scale : 1,
    // --json owns stdout: progress would corrupt the document.
    renderer: io.env.RUNBOOK_RENDERER === 'silent' || g.json ? 'silent' : interactive ? 'default' : 'simple',
  };
  const [{ createAwsClients }, { createKube }, { $ }, { recordedShell }] = await Promise.all([
    import('../../aws/clients.js'),
    import('../../kube/kubectl.js'),
    import('zx/core'),
    import('../../ports/shell.js'),
  ]);
  const env = { ...io.env };
  const sandboxParams: Record<string, string> = {};
  let sb: RunningSandbox | null = null;
  if (mode.startSandbox) {
    const { startSandbox } = await import('../../sandbox/index.js');
    sb = await startSandbox({ scenario: opts.scenario ?? 'default', ...(opts.speed ? { speed: Number(opts.speed) } : {}) });
    Object.assign(env, sb.env);
    sandboxParams.cluster = sb.clusterName;
    sandboxParams.region = sb.region;
  }
  const faults = sb ? watchSandboxFaults(sb) : null;
  try {
    const endpoint = opts.endpointUrl ?? env.AWS_ENDPOINT_URL;
    const kubeconfig = opts.kubeconfig ?? env.KUBECONFIG;
    const deps: EngineDeps = {
      clock: systemClock,
      aws: createAwsClients({
        region: '',
        ...((opts.profile ?? env.AWS_PROFILE) ? { profile: opts.profile ?? env.AWS_PROFILE } : {}),
        ...(endpoint ? { endpoint } : {}),
        ...(sandbox ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'sandbox', secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'sandbox' } } : {}),
        ...(env.RUNBOOK_RETRY_BASE_MS ? { retryBaseDelayMs: Number(env.RUNBOOK_RETRY_BASE_MS) } : {}),
      }),
      kube: createKube({ ...(kubeconfig ? { kubeconfig } : {}), ...(opts.context ? { context: opts.context } : {}) }),
      shell: (record, signal) => recordedShell($, record, signal),
      notifier,
    };
    return {
      settings,
      deps,
      store,
      sandboxParams,
      bind: (run) => {
        bindNotifier(run);
        faults?.bind(run);
      },
      close: async () => {
        faults?.stop();
        await sb?.close();
      },
    };
  } catch (e) {
    faults?.stop();
    await sb?.close();
    throw e;
  }
}

/**
 * In a --sandbox rehearsal the world knows when it broke: each fault record becomes a timeline
 * note (source 'sandbox', faultAt) so time to detection is measured from the real fault.
 */
function watchSandboxFaults(sb: { faultRecords(): { at: string; kind: string; cause: string; trigger: string; targetGroupArns: string[]; detail: string }[] }) {
  let run: Run | null = null;
  let seen = 0;
  const flush = (): void => {
    const records = sb.faultRecords();
    if (!run) return;
    for (const r of records.slice(seen)) {
      run.record({
        type: 'note',
        message: `Sandbox fault (${r.kind}, ${r.cause}): ${r.detail}`,
        data: { source: 'sandbox', faultAt: r.at, kind: r.kind, cause: r.cause, trigger: r.trigger, targetGroupArns: r.targetGroupArns },
      });
    }
    seen = records.length;
  };
  const timer = setInterval(() => {
    try {
      flush();
    } catch {
      // the run's timeline closed between two ticks
    }
  }, 100);
  timer.unref();
  return {
    bind: (r: Run) => {
      run = r;
      r.onEvent((e) => {
        // Put the fault on the timeline right at the detection, not up to one tick later.
        if (e.type === 'incident.detected') flush();
      });
    },
    stop: () => {
      try {
        flush();
      } catch {
        // closed
      }
      clearInterval(timer);
    },
  };
}

/** Notifier for `--notify`; its delivery failures become timeline notes of the run it serves. */
async function buildNotifier(specs: string[] | undefined, env: NodeJS.ProcessEnv, secrets: string[]): Promise<{ notifier: Notifier; bind: (run: Run) => void }> {
  if (!specs?.length) return { notifier: nullNotifier, bind: () => undefined };
  const { parseNotifySpec, createNotifier, notifyFailureEvent } = await import('../../notify/index.js');
  const targets = specs.map((s) => parseNotifySpec(s, env));
  for (const t of targets) secrets.push(t.url);
  let current: Run | null = null;
  const notifier = createNotifier(targets, {
    redactor: createRedactor(secrets),
    onFailure: (f) => {
      try {
        current?.record(notifyFailureEvent(f));
      } catch {
        // the run's timeline is already closed (failure reported after the end): nothing to add to
      }
    },
  });
  return { notifier, bind: (run) => void (current = run) };
}

async function runCommand(name: string, opts: RunOptions, flags: Record<string, string | string[]>, g: GlobalOptions, io: Io): Promise<number> {
  const file = resolveRunbookFile(name, runbookDirs(g, io.env));
  const loaded = await loadRunbook(file);
  const raw: Record<string, string | string[]> = { ...flags };
  for (const [k, v] of Object.entries(keyValues(opts.param, '--param'))) {
    const prev = raw[k];
    raw[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
  }
  const p = await prepare(opts, g, io, { startSandbox: !!opts.sandbox, sandbox: !!opts.sandbox, dryRun: !!opts.dryRun });
  try {
    for (const [k, v] of Object.entries(p.sandboxParams)) if (k in loaded.runbook.params.shape && raw[k] === undefined) raw[k] = v;
    if (raw.region === undefined && io.env.AWS_REGION && 'region' in loaded.runbook.params.shape) raw.region = io.env.AWS_REGION;
    const params = parseParams(loaded.runbook.params, raw, loaded.runbook.id);
    setRegion(p.deps, params);
    const { startRun } = await import('../../engine/session.js');
    const result = await withSignals(io, p.bind, (onStart) =>
      startRun({ store: p.store, loaded, params, settings: p.settings, deps: p.deps, host: hostname(), pid: process.pid, onStart }),
    );
    return report(result, loaded, g, io, p.settings, !!opts.sandbox);
  } finally {
    await p.close();
  }
}

async function resumeCommand(runId: string, opts: RunOptions, g: GlobalOptions, io: Io): Promise<number> {
  const probeStore = await openStore(g, io.env, io.cwd);
  const probe = probeStore.open(runId);
  const cp = probe.checkpoint;
  probe.close();
  const loaded = await loadRunbook(cp.runbook.file);
  if (opts.sandbox) {
    throw new RunbookError('USAGE', `--sandbox cannot resume run ${runId}: an in-process sandbox world is new each time${cp.mode.sandbox ? ' (the one this run changed died with its runner)' : ', and this run changed a real target'}.`, {
      hint: cp.mode.sandbox
        ? 'Rehearse crash and resume against a standalone sandbox: `runbook sandbox start`, then run and resume with --endpoint-url and --kubeconfig.'
        : `Resume it against the real target: runbook resume ${runId}`,
    });
  }
  if (cp.mode.sandbox && !opts.endpointUrl && !io.env.AWS_ENDPOINT_URL) {
    throw new RunbookError('USAGE', `Run ${runId} ran against a sandbox; resume it against one too.`, {
      hint: 'Pass the standalone sandbox with --endpoint-url and --kubeconfig (see `runbook sandbox start`).',
    });
  }
  // A sandbox run resumes against a standalone sandbox: sandbox pacing and dummy credentials.
  const p = await prepare(opts, g, io, { startSandbox: false, sandbox: cp.mode.sandbox, dryRun: cp.mode.dryRun || !!opts.dryRun });
  try {
    setRegion(p.deps, cp.params);
    const { resumeRun } = await import('../../engine/session.js');
    const result = await withSignals(io, p.bind, (onStart) =>
      resumeRun({
        store: p.store,
        loaded,
        runId,
        force: !!opts.force,
        rerunInFlight: !!opts.rerunInFlight,
        settings: p.settings,
        deps: p.deps,
        host: hostname(),
        pid: process.pid,
        onStart,
      }),
    );
    return report(result, loaded, g, io, p.settings);
  } finally {
    await p.close();
  }
}

function setRegion(deps: EngineDeps, params: Record<string, unknown>): void {
  const region = typeof params.region === 'string' ? params.region : undefined;
  if (region) deps.aws.settings.region = region;
}


/**
 * First Ctrl-C (or SIGTERM): abort the in-flight call, checkpoint, say how to resume.
 * Second: exit at once — the checkpoint is already safe on disk.
 */
async function withSignals(
  io: Io,
  bind: (run: Run) => void,
  go: (onStart: (ex: { interrupt(reason?: string): void }, run: Run) => void) => Promise<SessionResult>,
): Promise<SessionResult> {
  let executor: { interrupt(reason?: string): void } | null = null;
  let count = 0;
  const handler = (sig: NodeJS.Signals): void => {
    count++;
    if (!executor) {
      println(io.err, `\n${sig} before the run started: nothing was changed.`);
      process.exit(EXIT.interrupted);
    }
    if (count > 1) {
      println(io.err, '\nSecond interrupt: exiting now. The checkpoint on disk is safe.');
      process.exit(EXIT.interrupted);
    }
    println(io.err, `\n${sig}: stopping after aborting the in-flight call… (press Ctrl-C again to exit at once)`);
    executor?.interrupt(`interrupted by the operator (${sig})`);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  try {
    return await go((ex, run) => {
      executor = ex;
      bind(run);
    });
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  }
}

function report(result: SessionResult, loaded: LoadedRunbook, g: GlobalOptions, io: Io, settings: EngineSettings, inProcessSandbox = false): number {
  const { run, outcome } = result;
  const exit = outcome.error ? EXIT_BY_CODE[outcome.error.code] : EXIT.ok;
  if (g.json) {
    printJson(io, {
      runId: run.id,
      runbook: loaded.runbook.id,
      status: outcome.status,
      exitCode: exit,
      steps: outcome.rows,
      error: outcome.error ? { code: outcome.error.code, message: outcome.error.message, hint: outcome.error.hint ?? null } : null,
      runDir: run.dir,
    });
    return exit;
  }
  const s = style(useColor(io, g.color));
  println(io.out);
  println(io.out, s.bold(`${settings.dryRun ? 'Dry run' : settings.sandbox ? 'Sandbox rehearsal' : 'Run'} ${run.id}: ${outcome.status}`));
  println(io.out, summaryTable(outcome.rows));
  if (outcome.error) {
    println(io.out);
    println(io.out, `${s.red('error')} ${s.dim(`[${outcome.error.code}]`)} ${outcome.error.message}`);
    if (outcome.error.hint) println(io.out, `${s.yellow('next')}  ${outcome.error.hint}`);
  }
  println(io.out);
  // Hints must run as printed: carry the state dir along when it is not the default.
  const where = g.stateDir ? ` --state-dir ${g.stateDir}` : '';
  const events = run.events();
  const detected = events.filter((e) => e.type === 'incident.detected').length;
  if (detected > 0) {
    const resolved = events.filter((e) => e.type === 'incident.resolved').length;
    println(io.out, s.yellow(`Incidents: ${detected} detected, ${resolved} resolved — see \`runbook timeline ${run.id}${where}\`; a draft: \`runbook postmortem ${run.id}${where}\``));
    println(io.out);
  }
  if (outcome.status === 'interrupted' || outcome.status === 'failed' || outcome.status === 'aborted') {
    if (settings.sandbox && inProcessSandbox) {
      println(io.out, 'Resume:        this rehearsal\'s sandbox ended with the run; to rehearse a resume, start one with');
      println(io.out, '               `runbook sandbox start` and run against it with --endpoint-url and --kubeconfig.');
    } else println(io.out, `Resume with:   runbook resume ${run.id}${where}`);
  }
  println(io.out, `Timeline:      runbook timeline ${run.id}${where}`);
  println(io.out, `Run directory: ${run.dir}`);
  return exit;
}

export function summaryTable(rows: readonly SummaryRow[]): string {
  return table(
    ['Step', 'Kind', 'Result', 'Took', 'Note'],
    rows.map((r) => [r.id, r.mutates ? 'mutates' : 'read-only', r.result, formatDuration(r.durationMs), truncate(r.note ?? '', 80)]),
  );
}

function truncate(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}

