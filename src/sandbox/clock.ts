import type { Clock } from '../ports/clock.js';

/**
 * The world's time: model milliseconds advance `speed` times faster than the wall clock
 * underneath, from an anchor. Everything the model does keys on this clock, so a 10-minute
 * control-plane upgrade "takes" 10 model minutes but 1 real second at speed 600.
 *
 * It is both a `Clock` (for in-process callers that want to wait in model time: `sleep(60_000)`
 * waits one model minute) and a translator between model time and wall time (fault records carry
 * both, so detection times can be measured from outside the sandbox).
 */
export class ScaledClock implements Clock {
  readonly speed: number;
  private readonly real: Clock;
  private readonly realAnchor: number;
  private readonly modelAnchor: number;

  constructor(opts: { real: Clock; speed: number; modelStart?: number }) {
    this.real = opts.real;
    this.speed = opts.speed;
    this.realAnchor = opts.real.now();
    this.modelAnchor = opts.modelStart ?? this.realAnchor;
  }

  /** Model milliseconds since the epoch. */
  now(): number {
    return this.modelAnchor + (this.real.now() - this.realAnchor) * this.speed;
  }

  /** Wall-clock milliseconds now (throttling and latency are real-time matters). */
  realNow(): number {
    return this.real.now();
  }

  /** Sleeps `ms` of model time. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.real.sleep(ms / this.speed, signal);
  }

  /** The wall-clock instant at which the model reaches `modelMs`. */
  toReal(modelMs: number): number {
    return this.realAnchor + (modelMs - this.modelAnchor) / this.speed;
  }
}
