import type { TimelineEvent } from '../events.js';
import { computeStats, dataOf, sortEvents, str, tsMs } from '../stats.js';

/**
 * The picture both the Mermaid and the SVG Gantt draw: one bar per step execution (attempt),
 * one per rollback hook, one per incident, and milestones for the moments that have no length.
 */

export type BarKind = 'step' | 'rollback' | 'incident';
export type BarStatus = 'done' | 'failed' | 'running' | 'interrupted' | 'retried';

export interface GanttBar {
  kind: BarKind;
  /** Step id, or incident id. */
  id: string;
  label: string;
  startMs: number;
  endMs: number;
  status: BarStatus;
  mutates: boolean | null;
}

export interface GanttMilestone {
  label: string;
  atMs: number;
  kind: 'fault' | 'detected' | 'resolved' | 'failure' | 'blocked';
}

/** The section of the chart a milestone is drawn in (failures are rules only). */
export function milestoneSection(m: GanttMilestone): BarKind | null {
  if (m.kind === 'blocked') return 'rollback';
  if (m.kind === 'failure') return null;
  return 'incident';
}

export interface GanttModel {
  startMs: number;
  endMs: number;
  bars: GanttBar[];
  milestones: GanttMilestone[];
}

interface Open {
  bar: GanttBar;
}

const STEP_ENDS: Partial<Record<TimelineEvent['type'], BarStatus>> = {
  'step.completed': 'done',
  'step.failed': 'failed',
  'step.retrying': 'retried',
};

export function buildGantt(events: readonly TimelineEvent[]): GanttModel | null {
  const sorted = sortEvents(events).filter((e) => tsMs(e.ts) !== null);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  if (!first || !last) return null;
  const startMs = tsMs(first.ts) as number;
  const endMs = tsMs(last.ts) as number;

  const bars: GanttBar[] = [];
  const milestones: GanttMilestone[] = [];
  const openSteps = new Map<string, Open>();
  const openRollbacks = new Map<string, Open>();

  const close = (map: Map<string, Open>, key: string, atMs: number, status: BarStatus): void => {
    const o = map.get(key);
    if (!o) return;
    o.bar.endMs = Math.max(o.bar.startMs, atMs);
    o.bar.status = status;
    map.delete(key);
  };

  for (const e of sorted) {
    const at = tsMs(e.ts) as number;
    const stepId = e.stepId ?? '(no step)';
    const d = dataOf(e);
    const label = str(d.title) ?? e.stepId ?? e.message;
    const stepEnd = STEP_ENDS[e.type];
    if (e.type === 'step.started') {
      // A second start without an end means the first attempt was cut off (crash, resume).
      close(openSteps, stepId, at, 'interrupted');
      const bar: GanttBar = {
        kind: 'step',
        id: stepId,
        label,
        startMs: at,
        endMs: at,
        status: 'running',
        mutates: typeof d.mutates === 'boolean' ? d.mutates : null,
      };
      bars.push(bar);
      openSteps.set(stepId, { bar });
    } else if (stepEnd) {
      close(openSteps, stepId, at, stepEnd);
      if (e.type === 'step.failed') milestones.push({ label: `${label} failed`, atMs: at, kind: 'failure' });
    } else if (e.type === 'rollback.step.started') {
      const bar: GanttBar = { kind: 'rollback', id: stepId, label: `Undo: ${label}`, startMs: at, endMs: at, status: 'running', mutates: true };
      bars.push(bar);
      openRollbacks.set(stepId, { bar });
    } else if (e.type === 'rollback.step.completed') {
      close(openRollbacks, stepId, at, 'done');
    } else if (e.type === 'rollback.step.failed') {
      close(openRollbacks, stepId, at, 'failed');
    } else if (e.type === 'rollback.blocked') {
      milestones.push({ label: `Rollback stopped at ${label}`, atMs: at, kind: 'blocked' });
    } else if (e.type === 'run.interrupted' || e.type === 'run.aborted') {
      for (const key of [...openSteps.keys()]) close(openSteps, key, at, 'interrupted');
      for (const key of [...openRollbacks.keys()]) close(openRollbacks, key, at, 'interrupted');
    }
  }
  // Still open at the end of the record: drawn up to the last event, marked running.
  for (const o of [...openSteps.values(), ...openRollbacks.values()]) o.bar.endMs = endMs;

  addIncidents(events, bars, milestones, endMs);
  const allMs = [startMs, endMs, ...milestones.map((m) => m.atMs), ...bars.flatMap((b) => [b.startMs, b.endMs])];
  return { startMs: Math.min(...allMs), endMs: Math.max(...allMs), bars, milestones };
}

function addIncidents(events: readonly TimelineEvent[], bars: GanttBar[], milestones: GanttMilestone[], endMs: number): void {
  for (const inc of computeStats(events).incidents) {
    const faultMs = tsMs(inc.faultAt);
    const detectedMs = tsMs(inc.detectedAt);
    const resolvedMs = tsMs(inc.resolvedAt);
    const from = faultMs ?? detectedMs;
    if (from === null) continue;
    bars.push({
      kind: 'incident',
      id: inc.incidentId,
      label: `Incident: ${inc.summary}`,
      startMs: from,
      endMs: resolvedMs ?? endMs,
      status: resolvedMs === null ? 'running' : 'done',
      mutates: null,
    });
    if (faultMs !== null) milestones.push({ label: 'Fault starts', atMs: faultMs, kind: 'fault' });
    if (detectedMs !== null) milestones.push({ label: 'Incident detected', atMs: detectedMs, kind: 'detected' });
    if (resolvedMs !== null) milestones.push({ label: 'Incident resolved', atMs: resolvedMs, kind: 'resolved' });
  }
}
