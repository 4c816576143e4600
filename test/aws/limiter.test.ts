// The token bucket that keeps us inside AWS's ELBv2 Describe budget, on a manual clock so the
// arithmetic is exact: a burst of 40, then 10 per second.
import { describe, expect, it } from 'vitest';
import { mapLimited, TokenBucket } from '../../src/aws/limiter.js';

function manualTime() {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
  };
}

describe('TokenBucket (ELBv2 Describe budget)', () => {
  it('lets a burst of 40 through at once, then 10 per second', async () => {
    const time = manualTime();
    const bucket = new TokenBucket({ capacity: 40, refillPerSecond: 10, ...time });
    const stamps: number[] = [];
    for (let i = 0; i < 100; i++) {
      await bucket.take();
      stamps.push(time.now());
    }
    expect(stamps.slice(0, 40).every((s) => s === 0)).toBe(true);
    // (100 − 40) / 10 = 6 s for the rest: the bound the post-check benchmark compares with.
    expect(stamps[99]).toBeGreaterThanOrEqual(6000);
    expect(stamps[99]).toBeLessThanOrEqual(6000 + 100);
    const rate = 59 / ((stamps[99]! - stamps[40]!) / 1000);
    expect(rate).toBeGreaterThan(9.5);
    expect(rate).toBeLessThanOrEqual(10.01);
  });

  it('keeps a reserve of the service bucket unspent, at no cost to the steady rate', async () => {
    const time = manualTime();
    const bucket = new TokenBucket({ capacity: 40, refillPerSecond: 10, reserve: 4, ...time });
    for (let i = 0; i < 36; i++) await bucket.take();
    expect(time.now()).toBe(0);
    await bucket.take();
    expect(time.now()).toBe(100);
  });

  it('starts from empty after the service throttled us anyway', async () => {
    const time = manualTime();
    const bucket = new TokenBucket({ capacity: 40, refillPerSecond: 10, ...time });
    bucket.drain();
    await bucket.take();
    expect(time.now()).toBeGreaterThanOrEqual(100);
  });

  it('serves concurrent callers in arrival order and honours abort', async () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 50 });
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => bucket.take().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3]);
    const ac = new AbortController();
    const slow = new TokenBucket({ capacity: 1, refillPerSecond: 0.001 });
    await slow.take();
    const pending = slow.take(ac.signal);
    ac.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });
});

describe('mapLimited', () => {
  it('keeps order and never exceeds the concurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimited([...Array(20).keys()], 4, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 2 + (n % 3)));
      inFlight--;
      return n * 2;
    });
    expect(out).toEqual([...Array(20).keys()].map((n) => n * 2));
    expect(peak).toBe(4);
  });

  it('stops starting new work after the first failure and rethrows it', async () => {
    let started = 0;
    await expect(
      mapLimited([...Array(50).keys()], 2, async (n) => {
        started++;
        await new Promise((r) => setTimeout(r, 1));
        if (n === 3) throw new Error('boom at 3');
        return n;
      }),
    ).rejects.toThrow('boom at 3');
    expect(started).toBeLessThan(10);
  });
});
