import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { RunbookError } from '../../errors.js';
import { readTimeline } from '../../store/timeline-log.js';
import { operatorNote } from '../../timeline/export/note.js';
import { createRedactor } from '../../timeline/redact.js';
import { EXIT } from '../exit-codes.js';
import type { Io } from '../output.js';
import { printJson, println } from '../output.js';
import type { GlobalOptions } from '../setup.js';
import { openStore } from '../setup.js';

type Format = 'md' | 'json' | 'csv' | 'mermaid' | 'html';

interface TimelineOptions {
  format: Format;
  seconds?: boolean;
  tz?: string;
  all?: boolean;
  output?: string;
}

export function registerTimelineCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('timeline')
    .argument('<run-id>', 'a run id from `runbook runs`')
    .description('export the recorded timeline: the Markdown table a postmortem pastes in, or json/csv/mermaid/html')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['md', 'json', 'csv', 'mermaid', 'html']).default('md'))
    .option('--seconds', 'times to the second (default: minutes, as in a postmortem)')
    .option('--tz <zone>', 'show times in this IANA zone (e.g. Europe/Berlin) instead of UTC')
    .option('--all', 'every event, not only those worth a postmortem line')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (runId: string, opts: TimelineOptions, cmd: Command) => setExit(await timelineCommand(runId, opts, cmd.optsWithGlobals<GlobalOptions>(), io)));

  program
    .command('postmortem')
    .argument('<run-id>', 'a run id from `runbook runs`')
    .description('a Markdown postmortem draft from the run: timeline, stats, what failed; placeholders for what only people know')
    .option('--seconds', 'times to the second')
    .option('--tz <zone>', 'show times in this IANA zone')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (runId: string, opts: Omit<TimelineOptions, 'format'>, cmd: Command) => setExit(await postmortemCommand(runId, opts, cmd.optsWithGlobals<GlobalOptions>(), io)));

  program
    .command('note')
    .argument('<run-id>', 'a run id (live or finished)')
    .argument('<text...>', 'what happened, e.g. "Target group manually reattached"')
    .description('add an operator line to a run timeline (recorded with your name and the time)')
    .option('--fault-at <time>', 'when the fault began (ISO time with zone, or "now"): time to detection is measured from it')
    .option('--incident <id>', 'the incident id this note is about')
    .action(async (runId: string, text: string[], o: { faultAt?: string; incident?: string }, cmd: Command) =>
      setExit(await noteCommand(runId, text.join(' '), o, cmd.optsWithGlobals<GlobalOptions>(), io)),
    );
}

async function load(runId: string, g: GlobalOptions, io: Io) {
  const store = await openStore(g, io.env, io.cwd);
  const dir = store.runDir(runId);
  const read = readTimeline(`${dir}/timeline.jsonl`);
  if (read.events.length === 0) {
    throw new RunbookError('RUN_NOT_FOUND', `Run ${runId} has no timeline events.`, { hint: 'The run may have crashed before its first event; check its run.json.' });
  }
  return { store, dir, ...read };
}

function emit(io: Io, text: string, output: string | undefined, g: GlobalOptions): void {
  // Exports are read by people who were not there: scrub again in case an old run predates a rule.
  const clean = createRedactor().redact(text);
  if (output) {
    writeFileSync(output, clean, { mode: 0o600 });
    if (g.json) printJson(io, { written: output });
    else println(io.err, `Wrote ${output}`);
  } else io.out.write(clean.endsWith('\n') ? clean : `${clean}\n`);
}

async function timelineCommand(runId: string, opts: TimelineOptions, g: GlobalOptions, io: Io): Promise<number> {
  const { events, tornTail, badLines } = await load(runId, g, io);
  const { renderTimeline } = await import('../../timeline/export/index.js');
  const text = renderTimeline(events, {
    format: g.json && opts.format === 'md' ? 'json' : opts.format,
    ...(opts.seconds ? { seconds: true } : {}),
    ...(opts.tz ? { tz: opts.tz } : {}),
    ...(opts.all ? { all: true } : {}),
  });
  emit(io, text, opts.output, g);
  if (tornTail || badLines.length) println(io.err, `note: ignored ${tornTail ? 'a torn last line' : ''}${tornTail && badLines.length ? ' and ' : ''}${badLines.length ? `unreadable line(s) ${badLines.join(', ')}` : ''} (a crash mid-write).`);
  return EXIT.ok;
}

async function postmortemCommand(runId: string, opts: Omit<TimelineOptions, 'format'>, g: GlobalOptions, io: Io): Promise<number> {
  const { events } = await load(runId, g, io);
  const { renderPostmortem } = await import('../../timeline/export/index.js');
  emit(io, renderPostmortem(events, { ...(opts.seconds ? { seconds: true } : {}), ...(opts.tz ? { tz: opts.tz } : {}) }), opts.output, g);
  return EXIT.ok;
}

async function noteCommand(runId: string, text: string, o: { faultAt?: string; incident?: string }, g: GlobalOptions, io: Io): Promise<number> {
  const input = operatorNote(text, { ...(o.faultAt ? { faultAt: o.faultAt } : {}), ...(o.incident ? { incidentId: o.incident } : {}) });
  const redactor = createRedactor();
  const store = await openStore(g, io.env, io.cwd, redactor.redact);
  const run = store.open(runId);
  try {
    const e = run.record(input);
    if (g.json) printJson(io, e);
    else println(io.out, `Noted on ${runId} at ${e.ts} by ${e.actor}.`);
  } finally {
    run.close();
  }
  return EXIT.ok;
}
