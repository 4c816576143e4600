import type { AwsClients } from './types.js';

export interface TokenBucketOptions {
  /** Tokens available at once (AWS ELBv2 Describe*: 40). */
  capacity: number;
  /** Tokens added per second (AWS ELBv2 Describe*: 10). */
  refillPerSecond: number;
  /**
   * Tokens of the service's bucket we never spend. Our token is taken when a request leaves,
   * the service's when it arrives; network jitter can make two requests arrive closer together
   * than they left. A reserve of k tokens absorbs k/refill seconds of such jitter at no cost to
   * the steady rate (only the first burst is k smaller).
   */
  reserve?: number;
  /** Monotonic milliseconds; defaults to performance.now(). */
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Our side of AWS's per-account token bucket. Spending tokens here before a call keeps the
 * burst and the steady rate inside the budget, so the service never has to throttle us (a
 * throttled call costs a retry with a long backoff — far more than waiting for a token).
 */
export class TokenBucket {
  readonly capacity: number;
  readonly refillPerSecond: number;
  private tokens: number;
  private last: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Waiters in arrival order, so a burst does not starve an early caller. */
  private queue: Promise<void> = Promise.resolve();

  constructor(opts: TokenBucketOptions) {
    this.capacity = opts.capacity - (opts.reserve ?? 0);
    this.refillPerSecond = opts.refillPerSecond;
    this.now = opts.now ?? (() => performance.now());
    this.sleep = opts.sleep ?? defaultSleep;
    this.tokens = this.capacity;
    this.last = this.now();
  }

  /** Resolves when one token has been taken. */
  take(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.takeNow(signal));
    // The chain must survive a caller's abort.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** The service said "Throttling" anyway (someone else shares the budget): start from empty. */
  drain(): void {
    this.refill();
    this.tokens = Math.min(this.tokens, 0);
  }

  available(): number {
    this.refill();
    return this.tokens;
  }

  private async takeNow(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      this.refill();
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      const waitMs = ((1 - this.tokens) / this.refillPerSecond) * 1000;
      await this.sleep(Math.ceil(waitMs), signal);
    }
  }

  private refill(): void {
    const t = this.now();
    const elapsed = (t - this.last) / 1000;
    this.last = t;
    this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.refillPerSecond);
  }
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** AWS's documented ELBv2 budget for non-mutating Describe* calls, with 400 ms of jitter reserve. */
export const ELBV2_DESCRIBE_BUDGET = { capacity: 40, refillPerSecond: 10, reserve: 4 } as const;

const budgets = new WeakMap<AwsClients, TokenBucket>();

/**
 * The ELBv2 Describe budget shared by everything using these clients (snapshot, guard and
 * post-checks all draw from the same account bucket at AWS, so they draw from one here too).
 */
export function elbv2DescribeBudget(aws: AwsClients): TokenBucket {
  let b = budgets.get(aws);
  if (!b) {
    b = new TokenBucket(ELBV2_DESCRIBE_BUDGET);
    budgets.set(aws, b);
  }
  return b;
}

/**
 * Map over items with at most `concurrency` calls in flight. Results keep the input order.
 * The first failure stops new work and rejects (calls already in flight finish first).
 */
export async function mapLimited<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        signal?.throwIfAborted();
        results[i] = await fn(items[i] as T, i);
      } catch (e) {
        if (!failed) firstError = e;
        failed = true;
      }
    }
  };
  const n = Math.max(1, Math.min(concurrency, items.length));
  await Promise.all(Array.from({ length: n }, worker));
  if (failed) throw firstError;
  return results;
}
