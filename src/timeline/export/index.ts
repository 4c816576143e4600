import { RunbookError } from '../../errors.js';
import type { TimelineEvent } from '../events.js';
import { Redactor } from '../redact.js';
import { renderCsv } from './csv.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderMarkdown } from './markdown.js';
import { renderMermaid } from './mermaid.js';
import { resolveTimeFormat } from './time.js';

export const TIMELINE_FORMATS = ['md', 'json', 'csv', 'mermaid', 'html'] as const;
export type TimelineFormat = (typeof TIMELINE_FORMATS)[number];

export interface RenderTimelineOptions {
  format: TimelineFormat;
  /** `HH:MM:SS` instead of `HH:MM` (md, html, csv's `time` column). */
  seconds?: boolean;
  /** IANA zone to show times in (default UTC); named in the header. */
  tz?: string;
  /** Every event in the md/html table, not only postmortem-worthy ones. json and csv always hold all. */
  all?: boolean;
  /**
   * Scrubs every event before rendering. The store already redacts on write; this second pass
   * (default: the built-in patterns) catches runs recorded before a pattern existed.
   */
  redactor?: Redactor;
}

export function isTimelineFormat(v: unknown): v is TimelineFormat {
  return typeof v === 'string' && (TIMELINE_FORMATS as readonly string[]).includes(v);
}

/** Throws RunbookError('USAGE') naming the accepted formats. */
export function parseTimelineFormat(v: string): TimelineFormat {
  if (isTimelineFormat(v)) return v;
  throw new RunbookError('USAGE', `Unknown timeline format "${v}".`, {
    hint: `Use one of: ${TIMELINE_FORMATS.join(', ')}.`,
  });
}

export function redactEvents(events: readonly TimelineEvent[], redactor?: Redactor): TimelineEvent[] {
  const r = redactor ?? new Redactor();
  return events.map((e) => r.redact(e));
}

/** `runbook timeline <run-id> --format …`: the whole output as one string. Pure. */
export function renderTimeline(events: readonly TimelineEvent[], opts: RenderTimelineOptions): string {
  const format = parseTimelineFormat(opts.format);
  const fmt = resolveTimeFormat(opts);
  const safe = redactEvents(events, opts.redactor);
  const all = opts.all === true;
  switch (format) {
    case 'md':
      return renderMarkdown(safe, fmt, all);
    case 'json':
      return renderJson(safe);
    case 'csv':
      return renderCsv(safe, fmt);
    case 'mermaid':
      return renderMermaid(safe, fmt);
    case 'html':
      return renderHtml(safe, fmt, all);
  }
}

export { renderPostmortem } from '../postmortem.js';
export type { PostmortemRunInfo } from '../postmortem.js';
export { timelineJsonSchema, buildTimelineExport, TIMELINE_FORMAT, TIMELINE_FORMAT_VERSION } from './json.js';
export type { TimelineExport } from './json.js';
export { describeEvent, isPostmortemWorthy } from './describe.js';
