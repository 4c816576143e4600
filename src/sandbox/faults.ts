import { z } from 'zod';

/**
 * Faults an operator (or a test) can switch on: through `startSandbox({ faults })`, the scenario
 * file's `faults:` section, the CLI (`--throttle`) or `POST /_sandbox/faults`. Protocol-level
 * faults (throttling, errors, latency) act on AWS requests; world-level faults (failed updates,
 * detached target groups) act in the model and are persisted with it.
 */
export interface FaultSettings {
  /** Token bucket on read calls, as AWS documents for ELBv2 Describe* (bucket 40, refill 10/s, wall clock). */
  throttling: boolean;
  /** Fraction 0..1 of AWS requests answered with a 5xx (seeded, so a run is reproducible). */
  errorRate: number;
  /** Wall-clock milliseconds added before every AWS and Kubernetes response. */
  latencyMs: number;
  /**
   * Fail the next update of a kind: 'cluster-version', 'addon:NAME' (or 'addon' for any),
   * 'nodegroup:NAME' (or 'nodegroup' for any). Each entry is consumed by the update it fails.
   */
  failNextUpdate: string[];
  /**
   * Detach every target group of the cluster's load balancers when a matching mutating call
   * arrives, fix or no fix: 'CreateAddon:vpc-cni', 'UpdateAddon:kube-proxy', 'UpdateNodegroupVersion',
   * 'UpdateNodegroupVersion:ng-general', 'UpdateClusterVersion'. Each entry fires once.
   */
  detachTargetGroupsOn: string[];
  /**
   * Detach at a model moment: 'now', '+90s' / '+5m' (model time from when it is set) or an ISO
   * timestamp of model time. `null` clears a pending one.
   */
  detachAt: string | null;
}

export const DEFAULT_FAULTS: FaultSettings = {
  throttling: false,
  errorRate: 0,
  latencyMs: 0,
  failNextUpdate: [],
  detachTargetGroupsOn: [],
  detachAt: null,
};

const failTarget = z
  .string()
  .regex(/^(cluster-version|addon(:[a-z0-9-]+)?|nodegroup(:[A-Za-z0-9_-]+)?)$/, {
    message: "expected 'cluster-version', 'addon', 'addon:NAME', 'nodegroup' or 'nodegroup:NAME'",
  });

const detachTrigger = z.string().regex(/^(CreateAddon|UpdateAddon|DeleteAddon|UpdateNodegroupVersion|UpdateClusterVersion)(:[A-Za-z0-9_-]+)?$/, {
  message: "expected an operation with an optional target, e.g. 'CreateAddon:vpc-cni' or 'UpdateNodegroupVersion'",
});

export const detachAtSchema = z
  .string()
  .refine((s) => s === 'now' || /^\+\d+(\.\d+)?(ms|s|m|h)$/.test(s) || !Number.isNaN(Date.parse(s)), {
    message: "expected 'now', a relative model delay like '+90s' / '+5m', or an ISO timestamp",
  })
  .nullable();

export const faultSettingsSchema = z
  .object({
    throttling: z.boolean(),
    errorRate: z.number().min(0).max(1),
    latencyMs: z.number().int().min(0).max(60_000),
    failNextUpdate: z.array(failTarget),
    detachTargetGroupsOn: z.array(detachTrigger),
    detachAt: detachAtSchema,
  })
  .strict()
  .partial();

/** Parses '+90s' and friends into milliseconds. */
export function relativeMs(s: string): number | undefined {
  const m = /^\+(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(s);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2];
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return n * factor;
}

/**
 * AWS's documented throttle for ELBv2 Describe*: a bucket of 40 tokens refilled at 10 per
 * second of wall time. Kept outside the model: rate limits are a property of the API front door.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly capacity: number,
    private readonly refillPerSecond: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  take(now: number): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.refillPerSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  reset(now: number): void {
    this.tokens = this.capacity;
    this.last = now;
  }
}

/** mulberry32: small, seedable, good enough to pick which requests fail. Returns [value, nextState]. */
export function nextRandom(state: number): [number, number] {
  const next = (state + 0x6d2b79f5) | 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [((t ^ (t >>> 14)) >>> 0) / 4294967296, next];
}
