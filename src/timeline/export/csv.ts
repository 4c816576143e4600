import type { TimelineEvent } from '../events.js';
import { sortEvents } from '../stats.js';
import { describeEvent } from './describe.js';
import type { TimeFormat } from './time.js';
import { formatTs } from './time.js';

/**
 * RFC 4180: CRLF line ends, fields with a comma, quote, CR or LF are quoted and quotes doubled.
 * Every event, in seq order: a spreadsheet filters better than we guess.
 */
export const CSV_COLUMNS = ['seq', 'ts', 'time', 'type', 'step_id', 'actor', 'summary', 'message', 'data'] as const;

/**
 * A cell that starts with = + - @ (or a tab/CR) is a formula to Excel and LibreOffice; an operator
 * note must not become one. The leading apostrophe is the conventional neutraliser (OWASP).
 */
function neutraliseFormula(v: string): string {
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

export function csvField(value: string): string {
  const v = neutraliseFormula(value);
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function renderCsv(events: readonly TimelineEvent[], fmt: TimeFormat): string {
  const header = CSV_COLUMNS.join(',');
  const rows = sortEvents(events).map((e) =>
    [
      String(e.seq),
      e.ts,
      formatTs(e.ts, fmt),
      e.type,
      e.stepId ?? '',
      e.actor ?? '',
      describeEvent(e),
      e.message ?? '',
      e.data === undefined ? '' : JSON.stringify(e.data),
    ]
      .map(csvField)
      .join(','),
  );
  return `${[header, ...rows].join('\r\n')}\r\n`;
}
