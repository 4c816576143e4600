import type { TimelineEvent } from '../events.js';
import type { RunStats } from '../stats.js';
import { computeStats, sortEvents } from '../stats.js';
import { describeEvent, isPostmortemWorthy } from './describe.js';
import { runHeadline } from './run-info.js';
import type { StatItem } from './stats-lines.js';
import { statItems } from './stats-lines.js';
import type { TimeFormat } from './time.js';
import { formatTs } from './time.js';

/** A table cell: one line, pipes escaped, and `<` escaped so a note cannot open an HTML tag. */
export function mdCell(text: string): string {
  return text
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/</g, '\\<')
    .trim();
}

export function selectEvents(events: readonly TimelineEvent[], all: boolean): TimelineEvent[] {
  const sorted = sortEvents(events);
  return all ? sorted : sorted.filter(isPostmortemWorthy);
}

/** The `| Time | Event |` table of the seed postmortem. */
export function markdownTable(events: readonly TimelineEvent[], fmt: TimeFormat, all: boolean): string {
  const head = fmt.tz === 'UTC' ? '| Time | Event |' : `| Time (${mdCell(fmt.tz)}) | Event |`;
  const rows = selectEvents(events, all).map((e) => `| ${mdCell(formatTs(e.ts, fmt))} | ${mdCell(describeEvent(e))} |`);
  return [head, '| --- | --- |', ...rows].join('\n');
}

function itemLines(items: readonly StatItem[], depth: number): string[] {
  const pad = '  '.repeat(depth);
  return items.flatMap((i) => [
    `${pad}- **${i.label}:** ${i.value}${i.detail ? ` — ${i.detail}` : ''}`,
    ...itemLines(i.children ?? [], depth + 1),
  ]);
}

export function markdownStats(stats: RunStats, fmt: TimeFormat): string {
  return ['## Stats', '', ...itemLines(statItems(stats, fmt), 0)].join('\n');
}

export function renderMarkdown(events: readonly TimelineEvent[], fmt: TimeFormat, all: boolean): string {
  const stats = computeStats(events);
  const zone = fmt.tz === 'UTC' ? 'Times in UTC.' : `Times in ${fmt.tz}.`;
  return [
    `${runHeadline(events, stats, 'md')} ${zone}`,
    '',
    markdownTable(events, fmt, all),
    '',
    markdownStats(stats, fmt),
    '',
  ].join('\n');
}
