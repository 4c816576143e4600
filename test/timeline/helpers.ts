import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TimelineEvent } from '../../src/timeline/events.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/timelines/', import.meta.url));
export const GOLDEN = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));

export const FIXTURE_NAMES = ['eks-1.20-clean', 'eks-1.20-incident', 'eks-1.20-rolled-back'] as const;
export type FixtureName = (typeof FIXTURE_NAMES)[number];

/** Reads timeline.jsonl text the way the store does: a torn last line is dropped. */
export function parseJsonl(text: string): TimelineEvent[] {
  const lines = text.split('\n');
  const tail = lines.pop() ?? '';
  const out = lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as TimelineEvent);
  if (tail.trim() !== '') {
    try {
      out.push(JSON.parse(tail) as TimelineEvent);
    } catch {
      // torn by a crash mid-write: ignored, as the store's reader does
    }
  }
  return out;
}

export function loadFixture(name: FixtureName): TimelineEvent[] {
  return parseJsonl(readFileSync(`${FIXTURES}${name}.jsonl`, 'utf8'));
}

/** A fresh event with sane defaults, for scenario tests that build timelines inline. */
export function ev(
  seq: number,
  ts: string,
  type: TimelineEvent['type'],
  rest: Partial<Omit<TimelineEvent, 'seq' | 'ts' | 'type'>> = {},
): TimelineEvent {
  return { seq, ts, type, runId: 'run-1', actor: 'alice@laptop', message: rest.message ?? type, ...rest };
}
