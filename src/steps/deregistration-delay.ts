import { defineKnownFix } from '../dsl/define.js';
import type { FixCheck, KnownFix, StepContext } from '../dsl/types.js';
import { describeTargetGroupAttributes, modifyTargetGroupAttributes } from '../aws/elbv2.js';
import { mapLimited } from '../aws/limiter.js';
import { elbIo, type EksUpgradeParams } from './context.js';
import { DESCRIBE_CONCURRENCY, discoverTargetGroups } from './target-groups.js';

export const DEREGISTRATION_DELAY_KEY = 'deregistration_delay.timeout_seconds';

/**
 * The value the 2021-06-30 postmortem settled on. AWS's default is 300 s; the incident showed
 * that while the add-ons switch to managed and the nodes roll, targets are deregistered and
 * re-registered within minutes: with a delay of at least 600 s a deregistered target keeps
 * draining (still serving in-flight and sticky traffic) across the whole add-on switch, so the
 * group never drops to zero targets. 600 is also far below the 3600 s maximum, so a real
 * scale-in is not held up for long.
 */
export const DEFAULT_REQUIRED_DEREGISTRATION_DELAY = 600;

export interface DelayChange {
  arn: string;
  name: string;
  previous: string;
}

type P = EksUpgradeParams;

function required(ctx: StepContext<P>): number {
  return ctx.params.requiredDeregistrationDelay ?? DEFAULT_REQUIRED_DEREGISTRATION_DELAY;
}

/**
 * Known fix: every target group of the cluster has a deregistration delay of at least the
 * required value. Missing → the run stops before any mutation; apply sets it, rollback puts
 * each previous value back.
 */
export function deregistrationDelayFix(): KnownFix<P, { changed: DelayChange[] }> {
  return defineKnownFix<P, { changed: DelayChange[] }>({
    id: 'deregistration-delay',
    title: 'Every target group of the cluster has the deregistration delay from the 2021-06-30 postmortem',
    source: 'postmortem 2021-06-30: ALB target groups detached during the 1.19→1.20 add-on switch, 503s for 6 minutes',
    check: async (ctx): Promise<FixCheck> => {
      const io = await elbIo(ctx);
      const need = required(ctx);
      const tgs = await discoverTargetGroups(io, ctx.params.cluster, ctx.params.targetGroupArns ?? []);
      const rows = await mapLimited(
        tgs,
        DESCRIBE_CONCURRENCY,
        async (tg) => {
          const attrs = await describeTargetGroupAttributes(io, tg.TargetGroupArn ?? '');
          return { arn: tg.TargetGroupArn ?? '', name: tg.TargetGroupName ?? '', current: attrs[DEREGISTRATION_DELAY_KEY] ?? '' };
        },
        ctx.signal,
      );
      const offenders = rows.filter((r) => !(Number(r.current) >= need));
      if (offenders.length === 0) {
        return { ok: true, message: `all ${rows.length} target group(s) have ${DEREGISTRATION_DELAY_KEY} ≥ ${need}`, data: { checked: rows.length, required: need } };
      }
      return {
        ok: false,
        message: `${offenders.length} of ${rows.length} target group(s) have ${DEREGISTRATION_DELAY_KEY} below ${need}`,
        findings: offenders.map((o) => ({ targetGroup: o.name, arn: o.arn, current: o.current === '' ? null : Number(o.current), required: need })),
        data: { required: need },
      };
    },
    apply: {
      title: 'Set the deregistration delay on the target groups that lack it',
      approval: (ctx) =>
        `Set ${DEREGISTRATION_DELAY_KEY}=${required(ctx)} on the target groups of cluster ${ctx.params.cluster} (${ctx.params.region}) listed above. Rollback restores each previous value.`,
      describe: (ctx, missing) =>
        `Would call ModifyTargetGroupAttributes ${DEREGISTRATION_DELAY_KEY}=${required(ctx)} on ${missing.findings.length} target group(s): ${missing.findings.map((f) => String(f['targetGroup'])).join(', ')}`,
      run: async (ctx, missing) => {
        const io = await elbIo(ctx);
        const need = String(required(ctx));
        const changed: DelayChange[] = [];
        for (const f of missing.findings) {
          const arn = String(f['arn']);
          // Read again: the value to restore is what is there now, not what the check saw.
          const previous = (await describeTargetGroupAttributes(io, arn))[DEREGISTRATION_DELAY_KEY] ?? '300';
          await modifyTargetGroupAttributes(io, arn, { [DEREGISTRATION_DELAY_KEY]: need });
          changed.push({ arn, name: String(f['targetGroup']), previous });
          ctx.record(`${String(f['targetGroup'])}: ${DEREGISTRATION_DELAY_KEY} ${previous} → ${need}`, { arn, previous, value: need });
        }
        return { changed };
      },
      rollback: async (ctx, output) => {
        const io = await elbIo(ctx);
        for (const c of [...output.changed].reverse()) {
          await modifyTargetGroupAttributes(io, c.arn, { [DEREGISTRATION_DELAY_KEY]: c.previous });
          ctx.record(`${c.name}: ${DEREGISTRATION_DELAY_KEY} restored to ${c.previous}`, { arn: c.arn });
        }
      },
    },
  });
}
