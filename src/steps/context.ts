import type { GuardContext, StepContext } from '../dsl/types.js';
import type { EksIo, WaitOptions } from '../aws/eks.js';
import type { Elbv2Io } from '../aws/elbv2.js';
import { elbv2DescribeBudget } from '../aws/limiter.js';

/**
 * The params every step of the EKS library reads. A runbook's params schema must produce at
 * least these fields (runbooks/eks-1.20.ts checks it at compile time).
 */
export interface EksUpgradeParams {
  cluster: string;
  region: string;
  /** Refuse to run unless the caller's account is this one (12 digits). */
  expectAccount?: string | undefined;
  /** Seconds every target group's deregistration delay must be at least (the known fix). */
  requiredDeregistrationDelay?: number | undefined;
  /** Insight ids or names whose ERROR status the operator accepts; ['all'] accepts every one. */
  acknowledgeInsights?: readonly string[] | undefined;
  /** Target groups to watch besides those found by the controller's cluster tag. */
  targetGroupArns?: readonly string[] | undefined;
  /** Post-check: a TG's healthy count may drop to this share of the snapshot's (0–1, default 1). */
  minHealthyRatio?: number | undefined;
}

/** What the library's helpers need from either a step or a guard context. */
export type AnyCtx<P = EksUpgradeParams> = StepContext<P> | GuardContext<P>;

export async function eksIo(ctx: Pick<AnyCtx, 'aws' | 'signal'>): Promise<EksIo> {
  return { client: await ctx.aws.eks(), signal: ctx.signal };
}

export async function elbIo(ctx: Pick<AnyCtx, 'aws' | 'signal'>): Promise<Elbv2Io> {
  return { client: await ctx.aws.elbv2(), budget: elbv2DescribeBudget(ctx.aws), signal: ctx.signal };
}

/** A production poll interval scaled for the sandbox (never below 1 ms). */
export function scaled(ctx: Pick<AnyCtx, 'pollScale'>, ms: number): number {
  return Math.max(1, Math.round(ms * ctx.pollScale));
}

/** Polling settings for waitForUpdate: seconds-scale in production, milliseconds in the sandbox. */
export function waitOptions(
  ctx: StepContext<EksUpgradeParams>,
  timeoutMs: number,
  base: { minDelayMs: number; maxDelayMs: number } = { minDelayMs: 5_000, maxDelayMs: 30_000 },
): WaitOptions {
  return {
    clock: ctx.clock,
    signal: ctx.signal,
    timeoutMs,
    minDelayMs: scaled(ctx, base.minDelayMs),
    maxDelayMs: scaled(ctx, base.maxDelayMs),
    onStatus: (line) => ctx.status(line),
    whilePaused: () => ctx.whilePaused(),
  };
}

