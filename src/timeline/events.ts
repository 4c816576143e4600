/**
 * The one stream every renderer and exporter reads. One line of `timeline.jsonl` per event.
 * Adding a type is fine; renaming one breaks old runs' exports, so don't.
 */
export const EVENT_TYPES = [
  // the run as a whole
  'run.started',
  'run.resumed',
  'run.completed',
  'run.failed',
  'run.aborted',
  'run.interrupted',
  'run.rolled-back',
  // one step
  'step.started',
  'step.completed',
  'step.failed',
  'step.retrying',
  'step.skipped',
  'step.described',
  'step.probed',
  // a person decides
  'approval.requested',
  'approval.granted',
  'approval.skipped',
  'approval.refused',
  // fixes learned from earlier postmortems
  'fix.verified',
  'fix.missing',
  'fix.overridden',
  // compensation
  'rollback.started',
  'rollback.step.started',
  'rollback.step.completed',
  'rollback.step.failed',
  'rollback.blocked',
  'rollback.completed',
  // watchers
  'guard.started',
  'guard.stopped',
  'guard.error',
  'incident.detected',
  'incident.remediating',
  'incident.resolved',
  // free text from a step (ctx.record) or an operator (runbook note)
  'note',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export interface TimelineEvent {
  /** 1-based, gapless within a run; lets readers spot a lost line. */
  seq: number;
  /** UTC, millisecond precision: 2026-11-25T16:25:12.345Z */
  ts: string;
  type: EventType;
  runId: string;
  /** user@host of whoever caused the event (the operator for approvals and notes). */
  actor: string;
  stepId?: string;
  /** One line a human who was not there can read. */
  message: string;
  data?: Record<string, unknown>;
}

/** What a producer hands to the timeline; seq, ts, runId and actor are filled in by the store. */
export interface EventInput {
  type: EventType;
  message: string;
  stepId?: string;
  data?: Record<string, unknown>;
  actor?: string;
}

export function isEventType(t: unknown): t is EventType {
  return typeof t === 'string' && (EVENT_TYPES as readonly string[]).includes(t);
}
