import { RunbookError } from '../../errors.js';

/**
 * Timestamps as a postmortem writes them: `2026-11-25 16:25` in UTC by default (the seed
 * postmortem's format), optionally with seconds, optionally in another IANA zone. Intl does the
 * zone arithmetic so there is no date library and DST is right.
 */
export interface TimeFormat {
  seconds: boolean;
  /** IANA zone name; 'UTC' by default. */
  tz: string;
}

export function resolveTimeFormat(opts: { seconds?: boolean; tz?: string }): TimeFormat {
  const tz = opts.tz === undefined || opts.tz === '' ? 'UTC' : opts.tz;
  assertTimeZone(tz);
  return { seconds: opts.seconds === true, tz };
}

export function assertTimeZone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new RunbookError('USAGE', `Unknown time zone "${tz}".`, {
      hint: 'Use an IANA zone name such as UTC, Europe/Berlin or America/New_York.',
    });
  }
}

interface Parts {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function partsIn(ms: number, tz: string): Parts {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(tz, f);
  }
  const p: Record<string, string> = {};
  for (const { type, value } of f.formatToParts(new Date(ms))) p[type] = value;
  return {
    year: p.year ?? '0000',
    month: p.month ?? '00',
    day: p.day ?? '00',
    hour: p.hour ?? '00',
    minute: p.minute ?? '00',
    second: p.second ?? '00',
  };
}

/** `YYYY-MM-DD HH:MM[:SS]` in the format's zone; an unparseable timestamp is shown as recorded. */
export function formatTs(ts: string, fmt: TimeFormat): string {
  const ms = Date.parse(ts);
  if (!Number.isFinite(ms)) return ts;
  return formatMs(ms, fmt);
}

export function formatMs(ms: number, fmt: TimeFormat): string {
  const p = partsIn(ms, fmt.tz);
  const hm = `${p.hour}:${p.minute}${fmt.seconds ? `:${p.second}` : ''}`;
  return `${p.year}-${p.month}-${p.day} ${hm}`;
}

/** Clock time only (for stats lines that already named the day). */
export function formatClock(ms: number, fmt: TimeFormat, seconds = true): string {
  const p = partsIn(ms, fmt.tz);
  return `${p.hour}:${p.minute}${seconds ? `:${p.second}` : ''}`;
}

/** Wall time in the zone, for renderers that need numbers (the Mermaid dates). */
export function wallParts(ms: number, tz: string): Parts {
  return partsIn(ms, tz);
}
