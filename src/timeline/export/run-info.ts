import type { TimelineEvent } from '../events.js';
import type { RunStats } from '../stats.js';
import { dataOf, obj, sortEvents, str } from '../stats.js';
import { formatTarget } from './describe.js';

/** What run.started says about the run, read defensively (older runs may lack any of it). */
export interface RunFacts {
  runId: string | null;
  runbookId: string | null;
  runbookTitle: string | null;
  target: Record<string, string>;
  params: Record<string, unknown>;
  rehearsal: 'sandbox' | 'dry-run' | null;
  startedBy: string | null;
}

export function runFacts(events: readonly TimelineEvent[]): RunFacts {
  const sorted = sortEvents(events);
  const started = sorted.find((e) => e.type === 'run.started');
  const d = started ? dataOf(started) : {};
  const rb = obj(d.runbook);
  const mode = obj(d.mode);
  const target: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(d.target))) {
    if (typeof v === 'string' || typeof v === 'number') target[k] = String(v);
  }
  return {
    runId: started?.runId ?? sorted[0]?.runId ?? null,
    runbookId: str(rb.id),
    runbookTitle: str(rb.title),
    target,
    params: obj(d.params),
    rehearsal: mode.sandbox === true ? 'sandbox' : mode.dryRun === true ? 'dry-run' : null,
    startedBy: started?.actor ?? null,
  };
}

const OUTCOME_WORDS: Record<RunStats['outcome'], string> = {
  completed: 'completed',
  failed: 'failed',
  aborted: 'aborted',
  interrupted: 'interrupted',
  'rolled-back': 'failed and rolled back',
  'in-progress': 'in progress',
};

export function outcomeWords(outcome: RunStats['outcome']): string {
  return OUTCOME_WORDS[outcome];
}

/** "Run `id`: eks-1.20 on cluster prod-eu, region eu-west-1 — completed." */
export function runHeadline(events: readonly TimelineEvent[], stats: RunStats, style: 'md' | 'text'): string {
  const f = runFacts(events);
  const id = f.runId ?? 'unknown';
  const runId = style === 'md' ? `\`${id.replace(/`/g, "'")}\`` : id;
  const target = formatTarget(f.target);
  const rehearsal = f.rehearsal ? ` (rehearsal: ${f.rehearsal === 'sandbox' ? 'sandbox' : 'dry run'})` : '';
  return `Run ${runId}: ${f.runbookId ?? 'runbook'}${target ? ` on ${target}` : ''}${rehearsal} — ${outcomeWords(stats.outcome)}.`;
}
