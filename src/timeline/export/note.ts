import { RunbookError } from '../../errors.js';
import type { EventInput } from '../events.js';

/**
 * `runbook note <run-id> "Target group manually reattached" [--fault-at <time>]`: the event the
 * store appends (actor and time filled in by the store). `faultAt` marks when the fault began,
 * which is what time to detection is measured from; `--fault-at now` means the note's own time.
 */
export function operatorNote(
  message: string,
  opts: { faultAt?: string; incidentId?: string } = {},
): EventInput {
  const text = message.trim();
  if (text === '') {
    throw new RunbookError('USAGE', 'A note needs some text.', {
      hint: 'runbook note <run-id> "Target group manually reattached"',
    });
  }
  const data: Record<string, unknown> = { source: 'operator' };
  if (opts.faultAt !== undefined) {
    if (opts.faultAt === 'now') data.fault = true;
    else data.faultAt = parseFaultAt(opts.faultAt);
  }
  if (opts.incidentId) data.incidentId = opts.incidentId;
  return { type: 'note', message: text, data };
}

/** ISO 8601 with a zone (Z or ±hh:mm): a bare "16:31" would be ambiguous across zones and days. */
export function parseFaultAt(value: string): string {
  const ms = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(value.trim()) ? Date.parse(value.trim()) : NaN;
  if (!Number.isFinite(ms)) {
    throw new RunbookError('USAGE', `--fault-at "${value}" is not a time with a zone.`, {
      hint: 'Use ISO 8601 with a zone, e.g. 2026-11-25T16:31:00Z or 2026-11-25T17:31:00+01:00, or "now".',
    });
  }
  return new Date(ms).toISOString();
}
