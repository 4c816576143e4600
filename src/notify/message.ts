import type { RunSummary } from '../ports/notifier.js';
import type { EventType, TimelineEvent } from '../timeline/events.js';
import { formatDuration } from '../format.js';
import { dataOf, num, obj, str } from '../timeline/stats.js';

/**
 * What a chat channel hears: the moments someone may need to act on (a run starts or ends, an
 * approval waits, a step fails, an incident opens or closes, a rollback), one message each, that
 * stands on its own: which runbook, which cluster, which step, which run. Rehearsals say so
 * first, so nobody pages on a sandbox.
 */

export const NOTIFIED_EVENTS: readonly EventType[] = [
  'run.started',
  'run.resumed',
  'approval.requested',
  'step.failed',
  'incident.detected',
  'incident.resolved',
  'rollback.started',
  'rollback.step.failed',
  'rollback.blocked',
  'rollback.completed',
  'run.completed',
  'run.failed',
  'run.aborted',
  'run.interrupted',
  'run.rolled-back',
];

export interface SlackPayload {
  text: string;
  unfurl_links: false;
  unfurl_media: false;
}

/** Slack's mrkdwn treats these three as control characters; everything else is literal. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const MAX_DETAIL = 300;

function clip(text: string, max = MAX_DETAIL): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

function titleOf(e: TimelineEvent): string {
  return str(dataOf(e).title) ?? e.stepId ?? 'step';
}

function errorOf(e: TimelineEvent): string {
  const err: unknown = dataOf(e).error;
  return typeof err === 'string' ? err : (str(obj(err).message) ?? e.message);
}

function afterDuration(e: TimelineEvent, word: string): string {
  const ms = num(dataOf(e).durationMs);
  return ms === null ? '' : ` ${word} ${formatDuration(ms)}`;
}

interface Parts {
  icon: string;
  headline: string;
  detail: string;
}

type Composer = (e: TimelineEvent, run: RunSummary) => Parts;

const COMPOSERS: Partial<Record<EventType, Composer>> = {
  'run.started': (e, run) => ({ icon: ':arrow_forward:', headline: `Run started by ${e.actor}`, detail: run.runbookTitle }),
  'run.resumed': (e) => ({ icon: ':repeat:', headline: `Run resumed by ${e.actor}`, detail: e.message }),
  'approval.requested': (e) => ({ icon: ':raised_hand:', headline: `Approval needed: ${titleOf(e)}`, detail: e.message }),
  'step.failed': (e) => ({ icon: ':x:', headline: `Step failed: ${titleOf(e)}`, detail: errorOf(e) }),
  'incident.detected': (e) => ({
    icon: ':rotating_light:',
    headline: 'Incident detected',
    detail: str(dataOf(e).summary) ?? e.message,
  }),
  'incident.resolved': (e) => ({ icon: ':white_check_mark:', headline: `Incident resolved${afterDuration(e, 'after')}`, detail: e.message }),
  'rollback.started': (e) => ({ icon: ':rewind:', headline: 'Rollback started', detail: e.message }),
  'rollback.step.failed': (e) => ({ icon: ':warning:', headline: `Rollback failed: ${titleOf(e)}`, detail: errorOf(e) }),
  'rollback.blocked': (e) => ({ icon: ':no_entry:', headline: 'Rollback stopped, manual action needed', detail: e.message }),
  'rollback.completed': (e) => ({ icon: ':rewind:', headline: 'Rollback finished', detail: e.message }),
  'run.completed': (e) => ({ icon: ':white_check_mark:', headline: `Run completed${afterDuration(e, 'in')}`, detail: e.message }),
  'run.failed': (e) => ({ icon: ':x:', headline: `Run failed${afterDuration(e, 'after')}`, detail: e.message }),
  'run.aborted': (e) => ({ icon: ':octagonal_sign:', headline: `Run aborted by ${e.actor}`, detail: e.message }),
  'run.interrupted': (e, run) => ({
    icon: ':pause_button:',
    headline: 'Run interrupted',
    detail: `${e.message} Resume with: runbook resume ${run.runId}`,
  }),
  'run.rolled-back': (e) => ({ icon: ':rewind:', headline: `Run rolled back${afterDuration(e, 'after')}`, detail: e.message }),
};

function rehearsalTag(run: RunSummary): string {
  if (run.rehearsal === 'sandbox') return ':test_tube: *[REHEARSAL: sandbox]* ';
  if (run.rehearsal === 'dry-run') return ':test_tube: *[REHEARSAL: dry run]* ';
  return '';
}

/** `runbook eks-1.20 · cluster prod-eu · region eu-west-1 · step control-plane · run 2026…` */
function contextLine(e: TimelineEvent, run: RunSummary): string {
  const target = Object.entries(run.target).map(([k, v]) => `${k} \`${slackEscape(clip(v, 80))}\``);
  const parts = [`runbook \`${slackEscape(run.runbookId)}\``, ...target];
  if (e.stepId) parts.push(`step \`${slackEscape(e.stepId)}\``);
  parts.push(`run \`${slackEscape(run.runId)}\``);
  return parts.join(' · ');
}

/** The Slack message for an event, or null when the event is not worth a message. */
export function slackMessage(e: TimelineEvent, run: RunSummary): SlackPayload | null {
  const compose = COMPOSERS[e.type];
  if (!compose) return null;
  const p = compose(e, run);
  const detail = clip(p.detail ?? '');
  const line1 = `${rehearsalTag(run)}${p.icon} *${slackEscape(clip(p.headline, 150))}*${detail ? ` — ${slackEscape(detail)}` : ''}`;
  return { text: `${line1}\n${contextLine(e, run)}`, unfurl_links: false, unfurl_media: false };
}
