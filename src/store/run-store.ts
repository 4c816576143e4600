import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RunbookError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import { isoUtc } from '../ports/clock.js';
import type { EventInput, TimelineEvent } from '../timeline/events.js';
import type { Checkpoint, StepState } from './checkpoint.js';
import { readCheckpoint, replayTimeline, writeCheckpoint } from './checkpoint.js';
import { ensureDir } from './fs.js';
import { readTimeline, repairTornTail, TimelineLog } from './timeline-log.js';

export type Redact = <T>(value: T) => T;

export interface StoreOptions {
  stateDir: string;
  clock: Clock;
  /** user@host of the operator running this process. */
  actor: string;
  /** Scrubs secrets from every timeline event before it touches disk. */
  redact?: Redact;
}

/** The state dir: `runs/<run-id>/{run.json,timeline.jsonl,artefacts/}` and `locks/`. */
export class RunStore {
  readonly runsDir: string;
  readonly locksDir: string;

  constructor(readonly opts: StoreOptions) {
    this.runsDir = join(opts.stateDir, 'runs');
    this.locksDir = join(opts.stateDir, 'locks');
  }

  newRunId(runbookId: string): string {
    const stamp = isoUtc(this.opts.clock.now()).replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    return `${stamp}-${runbookId.replace(/[^A-Za-z0-9.-]+/g, '-')}-${randomBytes(2).toString('hex')}`;
  }

  create(checkpoint: Omit<Checkpoint, 'createdAt' | 'updatedAt' | 'actor' | 'seq'>): Run {
    const dir = join(this.runsDir, checkpoint.runId);
    ensureDir(join(dir, 'artefacts'));
    const now = isoUtc(this.opts.clock.now());
    const cp: Checkpoint = { ...checkpoint, seq: 0, createdAt: now, updatedAt: now, actor: this.opts.actor };
    const run = new Run(dir, cp, this.opts, 0);
    run.save();
    return run;
  }

  open(runId: string): Run {
    const dir = this.runDir(runId);
    const cp = readCheckpoint(join(dir, 'run.json'));
    const timelinePath = join(dir, 'timeline.jsonl');
    repairTornTail(timelinePath);
    const { events } = readTimeline(timelinePath);
    const lastSeq = events.reduce((m, e) => Math.max(m, e.seq), 0);
    return new Run(dir, replayTimeline(cp, events), this.opts, lastSeq);
  }

  runDir(runId: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(runId)) {
      throw new RunbookError('RUN_NOT_FOUND', `"${runId}" is not a run id.`, {
        hint: 'Run ids look like 20261125T162512Z-eks-1.20-ab12; list them with `runbook runs`.',
      });
    }
    const dir = join(this.runsDir, runId);
    if (!existsSync(join(dir, 'run.json'))) {
      throw new RunbookError('RUN_NOT_FOUND', `No run ${runId} in ${this.runsDir}.`, {
        hint: 'List runs with `runbook runs` (and check --state-dir / RUNBOOK_STATE_DIR).',
      });
    }
    return dir;
  }

  /** Run ids, newest first. */
  list(): string[] {
    if (!existsSync(this.runsDir)) return [];
    return readdirSync(this.runsDir)
      .filter((d) => existsSync(join(this.runsDir, d, 'run.json')))
      .sort()
      .reverse();
  }
}

export class Run {
  readonly id: string;
  readonly artefactsDir: string;
  private readonly log: TimelineLog;
  /** Listeners (renderer, notifier) hear an event only after it is on disk. */
  private readonly listeners: ((e: TimelineEvent) => void)[] = [];
  private lastSave = 0;
  private dirty = false;

  constructor(
    readonly dir: string,
    public checkpoint: Checkpoint,
    private readonly opts: StoreOptions,
    private seq: number,
  ) {
    this.id = checkpoint.runId;
    this.artefactsDir = join(dir, 'artefacts');
    ensureDir(this.artefactsDir);
    this.log = new TimelineLog(join(dir, 'timeline.jsonl'));
  }

  get timelinePath(): string {
    return join(this.dir, 'timeline.jsonl');
  }

  onEvent(listener: (e: TimelineEvent) => void): void {
    this.listeners.push(listener);
  }

  record(input: EventInput): TimelineEvent {
    const redact = this.opts.redact ?? ((v) => v);
    const event = this.log.append((seen) => {
      if (seen !== null) this.seq = Math.max(this.seq, seen);
      return redact(this.build(input));
    });
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // a renderer or notifier bug must not lose the run: the event is already durable
      }
    }
    return event;
  }

  private build(input: EventInput): TimelineEvent {
    return {
      seq: ++this.seq,
      ts: isoUtc(this.opts.clock.now()),
      type: input.type,
      runId: this.id,
      actor: input.actor ?? this.opts.actor,
      ...(input.stepId !== undefined ? { stepId: input.stepId } : {}),
      message: input.message,
      ...(input.data !== undefined ? { data: input.data } : {}),
    };
  }

  step(id: string): StepState {
    let s = this.checkpoint.steps[id];
    if (!s) {
      s = { status: 'pending', attempts: 0, memo: {} };
      this.checkpoint.steps[id] = s;
    }
    return s;
  }

  /** Apply a change to the checkpoint and make it durable before returning. */
  update(change: (cp: Checkpoint) => void, opts: { deferrable?: boolean } = {}): void {
    change(this.checkpoint);
    // Group commit: when the change is already durable in the timeline (an event that carries
    // it), the checkpoint may lag by up to SAVE_INTERVAL_MS; a resume replays the rest.
    if (opts.deferrable && this.opts.clock.now() - this.lastSave < SAVE_INTERVAL_MS) {
      this.dirty = true;
      return;
    }
    this.save();
  }

  /** Write the checkpoint if a deferred change is pending. */
  flush(): void {
    if (this.dirty) this.save();
  }

  save(): void {
    this.checkpoint.updatedAt = isoUtc(this.opts.clock.now());
    this.checkpoint.seq = this.seq;
    // Not redacted: a resume needs the exact params and remembered values (an idempotency
    // token scrubbed to "[REDACTED]" would start a second upgrade). run.json is private state
    // (0600, never exported); everything people read comes from the redacted timeline.
    writeCheckpoint(join(this.dir, 'run.json'), this.checkpoint);
    this.lastSave = this.opts.clock.now();
    this.dirty = false;
  }

  events(): TimelineEvent[] {
    return readTimeline(this.timelinePath).events;
  }

  close(): void {
    this.flush();
    this.log.close();
  }
}

/** How far a checkpoint may lag the timeline (only for changes the timeline already holds). */
const SAVE_INTERVAL_MS = 250;
