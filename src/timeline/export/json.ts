import { z } from 'zod';
import type { TimelineEvent } from '../events.js';
import { EVENT_TYPES } from '../events.js';
import type { RunStats } from '../stats.js';
import { computeStats, sortEvents } from '../stats.js';

/**
 * `runbook timeline --format json`: the whole event stream plus the computed stats, in an
 * envelope with a format name and version so a consumer can tell what it reads. The zod schema
 * below is the single source of docs/timeline.schema.json (a test keeps the two equal).
 * Version 1 may gain optional fields and event types (the published schema allows extra
 * properties so a consumer validating against it keeps working); anything else is version 2.
 */
export const TIMELINE_FORMAT = 'runbook-timeline';
export const TIMELINE_FORMAT_VERSION = 1;

// Exports always write Date#toISOString(): UTC, milliseconds.
const iso = z.iso.datetime({ precision: 3 });
const nullableIso = iso.nullable();
const ms = z.number().int().min(0);

export const exportedEventSchema = z
  .object({
    seq: z.number().int().min(1).describe('1-based, gapless within a run; a gap means a lost line.'),
    ts: iso.describe('UTC with milliseconds, e.g. 2026-11-25T16:25:12.345Z.'),
    type: z.enum(EVENT_TYPES).describe('Event type; new types may be added in version 1.'),
    runId: z.string(),
    actor: z.string().describe('user@host of whoever caused the event (the approver for approvals).'),
    stepId: z.string().optional(),
    message: z.string().describe('One line a human who was not there can read.'),
    data: z.record(z.string(), z.unknown()).optional().describe('Type-specific details; see docs/timeline.md.'),
  })
  .meta({ title: 'TimelineEvent' });

const incidentSchema = z.object({
  incidentId: z.string(),
  summary: z.string(),
  guardId: z.string().nullable(),
  stepId: z.string().nullable(),
  faultAt: nullableIso,
  faultSource: z.enum(['incident', 'sandbox', 'operator', 'note']).nullable(),
  detectedAt: nullableIso,
  resolvedAt: nullableIso,
  ttdMs: ms.nullable().describe('Fault start → detection; null without a recorded fault start.'),
  ttrMs: ms.nullable().describe('ttrBasis → resolution; null while unresolved.'),
  ttrBasis: z.enum(['fault', 'detection']).nullable(),
});

const statsSchema = z
  .object({
    runId: z.string().nullable(),
    startedAt: nullableIso,
    endedAt: nullableIso,
    durationMs: ms.nullable(),
    outcome: z.enum(['completed', 'failed', 'aborted', 'interrupted', 'rolled-back', 'in-progress']),
    steps: z.object({
      run: ms,
      completed: ms,
      failed: ms,
      skipped: ms,
      described: ms,
      retries: ms,
      rolledBack: ms,
      rollbackFailed: ms,
    }),
    incidents: z.array(incidentSchema),
    ttdMs: ms.nullable(),
    ttrMs: ms.nullable(),
    ttrBasis: z.enum(['fault', 'detection']).nullable(),
  })
  .meta({ title: 'RunStats' });

export const timelineExportSchema = z
  .object({
    format: z.literal(TIMELINE_FORMAT),
    version: z.literal(TIMELINE_FORMAT_VERSION),
    runId: z.string().nullable(),
    events: z.array(exportedEventSchema).describe('Every recorded event, in seq order.'),
    stats: statsSchema,
  })
  .meta({
    $id: 'https://upgrade-runbook.local/schemas/timeline.schema.json',
    title: 'Runbook timeline export',
    description: 'Output of `runbook timeline <run-id> --format json`. See docs/timeline.md.',
  });

export type TimelineExport = z.infer<typeof timelineExportSchema>;

// Compile-time guard: the schema and the stats code must not drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _statsMatch: Same<z.infer<typeof statsSchema>, RunStats> = true;
void _statsMatch;

/** The JSON Schema document published as docs/timeline.schema.json. */
export function timelineJsonSchema(): Record<string, unknown> {
  return allowExtraProperties(z.toJSONSchema(timelineExportSchema, { target: 'draft-2020-12' }));
}

/**
 * zod closes every object (`additionalProperties: false`); the published schema must stay open
 * so that adding an optional field in version 1 does not fail consumers' validation.
 */
function allowExtraProperties<T>(node: T): T {
  if (Array.isArray(node)) return node.map(allowExtraProperties) as T;
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'additionalProperties' && v === false) continue;
    out[k] = allowExtraProperties(v);
  }
  return out as T;
}

/** Key order fixed and odd shapes from older runs coerced, so the output always fits the schema. */
function exportEvent(e: TimelineEvent, index: number): z.infer<typeof exportedEventSchema> {
  const ts = typeof e.ts === 'string' && Number.isFinite(Date.parse(e.ts)) ? new Date(Date.parse(e.ts)).toISOString() : new Date(0).toISOString();
  const data: unknown = e.data;
  return {
    seq: Number.isInteger(e.seq) && e.seq >= 1 ? e.seq : index + 1,
    ts,
    type: e.type,
    runId: String(e.runId ?? ''),
    actor: String(e.actor ?? 'unknown'),
    ...(typeof e.stepId === 'string' ? { stepId: e.stepId } : {}),
    message: String(e.message ?? ''),
    ...(data !== null && typeof data === 'object' && !Array.isArray(data) ? { data: data as Record<string, unknown> } : {}),
  };
}

export function buildTimelineExport(events: readonly TimelineEvent[]): TimelineExport {
  const stats = computeStats(events);
  return {
    format: TIMELINE_FORMAT,
    version: TIMELINE_FORMAT_VERSION,
    runId: stats.runId,
    events: sortEvents(events).map(exportEvent),
    stats,
  };
}

export function renderJson(events: readonly TimelineEvent[]): string {
  return `${JSON.stringify(buildTimelineExport(events), null, 2)}\n`;
}
