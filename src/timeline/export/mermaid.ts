import type { TimelineEvent } from '../events.js';
import { computeStats } from '../stats.js';
import type { GanttBar, GanttMilestone } from './gantt.js';
import { buildGantt, milestoneSection } from './gantt.js';
import { runFacts } from './run-info.js';
import type { TimeFormat } from './time.js';
import { wallParts } from './time.js';

/**
 * A ```mermaid gantt block that GitHub and Confluence render. Mermaid reads dates as naive local
 * times, so we write wall-clock times of the chosen zone (UTC by default) and name the zone in
 * the title; every bar then sits where the table says it does.
 */

const DATE_FORMAT = 'YYYY-MM-DD HH:mm:ss';

/** Words the gantt lexer takes as statements at the start of a line. */
const KEYWORDS = /^(?:title|section|dateformat|axisformat|tickinterval|excludes|includes|todaymarker|weekday|weekend|click|call|acctitle|accdescr|inclusiveenddates|topaxis|gantt)\b/i;

/**
 * A task name ends at `:`; `#` and `;` end a statement and `%%` starts a comment in Mermaid's
 * grammar, so they are replaced by look-alikes that are plain text to the parser.
 */
export function mermaidText(text: string, max = 70): string {
  let t = text
    .replace(/[\r\n]+/g, ' ')
    .replace(/:/g, ' -')
    .replace(/#/g, 'No.')
    .replace(/;/g, ',')
    .replace(/%/g, ' pct')
    .replace(/[{}<>`]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (t.length > max) t = `${t.slice(0, max - 1).trimEnd()}…`;
  if (t === '') t = 'step';
  return KEYWORDS.test(t) ? `Step - ${t}` : t;
}

function mermaidDate(ms: number, tz: string): string {
  const p = wallParts(ms, tz);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

function tagsOf(bar: GanttBar): string[] {
  if (bar.kind === 'incident') return bar.status === 'running' ? ['crit', 'active'] : ['crit'];
  switch (bar.status) {
    case 'done':
      return ['done'];
    case 'failed':
      return ['crit', 'done'];
    case 'running':
      return ['active'];
    case 'retried':
    case 'interrupted':
      return ['done'];
  }
}

function statusSuffix(bar: GanttBar): string {
  if (bar.status === 'failed') return ' (failed)';
  if (bar.status === 'retried') return ' (retried)';
  if (bar.status === 'interrupted') return ' (interrupted)';
  if (bar.status === 'running') return bar.kind === 'incident' ? ' (open)' : ' (running)';
  return '';
}

/** Bars shorter than Mermaid's one-second resolution would vanish. */
function barLine(bar: GanttBar, id: string, tz: string): string {
  const end = Math.max(bar.endMs, bar.startMs + 1000);
  const tags = [...tagsOf(bar), id].join(', ');
  return `    ${mermaidText(bar.label + statusSuffix(bar))} :${tags}, ${mermaidDate(bar.startMs, tz)}, ${mermaidDate(end, tz)}`;
}

function milestoneLine(m: GanttMilestone, id: string, tz: string): string {
  const crit = m.kind === 'fault' || m.kind === 'detected' || m.kind === 'blocked' ? 'crit, ' : '';
  return `    ${mermaidText(m.label)} :${crit}milestone, ${id}, ${mermaidDate(m.atMs, tz)}, 0s`;
}

export function renderMermaid(events: readonly TimelineEvent[], fmt: TimeFormat): string {
  const model = buildGantt(events);
  const facts = runFacts(events);
  const stats = computeStats(events);
  const title = mermaidText(
    `${facts.runbookId ?? 'run'} ${Object.values(facts.target).join(' ')} - ${stats.outcome} - times ${fmt.tz}`,
    100,
  );
  const shortRun = model !== null && model.endMs - model.startMs < 20 * 60_000;
  const lines = [
    '```mermaid',
    'gantt',
    `    title ${title}`,
    `    dateFormat ${DATE_FORMAT}`,
    `    axisFormat ${shortRun || fmt.seconds ? '%H:%M:%S' : '%H:%M'}`,
    // A past run has no "today"; Mermaid would draw a red line at the reader's now.
    '    todayMarker off',
  ];
  if (model) {
    const sections: [string, GanttBar['kind']][] = [
      ['Steps', 'step'],
      ['Rollback', 'rollback'],
      ['Incidents', 'incident'],
    ];
    for (const [name, kind] of sections) {
      const bars = model.bars.filter((b) => b.kind === kind);
      const ms = model.milestones.filter((m) => milestoneSection(m) === kind);
      if (bars.length === 0 && ms.length === 0) continue;
      lines.push(`    section ${name}`);
      bars.forEach((b, i) => lines.push(barLine(b, `${kind[0]}${i + 1}`, fmt.tz)));
      ms.forEach((m, i) => lines.push(milestoneLine(m, `m${kind[0]}${i + 1}`, fmt.tz)));
    }
  }
  lines.push('```', '');
  return lines.join('\n');
}
