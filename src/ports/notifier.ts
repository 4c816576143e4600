import type { TimelineEvent } from '../timeline/events.js';

/** Who the run is about, for messages that must stand on their own in a chat channel. */
export interface RunSummary {
  runId: string;
  runbookId: string;
  runbookTitle: string;
  /** Target params, e.g. { cluster: 'prod-eu', region: 'eu-west-1' }. */
  target: Record<string, string>;
  /** Rehearsals (sandbox, dry-run) are tagged as such in every message. */
  rehearsal: 'sandbox' | 'dry-run' | null;
}

/**
 * Tells people while it happens. The engine hands every recorded event (after it is durable);
 * the notifier decides which are worth a message. It must never block or fail the run.
 */
export interface Notifier {
  notify(event: TimelineEvent, run: RunSummary): void;
  /** Deliver what is queued, giving up at the deadline (ms from now). */
  flush(deadlineMs: number): Promise<void>;
}

export const nullNotifier: Notifier = {
  notify: () => undefined,
  flush: async () => undefined,
};
