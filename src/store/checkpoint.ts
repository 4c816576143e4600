import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { RunbookError } from '../errors.js';
import { writeFileAtomic } from './fs.js';

export const STEP_STATUSES = [
  'pending',
  'running',
  'completed',
  'failed',
  'skipped',
  'described',
  'rolled-back',
  'rollback-failed',
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const RUN_STATUSES = [
  'running',
  'completed',
  'failed',
  'aborted',
  'interrupted',
  'rolled-back',
  'rollback-incomplete',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

const stepStateSchema = z.object({
  status: z.enum(STEP_STATUSES),
  attempts: z.number().int().nonnegative(),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  output: z.unknown().optional(),
  error: z.string().optional(),
  /** Values a step asked to remember (ctx.remember), written before they are used. */
  memo: z.record(z.string(), z.unknown()).default({}),
  /** Order in which steps completed: rollback runs in reverse of this. */
  completedSeq: z.number().int().optional(),
});
export type StepState = z.infer<typeof stepStateSchema>;

export const checkpointSchema = z.object({
  version: z.literal(1),
  runId: z.string(),
  runbook: z.object({
    id: z.string(),
    title: z.string(),
    file: z.string(),
    sourceHash: z.string(),
    /** id → title/mutates, to say what changed if the file changes before a resume. */
    steps: z.array(z.object({ id: z.string(), title: z.string(), mutates: z.boolean() })),
  }),
  params: z.record(z.string(), z.unknown()),
  target: z.record(z.string(), z.string()),
  mode: z.object({ dryRun: z.boolean(), sandbox: z.boolean() }),
  status: z.enum(RUN_STATUSES),
  createdAt: z.string(),
  updatedAt: z.string(),
  actor: z.string(),
  steps: z.record(z.string(), stepStateSchema),
  /** Known fixes the operator deliberately skipped: id → reason. */
  overrides: z.record(z.string(), z.string()).default({}),
  completedCounter: z.number().int().default(0),
  /**
   * The last timeline seq this checkpoint includes. The timeline is the write-ahead log: events
   * after it are replayed on open (see replayTimeline), so a checkpoint may lag a little.
   */
  seq: z.number().int().nonnegative().default(0),
  /** Set while a rollback is running or after it ended. */
  rollback: z
    .object({ status: z.enum(['running', 'completed', 'blocked', 'incomplete']), reason: z.string() })
    .optional(),
});
export type Checkpoint = z.infer<typeof checkpointSchema>;

export function readCheckpoint(path: string): Checkpoint {
  if (!existsSync(path)) {
    throw new RunbookError('RUN_NOT_FOUND', `No checkpoint at ${path}.`, {
      hint: 'List runs with `runbook runs` and pass one of their ids.',
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw corrupt(path, e instanceof Error ? e.message : String(e));
  }
  const parsed = checkpointSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw corrupt(path, first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'invalid');
  }
  return parsed.data;
}

function corrupt(path: string, why: string): RunbookError {
  return new RunbookError('CHECKPOINT_CORRUPT', `Checkpoint ${path} is unreadable (${why}).`, {
    hint:
      'It was not written by this tool or was edited by hand. The timeline next to it (timeline.jsonl) ' +
      'still tells what happened: `runbook timeline <run-id>`. Start a new run after checking the cluster by hand.',
  });
}

export function writeCheckpoint(path: string, cp: Checkpoint): void {
  writeFileAtomic(path, `${JSON.stringify(cp)}\n`);
}

/**
 * Bring a checkpoint up to date from the timeline events recorded after it (the WAL replay).
 * A step.completed event carries its output when it is small; one without an output (a large
 * output whose checkpoint write did not happen) leaves the step in flight, to be re-probed.
 */
export function replayTimeline(cp: Checkpoint, events: readonly { seq: number; ts: string; type: string; stepId?: string; data?: Record<string, unknown> }[]): Checkpoint {
  const out: Checkpoint = structuredClone(cp);
  for (const e of events) {
    if (e.seq <= cp.seq) continue;
    const data = e.data ?? {};
    if (e.type === 'fix.overridden' && typeof data.fixId === 'string') out.overrides[data.fixId] = typeof data.reason === 'string' ? data.reason : '';
    if (!e.stepId || e.stepId.startsWith('guard.')) continue;
    const s = (out.steps[e.stepId] ??= { status: 'pending', attempts: 0, memo: {} });
    switch (e.type) {
      case 'step.started':
        s.status = 'running';
        s.attempts = typeof data.attempt === 'number' ? data.attempt : s.attempts + 1;
        s.startedAt = e.ts;
        break;
      case 'step.completed':
        if ('output' in data) {
          s.status = 'completed';
          s.output = data.output;
          s.endedAt = e.ts;
          s.completedSeq = ++out.completedCounter;
        } else if (s.status !== 'completed') s.status = 'running';
        break;
      case 'step.failed':
        s.status = 'failed';
        s.endedAt = e.ts;
        s.error = typeof data.error === 'string' ? data.error : 'failed';
        break;
      case 'step.skipped':
        s.status = 'skipped';
        s.endedAt = e.ts;
        break;
      case 'step.described':
        s.status = 'described';
        break;
      case 'rollback.step.completed':
        s.status = 'rolled-back';
        break;
      case 'rollback.step.failed':
        s.status = 'rollback-failed';
        break;
    }
  }
  return out;
}
