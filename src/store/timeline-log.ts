import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { TimelineEvent } from '../timeline/events.js';
import { isEventType } from '../timeline/events.js';

/**
 * Append-only event log: one write() + fsync per event, so an event the operator saw on screen
 * is on disk. A crash mid-write leaves at most a torn last line, which readers drop.
 */
export class TimelineLog {
  private fd: number | null;
  /** File size after our last write: if it grew behind our back, another process appended. */
  private size: number;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  /**
   * Appends the event `make(lastSeq)` builds. `runbook note` may append to a live run from
   * another process (O_APPEND keeps lines whole); when that happened, the next seq continues
   * after the newest line on disk instead of colliding with it.
   */
  append(make: (seenSeq: number | null) => TimelineEvent): TimelineEvent {
    if (this.fd === null) throw new Error(`timeline ${this.path} is closed`);
    const now = fstatSync(this.fd).size;
    const seen = now !== this.size ? lastSeq(this.path) : null;
    const event = make(seen);
    const line = `${JSON.stringify(event)}\n`;
    writeSync(this.fd, line);
    fsyncSync(this.fd);
    this.size = now + Buffer.byteLength(line);
    return event;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

export interface TimelineRead {
  events: TimelineEvent[];
  /** The last line was cut short by a crash and was ignored. */
  tornTail: boolean;
  /** Lines in the middle that were not valid events (should never happen; reported, skipped). */
  badLines: number[];
}

export function readTimeline(path: string): TimelineRead {
  if (!existsSync(path)) return { events: [], tornTail: false, badLines: [] };
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  // A complete file ends with "\n", so the final element is "" — anything else is a torn tail.
  const tail = lines.pop() ?? '';
  const events: TimelineEvent[] = [];
  const badLines: number[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const ev = parseEvent(line);
    if (ev) events.push(ev);
    else if (i === lines.length - 1 && tail === '') badLines.push(i + 1);
    else badLines.push(i + 1);
  });
  return { events, tornTail: tail.trim() !== '', badLines };
}

function parseEvent(line: string): TimelineEvent | null {
  try {
    const v = JSON.parse(line) as Partial<TimelineEvent>;
    if (typeof v.seq === 'number' && typeof v.ts === 'string' && isEventType(v.type)) return v as TimelineEvent;
    return null;
  } catch {
    return null;
  }
}

/** Where the next append would start; a torn tail is overwritten by starting a fresh line. */
export function repairTornTail(path: string): boolean {
  if (!existsSync(path)) return false;
  const text = readFileSync(path, 'utf8');
  if (text === '' || text.endsWith('\n')) return false;
  const fd = openSync(path, 'a', 0o600);
  try {
    // Terminate the torn line so the next event starts clean; readers skip the bad line.
    writeSync(fd, '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

export function lastSeq(path: string): number {
  return readTimeline(path).events.reduce((m, e) => Math.max(m, e.seq), 0);
}
