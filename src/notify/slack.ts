import type { Clock } from '../ports/clock.js';
import { systemClock } from '../ports/clock.js';
import type { Notifier, RunSummary } from '../ports/notifier.js';
import type { EventInput, EventType, TimelineEvent } from '../timeline/events.js';
import { Redactor } from '../timeline/redact.js';
import type { SlackPayload } from './message.js';
import { slackMessage } from './message.js';

/**
 * Slack incoming-webhook delivery that can never hurt the run: notify() only enqueues; one
 * worker posts messages in order, with a timeout per attempt and bounded retries (backoff, and
 * Retry-After on 429); flush() waits for the queue up to a deadline and then gives up loudly.
 * Every message that is not delivered is reported once through onFailure, which the engine
 * records on the timeline. The webhook URL is a secret: it is registered with the redactor and
 * never part of a reason, an error or a log line.
 */

export type NotifyFailureKind =
  /** Retries exhausted (timeouts, connection errors, 5xx, 429). */
  | 'gave-up'
  /** The receiver refused the message (4xx other than 408/429); retrying would not help. */
  | 'rejected'
  /** Still queued or in flight when flush's deadline passed. */
  | 'deadline'
  /** The queue was full (the receiver has been down for a long time); the oldest was dropped. */
  | 'dropped';

export interface NotifyFailure {
  channel: 'slack';
  kind: NotifyFailureKind;
  runId: string;
  eventType: EventType;
  eventSeq: number;
  attempts: number;
  /** Last HTTP status, when there was one. */
  status: number | null;
  /** One line, redacted: "HTTP 500 after 4 attempts", "timed out after 5000 ms". */
  reason: string;
}

export interface SlackNotifierOptions {
  /** The webhook URL (a secret). */
  url: string;
  /** Told about every undelivered message. Must not throw (it is guarded anyway). */
  onFailure?: (failure: NotifyFailure) => void;
  /** The run's redactor: the URL is registered with it so the store can never write it either. */
  redactor?: Redactor;
  clock?: Clock;
  fetch?: typeof globalThis.fetch;
  /** Per attempt (default 5000 ms). */
  timeoutMs?: number;
  /** Including the first (default 4). */
  maxAttempts?: number;
  /** First retry delay, doubled per attempt (default 500 ms) and capped (default 8000 ms). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** A Retry-After longer than this is shortened to it (default 30 s): the run ends eventually. */
  maxRetryAfterMs?: number;
  /** Messages waiting at most (default 200); beyond, the oldest is dropped and reported. */
  maxQueue?: number;
  /** 0..1, for the backoff jitter; tests pin it. */
  random?: () => number;
}

interface Item {
  payload: SlackPayload;
  event: TimelineEvent;
}

type Attempt =
  | { ok: true }
  | { ok: false; retry: boolean; status: number | null; reason: string; retryAfterMs: number | null };

export class SlackNotifier implements Notifier {
  private readonly queue: Item[] = [];
  private worker: Promise<void> | null = null;
  private stop = new AbortController();
  private readonly redactor: Redactor;
  private readonly o: Required<Omit<SlackNotifierOptions, 'redactor' | 'onFailure'>> &
    Pick<SlackNotifierOptions, 'onFailure'>;
  /** Messages delivered so far (for `runbook` to say "3 notifications sent"). */
  delivered = 0;

  constructor(opts: SlackNotifierOptions) {
    this.redactor = opts.redactor ?? new Redactor();
    this.redactor.addSecret(opts.url);
    this.o = {
      url: opts.url,
      onFailure: opts.onFailure,
      clock: opts.clock ?? systemClock,
      fetch: opts.fetch ?? globalThis.fetch.bind(globalThis),
      timeoutMs: opts.timeoutMs ?? 5000,
      maxAttempts: Math.max(1, opts.maxAttempts ?? 4),
      backoffMs: opts.backoffMs ?? 500,
      maxBackoffMs: opts.maxBackoffMs ?? 8000,
      maxRetryAfterMs: opts.maxRetryAfterMs ?? 30_000,
      maxQueue: Math.max(1, opts.maxQueue ?? 200),
      random: opts.random ?? Math.random,
    };
  }

  notify(event: TimelineEvent, run: RunSummary): void {
    try {
      const message = slackMessage(event, run);
      if (!message) return;
      const payload = this.redactor.redact(message);
      if (this.queue.length >= this.o.maxQueue) {
        const dropped = this.queue.shift();
        if (dropped) this.fail(dropped, 'dropped', 0, null, `queue full (${this.o.maxQueue} messages waiting)`);
      }
      this.queue.push({ payload, event });
      // Delivery starts on the next turn of the event loop, so the caller's own work (the engine
      // moving to the next step) never waits on fetch setup or a socket.
      this.worker ??= new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => this.drain())
        .finally(() => {
          this.worker = null;
        });
    } catch {
      // A notification must never fail the run; a bug here costs a message, not an upgrade.
    }
  }

  async flush(deadlineMs: number): Promise<void> {
    if (!this.worker && this.queue.length === 0) return;
    const stop = this.stop;
    const timer = setTimeout(() => stop.abort(), Math.max(0, deadlineMs));
    try {
      await this.worker;
    } finally {
      clearTimeout(timer);
      // A later notify (the engine may flush before its last event) starts with a fresh deadline.
      if (stop.signal.aborted) this.stop = new AbortController();
    }
  }

  /** Messages not yet delivered. */
  get pending(): number {
    return this.queue.length;
  }

  private async drain(): Promise<void> {
    for (let item = this.queue[0]; item; item = this.queue[0]) {
      try {
        await this.deliver(item);
      } catch {
        // deliver() reports its own failures; this only guards against a bug looping forever.
      }
      if (this.queue[0] === item) this.queue.shift();
    }
  }

  private async deliver(item: Item): Promise<void> {
    const stop = this.stop.signal;
    let last: Attempt = { ok: false, retry: true, status: null, reason: 'not attempted', retryAfterMs: null };
    let attempts = 0;
    while (attempts < this.o.maxAttempts) {
      if (stop.aborted) return this.fail(item, 'deadline', attempts, last.ok ? null : last.status, 'flush deadline passed before delivery');
      attempts++;
      last = await this.attempt(item.payload, stop);
      if (last.ok) {
        this.delivered++;
        return;
      }
      if (stop.aborted) return this.fail(item, 'deadline', attempts, last.status, `flush deadline passed (${last.reason})`);
      if (!last.retry) return this.fail(item, 'rejected', attempts, last.status, last.reason);
      if (attempts < this.o.maxAttempts) {
        try {
          await this.o.clock.sleep(this.delayMs(attempts, last.retryAfterMs), stop);
        } catch {
          return this.fail(item, 'deadline', attempts, last.status, `flush deadline passed while waiting to retry (${last.reason})`);
        }
      }
    }
    const failed = last.ok ? null : last;
    this.fail(item, 'gave-up', attempts, failed?.status ?? null, `${failed?.reason ?? 'failed'} after ${attempts} attempts`);
  }

  /** Retry-After wins when the receiver sent one; else exponential backoff with jitter. */
  private delayMs(attempt: number, retryAfterMs: number | null): number {
    if (retryAfterMs !== null) return Math.min(retryAfterMs, this.o.maxRetryAfterMs);
    const base = Math.min(this.o.maxBackoffMs, this.o.backoffMs * 2 ** (attempt - 1));
    // "Equal jitter": never less than half the backoff, so a down receiver is not hammered.
    return Math.round(base / 2 + (base / 2) * this.o.random());
  }

  private async attempt(payload: SlackPayload, stop: AbortSignal): Promise<Attempt> {
    const timeout = AbortSignal.timeout(this.o.timeoutMs);
    const signal = AbortSignal.any([stop, timeout]);
    try {
      const res = await this.o.fetch(this.o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(payload),
        signal,
        redirect: 'error',
      });
      const body = await readBody(res, signal);
      if (res.ok) return { ok: true };
      const retry = res.status === 429 || res.status === 408 || res.status >= 500;
      const retryAfterMs = res.status === 429 || res.status === 503 ? parseRetryAfter(res.headers.get('retry-after'), this.o.clock.now()) : null;
      const text = body ? `: ${body}` : '';
      return { ok: false, retry, status: res.status, reason: `HTTP ${res.status}${text}`, retryAfterMs };
    } catch (e) {
      const reason = timeout.aborted && !stop.aborted ? `timed out after ${this.o.timeoutMs} ms` : describeFetchError(e);
      return { ok: false, retry: true, status: null, reason, retryAfterMs: null };
    }
  }

  private fail(item: Item, kind: NotifyFailureKind, attempts: number, status: number | null, reason: string): void {
    const failure: NotifyFailure = {
      channel: 'slack',
      kind,
      runId: item.event.runId,
      eventType: item.event.type,
      eventSeq: item.event.seq,
      attempts,
      status,
      reason: this.redactor.redactText(reason),
    };
    try {
      this.o.onFailure?.(failure);
    } catch {
      // The engine's callback failing must not take the worker down with it.
    }
  }
}

/** Slack answers "ok" or an error code such as "invalid_payload"; keep a short, safe excerpt. */
async function readBody(res: Response, signal: AbortSignal): Promise<string> {
  if (signal.aborted) return '';
  try {
    const text = await res.text();
    return text.replace(/\s+/g, ' ').trim().slice(0, 120);
  } catch {
    return '';
  }
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null || value.trim() === '') return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : null;
}

/** "connection refused (ECONNREFUSED)" — the code from undici's cause, never the URL. */
export function describeFetchError(e: unknown): string {
  const cause: unknown = e instanceof Error ? e.cause : undefined;
  const code = (cause as { code?: unknown } | undefined)?.code ?? (e as { code?: unknown } | undefined)?.code;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'DNS lookup failed',
    ETIMEDOUT: 'connection timed out',
    UND_ERR_SOCKET: 'connection closed by the receiver',
    UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
    UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  };
  if (typeof code === 'string') return `${known[code] ?? 'network error'} (${code})`;
  if (e instanceof Error && e.name === 'AbortError') return 'aborted';
  return 'network error';
}

/** The timeline line for an undelivered notification (a note, so it is never notified itself). */
export function notifyFailureEvent(f: NotifyFailure): EventInput {
  const what: Record<NotifyFailureKind, string> = {
    'gave-up': 'not delivered',
    rejected: 'rejected by the receiver',
    deadline: 'not delivered before exit',
    dropped: 'dropped',
  };
  return {
    type: 'note',
    message: `Slack notification for ${f.eventType} (event ${f.eventSeq}) ${what[f.kind]}: ${f.reason}`,
    data: { source: 'notifier', channel: f.channel, kind: f.kind, eventType: f.eventType, eventSeq: f.eventSeq, attempts: f.attempts, status: f.status },
  };
}
