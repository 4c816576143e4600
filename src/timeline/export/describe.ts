import type { EventType, TimelineEvent } from '../events.js';
import { formatDuration } from '../../format.js';
import { dataOf, num, obj, str } from '../stats.js';

/**
 * What a timeline row says. The engine's `message` is written for a human already; this adds
 * what a postmortem reader needs and the message may not carry (who approved, how long a step
 * took, the error) and keeps each row to one line.
 */

/** Events that earn a line in a postmortem timeline when not exporting `--all`. */
const ALWAYS_WORTHY: ReadonlySet<EventType> = new Set<EventType>([
  'run.started',
  'run.resumed',
  'run.completed',
  'run.failed',
  'run.aborted',
  'run.interrupted',
  'run.rolled-back',
  'step.failed',
  'approval.granted',
  'approval.skipped',
  'approval.refused',
  'fix.verified',
  'fix.missing',
  'fix.overridden',
  'rollback.started',
  'rollback.step.started',
  'rollback.step.completed',
  'rollback.step.failed',
  'rollback.blocked',
  'rollback.completed',
  'guard.error',
  'incident.detected',
  'incident.remediating',
  'incident.resolved',
  'note',
]);

const MUTATING_WORTHY: ReadonlySet<EventType> = new Set<EventType>([
  'step.started',
  'step.completed',
  'step.retrying',
  'step.skipped',
  'step.described',
]);

export function isPostmortemWorthy(e: TimelineEvent): boolean {
  if (ALWAYS_WORTHY.has(e.type)) return true;
  if (!MUTATING_WORTHY.has(e.type)) return false;
  // An older run may not say whether the step mutates: show it rather than hide a change.
  return dataOf(e).mutates !== false;
}

/** Collapse whitespace so a multi-line message or error stays one row. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function titleOf(e: TimelineEvent): string {
  const d = dataOf(e);
  return str(d.title) ?? e.stepId ?? e.message;
}

function errorOf(e: TimelineEvent): string | null {
  const err: unknown = dataOf(e).error;
  if (typeof err === 'string') return err;
  if (err !== null && typeof err === 'object') {
    const m = (err as Record<string, unknown>).message;
    if (typeof m === 'string') return m;
  }
  return null;
}

function attemptSuffix(e: TimelineEvent): string {
  const attempt = num(dataOf(e).attempt);
  return attempt !== null && attempt > 1 ? `, attempt ${attempt}` : '';
}

function durationSuffix(e: TimelineEvent): string {
  const ms = num(dataOf(e).durationMs);
  return ms === null ? '' : ` (${formatDuration(ms)}${attemptSuffix(e)})`;
}

/** ` — <message>` unless the message only repeats what the row already says. */
function withMessage(head: string, e: TimelineEvent): string {
  const msg = withoutEchoedLabel(head, oneLine(e.message ?? ''));
  if (msg === '' || head.includes(msg)) return head;
  return `${head}: ${msg}`;
}

/**
 * Engine messages carry their own label ("Fix missing: …", "Resolved: …"); when the head
 * already says it, drop the label so a row does not read "MISSING: Fix missing: …".
 */
function withoutEchoedLabel(head: string, msg: string): string {
  const m = /^([A-Z][A-Za-z ,]{0,40}?)(?: \([^)]*\))?: (.+)$/.exec(msg);
  if (!m?.[1] || !m[2]) return msg;
  // The label's first word must be in the head ("Fix missing" under "Known fix … MISSING").
  const first = m[1].toLowerCase().split(/[ ,]+/)[0] ?? '';
  return first.length >= 3 && head.toLowerCase().includes(first) ? m[2] : msg;
}

function runStarted(e: TimelineEvent): string {
  const d = dataOf(e);
  const rb = obj(d.runbook);
  const id = str(rb.id);
  const title = str(rb.title);
  const runbook = id ? `runbook ${id}${title ? ` (${title})` : ''}` : 'runbook';
  const target = formatTarget(d.target);
  const mode = obj(d.mode);
  const rehearsal = mode.sandbox === true ? ' [rehearsal: sandbox]' : mode.dryRun === true ? ' [rehearsal: dry run]' : '';
  return `Run started by ${e.actor}: ${runbook}${target ? ` on ${target}` : ''}${rehearsal}`;
}

/** `cluster prod-eu, region eu-west-1` from the target params. */
export function formatTarget(target: unknown): string {
  if (target === null || typeof target !== 'object' || Array.isArray(target)) return '';
  return Object.entries(target as Record<string, unknown>)
    .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(', ');
}

function runEnded(verb: string, e: TimelineEvent): string {
  const ms = num(dataOf(e).durationMs);
  return withMessage(`${verb}${ms === null ? '' : ` after ${formatDuration(ms)}`}`, e);
}

type Describer = (e: TimelineEvent) => string;

const DESCRIBERS: Record<EventType, Describer> = {
  'run.started': runStarted,
  'run.resumed': (e) => withMessage(`Run resumed by ${e.actor}`, e),
  'run.completed': (e) => runEnded('Run completed', e),
  'run.failed': (e) => runEnded('Run failed', e),
  'run.aborted': (e) => runEnded(`Run aborted by ${e.actor}`, e),
  'run.interrupted': (e) => runEnded('Run interrupted', e),
  'run.rolled-back': (e) => runEnded('Run rolled back', e),
  'step.started': (e) => `Started: ${titleOf(e)}${attemptSuffix(e) ? ` (${attemptSuffix(e).slice(2)})` : ''}`,
  'step.completed': (e) => `Completed: ${titleOf(e)}${durationSuffix(e)}`,
  'step.failed': (e) => {
    const err = errorOf(e);
    return `Failed: ${titleOf(e)}${durationSuffix(e)}${err ? ` — ${oneLine(err)}` : ''}`;
  },
  'step.retrying': (e) => withMessage(`Retrying: ${titleOf(e)}${attemptSuffix(e) ? ` (${attemptSuffix(e).slice(2)})` : ''}`, e),
  'step.skipped': (e) => withMessage(`Skipped: ${titleOf(e)}`, e),
  'step.described': (e) => withMessage(`Not executed (dry run): ${titleOf(e)}`, e),
  'step.probed': (e) => withMessage(`Probed: ${titleOf(e)}`, e),
  'approval.requested': (e) => withMessage(`Approval requested: ${titleOf(e)}`, e),
  'approval.granted': (e) => `Approved by ${e.actor}: ${titleOf(e)}`,
  'approval.skipped': (e) => `Skipped by ${e.actor}: ${titleOf(e)}`,
  'approval.refused': (e) => `Refused by ${e.actor}: ${titleOf(e)}`,
  'fix.verified': (e) => withMessage(`Known fix ${fixId(e)} verified`, e),
  'fix.missing': (e) => withMessage(`Known fix ${fixId(e)} MISSING`, e),
  'fix.overridden': (e) => withMessage(`Known fix ${fixId(e)} overridden by ${e.actor}`, e),
  'rollback.started': (e) => withMessage('Rollback started', e),
  'rollback.step.started': (e) => `Rolling back: ${titleOf(e)}`,
  'rollback.step.completed': (e) => `Rolled back: ${titleOf(e)}${durationSuffix(e)}`,
  'rollback.step.failed': (e) => {
    const err = errorOf(e);
    return `Rollback failed: ${titleOf(e)}${err ? ` — ${oneLine(err)}` : ''}`;
  },
  'rollback.blocked': (e) => withMessage(`Rollback stopped at ${titleOf(e)}`, e),
  'rollback.completed': (e) => withMessage('Rollback finished', e),
  'guard.started': (e) => withMessage('Guard started', e),
  'guard.stopped': (e) => withMessage('Guard stopped', e),
  'guard.error': (e) => withMessage('Guard error', e),
  'incident.detected': (e) => `INCIDENT detected: ${oneLine(str(dataOf(e).summary) ?? e.message)}`,
  'incident.remediating': (e) => withMessage('Remediating', e),
  'incident.resolved': (e) => {
    const ms = num(dataOf(e).durationMs);
    return withMessage(`Incident resolved${ms === null ? '' : ` after ${formatDuration(ms)}`}`, e);
  },
  note: (e) => {
    const source = str(dataOf(e).source);
    const who = source === 'operator' ? `Note from ${e.actor}` : source ? `Note (${source})` : 'Note';
    return `${who}: ${oneLine(e.message ?? '')}`;
  },
};

function fixId(e: TimelineEvent): string {
  return str(dataOf(e).fixId) ?? e.stepId ?? '(unnamed)';
}

/** One line that a reader who was not there understands. Never throws on odd data. */
export function describeEvent(e: TimelineEvent): string {
  const f = DESCRIBERS[e.type] as Describer | undefined;
  try {
    return oneLine(f ? f(e) : String(e.message ?? e.type));
  } catch {
    return oneLine(String(e.message ?? e.type));
  }
}
