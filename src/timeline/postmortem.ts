import type { TimelineEvent } from './events.js';
import { formatTarget, oneLine } from './export/describe.js';
import { markdownStats, markdownTable, mdCell } from './export/markdown.js';
import { runFacts, outcomeWords } from './export/run-info.js';
import type { TimeFormat } from './export/time.js';
import { formatMs, formatTs, resolveTimeFormat } from './export/time.js';
import { Redactor } from './redact.js';
import type { IncidentStats, RunStats } from './stats.js';
import { formatDuration } from '../format.js';
import { computeStats, dataOf, obj, sortEvents, str, tsMs } from './stats.js';

/**
 * `runbook postmortem <run-id>`: a Markdown draft in the seed postmortem's section order. It
 * fills in what the run knows and marks what only people know with `_TODO(topic): …_`, so a
 * reviewer can grep for what is left. It states facts, never causes: "the fix was missing" is a
 * fact; "the missing fix caused the outage" is for the review to conclude.
 */

export interface PostmortemRunInfo {
  runId?: string;
  /** From the loaded runbook or the checkpoint; run.started supplies these when absent. */
  runbook?: { id: string; title?: string };
  /** Redacted params from the checkpoint (run.started's copy is used when absent). */
  params?: Record<string, unknown>;
  target?: Record<string, string>;
  /** Known fixes the runbook declares, to name them by title and source. */
  knownFixes?: readonly { id: string; title: string; source?: string }[];
  tz?: string;
  seconds?: boolean;
  /** Every event in the Timeline section, not only the postmortem-worthy ones. */
  all?: boolean;
  redactor?: Redactor;
}

export function todo(topic: string, text: string): string {
  return `_TODO(${topic}): ${text}_`;
}

type FixStatus = 'verified' | 'missing' | 'overridden' | 'applied';

interface FixFacts {
  fixId: string;
  title: string | null;
  status: FixStatus;
  message: string;
  findings: Record<string, unknown>[];
  overriddenBy: string | null;
}

/** The last word on each fix: missing then verified means the run applied it. */
function fixFacts(events: readonly TimelineEvent[]): FixFacts[] {
  const byId = new Map<string, FixFacts>();
  for (const e of events) {
    if (!e.type.startsWith('fix.')) continue;
    const d = dataOf(e);
    const fixId = str(d.fixId) ?? e.stepId ?? 'unnamed-fix';
    const prev = byId.get(fixId);
    const f: FixFacts = prev ?? { fixId, title: null, status: 'verified', message: '', findings: [], overriddenBy: null };
    f.title = str(d.title) ?? f.title;
    if (e.type === 'fix.missing') {
      f.status = 'missing';
      f.message = e.message;
      if (Array.isArray(d.findings)) f.findings = d.findings.map(obj);
    } else if (e.type === 'fix.overridden') {
      f.status = 'overridden';
      f.overriddenBy = e.actor;
    } else if (e.type === 'fix.verified') {
      f.status = prev && prev.status === 'missing' ? 'applied' : prev?.status === 'applied' ? 'applied' : 'verified';
      if (f.status === 'verified') f.message = e.message;
    }
    byId.set(fixId, f);
  }
  return [...byId.values()];
}

interface StepFailure {
  stepId: string;
  title: string;
  error: string | null;
  at: string;
}

function failedSteps(events: readonly TimelineEvent[]): StepFailure[] {
  const completed = new Set(events.filter((e) => e.type === 'step.completed').map((e) => e.stepId));
  return events
    .filter((e) => e.type === 'step.failed' && e.stepId && !completed.has(e.stepId))
    .map((e) => {
      const d = dataOf(e);
      const err: unknown = d.error;
      const error = typeof err === 'string' ? err : str(obj(err).message);
      return { stepId: e.stepId as string, title: str(d.title) ?? (e.stepId as string), error: error ? oneLine(error) : null, at: e.ts };
    });
}

function rolledBack(events: readonly TimelineEvent[]): { done: string[]; failed: string[]; blocked: TimelineEvent[] } {
  const ids = (t: TimelineEvent['type']): string[] => [
    ...new Set(events.filter((e) => e.type === t && e.stepId).map((e) => e.stepId as string)),
  ];
  return { done: ids('rollback.step.completed'), failed: ids('rollback.step.failed'), blocked: events.filter((e) => e.type === 'rollback.blocked') };
}

/** Kubernetes versions: params whose name says version, and step outputs that report a from/to. */
function versions(events: readonly TimelineEvent[], params: Record<string, unknown>): string[] {
  const out = new Set<string>();
  for (const [k, v] of Object.entries(params)) {
    if (/version/i.test(k) && (typeof v === 'string' || typeof v === 'number')) out.add(`${k} ${String(v)}`);
  }
  for (const e of events) {
    if (e.type !== 'step.completed') continue;
    const o = obj(dataOf(e).output);
    const from = str(o.fromVersion);
    const to = str(o.toVersion);
    if (from && to) out.add(`${from} → ${to} (${e.stepId ?? 'step'})`);
  }
  return [...out];
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

function clockOf(iso: string | null, fmt: TimeFormat): string {
  const ms = tsMs(iso);
  return ms === null ? '?' : formatMs(ms, { ...fmt, seconds: true });
}

function incidentLine(i: IncidentStats, fmt: TimeFormat): string {
  const ttd = i.ttdMs === null ? 'TTD unknown (no fault start recorded)' : `TTD ${formatDuration(i.ttdMs)}`;
  const ttr = i.ttrMs === null ? 'unresolved' : `TTR ${formatDuration(i.ttrMs)} from ${i.ttrBasis === 'fault' ? 'fault start' : 'detection'}`;
  const during = i.stepId ? ` during ${code(i.stepId)}` : '';
  return `${mdCell(i.summary)}${during}: detected ${clockOf(i.detectedAt, fmt)}, ${i.resolvedAt ? `resolved ${clockOf(i.resolvedAt, fmt)}` : 'never resolved'} (${ttd}, ${ttr})`;
}

function fixLine(f: FixFacts, declared: PostmortemRunInfo['knownFixes']): string {
  const decl = declared?.find((d) => d.id === f.fixId);
  const name = `${code(f.fixId)}${decl?.title ?? f.title ? ` (${mdCell(decl?.title ?? f.title ?? '')})` : ''}`;
  const source = decl?.source ? ` — from ${mdCell(decl.source)}` : '';
  switch (f.status) {
    case 'verified':
      return `${name}: verified in place${source}`;
    case 'applied':
      return `${name}: missing at preflight, applied by the run${source}`;
    case 'missing':
      return `${name}: **missing**${f.message ? ` — ${mdCell(f.message)}` : ''}${source}`;
    case 'overridden':
      return `${name}: **missing and overridden by ${f.overriddenBy ?? 'someone'}**${f.message ? ` — ${mdCell(f.message)}` : ''}${source}`;
  }
}

function findingLines(f: FixFacts): string[] {
  const shown = f.findings.slice(0, 10).map(
    (row) =>
      `  - ${Object.entries(row)
        .map(([k, v]) => `${mdCell(k)}: ${mdCell(typeof v === 'string' ? v : JSON.stringify(v) ?? '')}`)
        .join(', ')}`,
  );
  if (f.findings.length > 10) shown.push(`  - … and ${f.findings.length - 10} more (see the json export)`);
  return shown;
}

interface Ctx {
  events: TimelineEvent[];
  stats: RunStats;
  fmt: TimeFormat;
  info: PostmortemRunInfo;
  facts: ReturnType<typeof runFacts>;
  params: Record<string, unknown>;
  fixes: FixFacts[];
  failures: StepFailure[];
  rollback: ReturnType<typeof rolledBack>;
}

function summary(c: Ctx): string[] {
  const runbookId = c.info.runbook?.id ?? c.facts.runbookId ?? 'unknown runbook';
  const title = c.info.runbook?.title ?? c.facts.runbookTitle;
  const target = formatTarget(c.info.target ?? c.facts.target);
  const start = tsMs(c.stats.startedAt);
  const end = tsMs(c.stats.endedAt);
  const when =
    start === null
      ? 'unknown'
      : `${formatMs(start, c.fmt)} → ${end === null ? 'still running' : formatMs(end, c.fmt)} ${c.fmt.tz} (${formatDuration(c.stats.durationMs)})`;
  const lines = [
    '## Summary',
    '',
    `- **What:** runbook ${code(runbookId)}${title ? ` (${mdCell(title)})` : ''}${target ? ` on ${mdCell(target)}` : ''}.`,
    `- **When:** ${when}${c.facts.startedBy ? `, started by ${c.facts.startedBy}` : ''}.`,
  ];
  if (c.facts.rehearsal === 'sandbox') lines.push('- **Rehearsal:** yes, against the simulated sandbox world; nothing real was changed.');
  if (c.facts.rehearsal === 'dry-run') lines.push('- **Rehearsal:** yes, a dry run; mutating steps were described, not executed.');
  const vs = versions(c.events, c.params);
  if (vs.length) lines.push(`- **Versions:** ${vs.map(mdCell).join('; ')}.`);
  lines.push(`- **Outcome:** ${outcomeWords(c.stats.outcome)}.`);
  lines.push(
    `- **Incidents:** ${c.stats.incidents.length === 0 ? 'none recorded.' : String(c.stats.incidents.length)}`,
    ...c.stats.incidents.map((i) => `  - ${incidentLine(i, c.fmt)}`),
  );
  if (c.failures.length) lines.push(`- **Failed steps:** ${c.failures.map((f) => `${code(f.stepId)} (${mdCell(f.title)})`).join(', ')}.`);
  if (c.rollback.done.length || c.rollback.failed.length || c.rollback.blocked.length) {
    const parts = [];
    if (c.rollback.done.length) parts.push(`rolled back ${c.rollback.done.map(code).join(', ')}`);
    if (c.rollback.failed.length) parts.push(`rollback failed for ${c.rollback.failed.map(code).join(', ')}`);
    for (const b of c.rollback.blocked) parts.push(`stopped at ${code(b.stepId ?? '?')}`);
    lines.push(`- **Rollback:** ${parts.join('; ')}.`);
  }
  if (c.fixes.length) lines.push('- **Known fixes:**', ...c.fixes.map((f) => `  - ${fixLine(f, c.info.knownFixes)}`));
  lines.push('', todo('summary', 'impact — which services, how many requests failed and for how long, who noticed first, how customers were told.'));
  return lines;
}

function contributing(c: Ctx): string[] {
  const facts: string[] = [];
  for (const f of c.fixes.filter((x) => x.status === 'missing' || x.status === 'overridden')) {
    facts.push(`- Known fix ${code(f.fixId)} was missing at preflight${f.status === 'overridden' ? ` and the run went ahead on ${f.overriddenBy ?? 'someone'}'s override` : ''}. Findings:`);
    facts.push(...findingLines(f));
  }
  for (const f of c.failures) {
    facts.push(`- Step ${code(f.stepId)} (${mdCell(f.title)}) failed at ${formatTs(f.at, { ...c.fmt, seconds: true })}${f.error ? `: ${mdCell(f.error)}` : '.'}`);
  }
  for (const i of c.stats.incidents) facts.push(`- Incident ${code(i.incidentId)}: ${incidentLine(i, c.fmt)}.`);
  for (const b of c.rollback.blocked) facts.push(`- Rollback stopped at ${code(b.stepId ?? '?')}: ${mdCell(b.message)}`);
  for (const id of c.rollback.failed) facts.push(`- The rollback hook of ${code(id)} failed; the world may be half-way.`);
  if (facts.length === 0) facts.push('- The run recorded no failed step, incident, rollback or missing known fix.');
  return [
    '## Contributing Factors',
    '',
    'What the run recorded (facts to start from, not conclusions):',
    '',
    ...facts,
    '',
    todo('analysis', 'why did each of these happen? What made it possible, and why was it not caught earlier?'),
  ];
}

function actionItems(c: Ctx): string[] {
  const owner = `${todo('owner', 'who')} | ${todo('due', 'when')} | ${todo('ticket', 'link')}`;
  const rows: string[] = [];
  for (const f of c.fixes.filter((x) => x.status === 'missing' || x.status === 'overridden')) {
    rows.push(`| Apply known fix ${code(f.fixId)} wherever it is missing before the next run | ${owner} |`);
  }
  for (const f of c.failures) rows.push(`| Find why ${code(f.stepId)} failed; make the runbook check for it or handle it | ${owner} |`);
  for (const b of c.rollback.blocked) rows.push(`| Finish by hand what rollback could not undo at ${code(b.stepId ?? '?')} | ${owner} |`);
  for (const id of c.rollback.failed) rows.push(`| Verify and repair the state left by the failed rollback of ${code(id)} | ${owner} |`);
  for (const i of c.stats.incidents) {
    rows.push(`| Turn incident ${code(i.incidentId)} into a known fix or a preflight check so it cannot recur | ${owner} |`);
    if (i.ttdMs === null) rows.push(`| Record when incident ${code(i.incidentId)}'s fault began, so time to detection can be measured | ${owner} |`);
  }
  rows.push(`| ${todo('actions', 'what else must change?')} | ${owner} |`);
  return ['## Action Items', '', '| Action | Owner | Due | Ticket |', '| --- | --- | --- | --- |', ...rows];
}

function attendees(c: Ctx): string[] {
  const roles = new Map<string, Set<string>>();
  const add = (who: string, role: string): void => {
    if (!who) return;
    const set = roles.get(who) ?? new Set<string>();
    set.add(role);
    roles.set(who, set);
  };
  for (const e of c.events) {
    if (e.type === 'run.started') add(e.actor, 'started the run');
    else if (e.type === 'run.resumed') add(e.actor, 'resumed the run');
    else if (e.type === 'approval.granted') add(e.actor, 'approved steps');
    else if (e.type === 'approval.refused' || e.type === 'approval.skipped') add(e.actor, 'refused or skipped steps');
    else if (e.type === 'fix.overridden') add(e.actor, 'overrode a known fix');
    else if (e.type === 'run.aborted') add(e.actor, 'aborted the run');
    else if (e.type === 'note' && str(dataOf(e).source) === 'operator') add(e.actor, 'wrote notes');
  }
  const people = [...roles].map(([who, r]) => `- ${mdCell(who)} — ${[...r].join(', ')}`);
  return [
    '## Attendees',
    '',
    ...(people.length ? ['People the run recorded:', '', ...people, ''] : []),
    todo('people', 'who attended the review; the incident commander; who communicated with customers.'),
  ];
}

export function renderPostmortem(events: readonly TimelineEvent[], runInfo: PostmortemRunInfo = {}): string {
  const redactor = runInfo.redactor ?? new Redactor();
  const safe = sortEvents(events.map((e) => redactor.redact(e)));
  const fmt = resolveTimeFormat(runInfo);
  const stats = computeStats(safe);
  const facts = runFacts(safe);
  const params = redactor.redact(runInfo.params ?? facts.params);
  const c: Ctx = {
    events: safe,
    stats,
    fmt,
    info: runInfo,
    facts,
    params,
    fixes: fixFacts(safe),
    failures: failedSteps(safe),
    rollback: rolledBack(safe),
  };
  const runId = runInfo.runId ?? facts.runId ?? 'unknown';
  const target = facts.target.cluster ?? Object.values(runInfo.target ?? facts.target)[0];
  const day = tsMs(stats.startedAt);
  const heading = `# Postmortem (draft): ${runInfo.runbook?.id ?? facts.runbookId ?? 'run'}${target ? ` on ${target}` : ''}${day === null ? '' : `, ${formatMs(day, fmt).slice(0, 10)}`}`;
  const zone = fmt.tz === 'UTC' ? 'UTC' : fmt.tz;
  return [
    heading,
    '',
    `> Drafted by \`runbook postmortem\` from run ${code(runId)}. Facts come from the run's timeline; every _TODO(…)_ needs a person. Times in ${zone}.`,
    '',
    ...summary(c),
    '',
    '## Timeline',
    '',
    markdownTable(safe, fmt, runInfo.all === true),
    '',
    todo('timeline', 'add what happened outside the run (alerts, customer reports, chat) with `runbook note`.'),
    '',
    ...contributing(c),
    '',
    ...actionItems(c),
    '',
    '## Lessons Learned',
    '',
    todo('people', 'what went well, what went wrong, where we got lucky.'),
    '',
    ...attendees(c),
    '',
    markdownStats(stats, fmt),
    '',
  ].join('\n');
}

