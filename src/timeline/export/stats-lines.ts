import type { FaultSource, IncidentStats, RunStats } from '../stats.js';
import { formatDuration } from '../../format.js';
import { tsMs } from '../stats.js';
import type { TimeFormat } from './time.js';
import { formatClock } from './time.js';
import { outcomeWords } from './run-info.js';

/**
 * The Stats section as label/value/detail items, so Markdown, HTML and the postmortem say the
 * same thing in the same words. Each figure states its basis: a TTR "from detection" is not
 * comparable with one "from the fault's start", and a postmortem must not mix them silently.
 */
export interface StatItem {
  label: string;
  value: string;
  detail: string;
  /** Sub-items (one per incident when there are several). */
  children?: StatItem[];
}

const FAULT_SOURCE: Record<FaultSource, string> = {
  incident: 'recorded with the incident',
  sandbox: "from the sandbox's fault record",
  operator: 'from an operator note',
  note: 'from a note',
};

function clock(iso: string | null, fmt: TimeFormat): string {
  const ms = tsMs(iso);
  return ms === null ? '?' : `${formatClock(ms, fmt)} ${fmt.tz}`;
}

function ttdItem(i: IncidentStats, fmt: TimeFormat): StatItem {
  if (i.ttdMs === null || i.faultSource === null) {
    return {
      label: 'Time to detection',
      value: 'unknown',
      detail: `no fault start recorded; detected at ${clock(i.detectedAt, fmt)}. Record when the fault began with a note carrying faultAt.`,
    };
  }
  return {
    label: 'Time to detection',
    value: formatDuration(i.ttdMs),
    detail: `fault start ${clock(i.faultAt, fmt)} ${FAULT_SOURCE[i.faultSource]} → incident detected ${clock(i.detectedAt, fmt)}`,
  };
}

function ttrItem(i: IncidentStats, fmt: TimeFormat): StatItem {
  if (i.ttrMs === null) {
    return { label: 'Time to recovery', value: 'unresolved', detail: 'no incident.resolved recorded' };
  }
  const basis = i.ttrBasis === 'fault' ? 'fault start' : 'detection, as no fault start was recorded,';
  return {
    label: 'Time to recovery',
    value: formatDuration(i.ttrMs),
    detail: `from ${basis} to incident resolved ${clock(i.resolvedAt, fmt)}`,
  };
}

function incidentItems(stats: RunStats, fmt: TimeFormat): StatItem[] {
  const incidents = stats.incidents;
  const [only] = incidents;
  if (!only) {
    return [{ label: 'Incidents', value: 'none', detail: 'no incident recorded, so no time to detection or recovery' }];
  }
  if (incidents.length === 1) {
    return [{ label: 'Incidents', value: '1', detail: only.summary }, ttdItem(only, fmt), ttrItem(only, fmt)];
  }
  return [
    {
      label: 'Incidents',
      value: String(incidents.length),
      detail: 'each with its own figures',
      children: incidents.map((i) => ({
        label: i.incidentId,
        value: i.summary,
        detail: '',
        children: [ttdItem(i, fmt), ttrItem(i, fmt)],
      })),
    },
  ];
}

function durationItem(stats: RunStats, fmt: TimeFormat): StatItem {
  const start = tsMs(stats.startedAt);
  const span =
    start === null
      ? ''
      : `${formatClock(start, fmt, false)} → ${stats.endedAt ? formatClock(tsMs(stats.endedAt) ?? start, fmt, false) : 'now'} ${fmt.tz}, `;
  const outcome = stats.outcome === 'in-progress' ? 'still in progress, so far' : `run ${outcomeWords(stats.outcome)}`;
  return { label: 'Total duration', value: formatDuration(stats.durationMs), detail: `${span}${outcome}` };
}

function stepsItem(stats: RunStats): StatItem {
  const s = stats.steps;
  const parts = [`${s.completed} completed`, `${s.failed} failed`];
  if (s.skipped) parts.push(`${s.skipped} skipped`);
  if (s.described) parts.push(`${s.described} described (dry run)`);
  if (s.retries) parts.push(`${s.retries} ${s.retries === 1 ? 'retry' : 'retries'}`);
  const rb = `${s.rolledBack} rolled back${s.rollbackFailed ? `, ${s.rollbackFailed} rollback failed` : ''}`;
  return { label: 'Steps', value: `${s.run} run, ${rb}`, detail: parts.join(', ') };
}

export function statItems(stats: RunStats, fmt: TimeFormat): StatItem[] {
  return [...incidentItems(stats, fmt), durationItem(stats, fmt), stepsItem(stats)];
}
