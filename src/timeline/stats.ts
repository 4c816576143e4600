import type { EventType, TimelineEvent } from './events.js';

/**
 * The figures a postmortem quotes: time to detection (fault start → incident.detected), time to
 * recovery (fault start, or detection when no fault start is known → incident.resolved), total
 * duration, steps run / rolled back. Pure over the event stream; `data` is read defensively
 * because runs recorded by older versions may lack fields or carry other shapes.
 */

export const TERMINAL_TYPES: readonly EventType[] = [
  'run.completed',
  'run.failed',
  'run.aborted',
  'run.interrupted',
  'run.rolled-back',
];

/**
 * Where an incident's fault start came from: the incident event itself, the sandbox's fault
 * record, an operator's note, or a note from elsewhere (a step's ctx.record).
 */
export type FaultSource = 'incident' | 'sandbox' | 'operator' | 'note';

export interface IncidentStats {
  incidentId: string;
  summary: string;
  guardId: string | null;
  stepId: string | null;
  faultAt: string | null;
  faultSource: FaultSource | null;
  detectedAt: string | null;
  resolvedAt: string | null;
  /** fault start → detection; null without a recorded fault start. */
  ttdMs: number | null;
  /** basis → resolution; null while unresolved. */
  ttrMs: number | null;
  ttrBasis: 'fault' | 'detection' | null;
}

export type RunOutcome = 'completed' | 'failed' | 'aborted' | 'interrupted' | 'rolled-back' | 'in-progress';

export interface RunStats {
  runId: string | null;
  startedAt: string | null;
  endedAt: string | null;
  /** Wall time from the first event to the run's end (or to the last event while in progress). */
  durationMs: number | null;
  outcome: RunOutcome;
  steps: {
    /** Distinct steps that started at least once. */
    run: number;
    completed: number;
    failed: number;
    skipped: number;
    described: number;
    retries: number;
    rolledBack: number;
    rollbackFailed: number;
  };
  incidents: IncidentStats[];
  /** The first incident's figures, which is what the one-incident postmortem quotes. */
  ttdMs: number | null;
  ttrMs: number | null;
  ttrBasis: 'fault' | 'detection' | null;
}

export function tsMs(ts: unknown): number | null {
  if (typeof ts !== 'string') return null;
  const ms = Date.parse(ts);
  return Number.isFinite(ms) ? ms : null;
}

/** A plain object, or {} for anything else: `data` from older runs can be any shape. */
export function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function dataOf(e: TimelineEvent): Record<string, unknown> {
  return obj(e.data);
}

export function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

export function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function isoOrNull(v: unknown): string | null {
  const ms = tsMs(v);
  return ms === null ? null : new Date(ms).toISOString();
}

function outcomeOf(type: EventType | undefined): RunOutcome {
  return type === undefined ? 'in-progress' : (type.slice('run.'.length) as RunOutcome);
}

export function computeStats(events: readonly TimelineEvent[]): RunStats {
  const sorted = sortEvents(events);
  const first = sorted.find((e) => e.type === 'run.started') ?? sorted[0];
  const terminal = [...sorted].reverse().find((e) => TERMINAL_TYPES.includes(e.type));
  // A resumed run ends again later; only a terminal event after the last resume ends it.
  const lastResume = [...sorted].reverse().find((e) => e.type === 'run.resumed');
  const ended = terminal && (!lastResume || terminal.seq > lastResume.seq) ? terminal : undefined;
  const last = sorted[sorted.length - 1];
  const startMs = tsMs(first?.ts);
  const endMs = tsMs((ended ?? last)?.ts);
  const incidents = computeIncidents(sorted);
  const primary = incidents[0];
  return {
    runId: first?.runId ?? null,
    startedAt: startMs === null ? null : new Date(startMs).toISOString(),
    endedAt: ended ? isoOrNull(ended.ts) : null,
    durationMs: startMs !== null && endMs !== null ? Math.max(0, endMs - startMs) : null,
    outcome: outcomeOf(ended?.type),
    steps: countSteps(sorted),
    incidents,
    ttdMs: primary?.ttdMs ?? null,
    ttrMs: primary?.ttrMs ?? null,
    ttrBasis: primary?.ttrBasis ?? null,
  };
}

/** By seq (the store's order); events without a usable seq keep their position. */
export function sortEvents(events: readonly TimelineEvent[]): TimelineEvent[] {
  return events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (num(a.e.seq) ?? a.i) - (num(b.e.seq) ?? b.i) || a.i - b.i)
    .map((x) => x.e);
}

function countSteps(events: readonly TimelineEvent[]): RunStats['steps'] {
  const ids = (type: EventType): Set<string> =>
    new Set(events.filter((e) => e.type === type && e.stepId).map((e) => e.stepId as string));
  const completed = ids('step.completed');
  // A step that failed and then completed on a later attempt or resume did not fail in the end.
  const failed = [...ids('step.failed')].filter((id) => !completed.has(id));
  const rolledBack = ids('rollback.step.completed');
  return {
    run: ids('step.started').size,
    completed: completed.size,
    failed: failed.length,
    skipped: ids('step.skipped').size,
    described: ids('step.described').size,
    retries: events.filter((e) => e.type === 'step.retrying').length,
    rolledBack: rolledBack.size,
    rollbackFailed: [...ids('rollback.step.failed')].filter((id) => !rolledBack.has(id)).length,
  };
}

interface FaultRecord {
  atMs: number;
  incidentId: string | null;
  source: FaultSource;
}

/**
 * Fault starts recorded outside the incident event: the sandbox's fault record or an operator's
 * note (`data.faultAt`, or `data.fault: true` meaning "at the time of this note").
 */
export function faultRecords(events: readonly TimelineEvent[]): FaultRecord[] {
  const out: FaultRecord[] = [];
  for (const e of events) {
    if (e.type !== 'note') continue;
    const d = dataOf(e);
    const atMs = tsMs(d.faultAt) ?? (d.fault === true ? tsMs(e.ts) : null);
    const source = str(d.source);
    if (atMs !== null) {
      out.push({
        atMs,
        incidentId: str(d.incidentId),
        source: source === 'sandbox' || source === 'operator' ? source : 'note',
      });
    }
  }
  return out;
}

interface OpenIncident {
  stats: IncidentStats;
  detectedMs: number | null;
}

function computeIncidents(events: readonly TimelineEvent[]): IncidentStats[] {
  const byId = new Map<string, OpenIncident>();
  const order: OpenIncident[] = [];
  let anonymous = 0;
  const latestOpen = (): OpenIncident | undefined =>
    [...order].reverse().find((o) => o.stats.resolvedAt === null);

  for (const e of events) {
    if (e.type !== 'incident.detected' && e.type !== 'incident.resolved') continue;
    const d = dataOf(e);
    const id = str(d.incidentId);
    if (e.type === 'incident.detected') {
      const incidentId = id ?? `incident-${++anonymous}`;
      const faultMs = tsMs(d.faultAt);
      const o: OpenIncident = {
        detectedMs: tsMs(e.ts),
        stats: {
          incidentId,
          summary: str(d.summary) ?? e.message,
          guardId: str(d.guardId),
          stepId: e.stepId ?? null,
          faultAt: faultMs === null ? null : new Date(faultMs).toISOString(),
          faultSource: faultMs === null ? null : 'incident',
          detectedAt: isoOrNull(e.ts),
          resolvedAt: null,
          ttdMs: null,
          ttrMs: null,
          ttrBasis: null,
        },
      };
      byId.set(incidentId, o);
      order.push(o);
    } else {
      // Older runs may not carry an id: the resolution then closes the latest open incident.
      const o = (id !== null ? byId.get(id) : undefined) ?? latestOpen();
      if (o && o.stats.resolvedAt === null) o.stats.resolvedAt = isoOrNull(e.ts);
    }
  }
  attachNoteFaults(order, faultRecords(events));
  return order.map(finish);
}

/**
 * A note-recorded fault belongs to the incident it names, else to the first incident detected
 * at or after it (and not to a later one, so one fault is never counted twice).
 */
function attachNoteFaults(incidents: OpenIncident[], faults: FaultRecord[]): void {
  const unused = [...faults].sort((a, b) => a.atMs - b.atMs);
  for (const o of incidents) {
    if (o.stats.faultAt !== null) continue;
    let idx = unused.findIndex((f) => f.incidentId === o.stats.incidentId);
    if (idx < 0 && o.detectedMs !== null) {
      const d = o.detectedMs;
      idx = unused.findIndex((f) => f.incidentId === null && f.atMs <= d);
    }
    const f = idx >= 0 ? unused.splice(idx, 1)[0] : undefined;
    if (f) {
      o.stats.faultAt = new Date(f.atMs).toISOString();
      o.stats.faultSource = f.source;
    }
  }
}

function finish(o: OpenIncident): IncidentStats {
  const s = o.stats;
  const faultMs = tsMs(s.faultAt);
  const resolvedMs = tsMs(s.resolvedAt);
  const detectedMs = o.detectedMs;
  s.ttdMs = faultMs !== null && detectedMs !== null ? Math.max(0, detectedMs - faultMs) : null;
  const basis = faultMs ?? detectedMs;
  if (resolvedMs !== null && basis !== null) {
    s.ttrMs = Math.max(0, resolvedMs - basis);
    s.ttrBasis = faultMs !== null ? 'fault' : 'detection';
  }
  return s;
}


