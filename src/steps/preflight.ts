import { stepsFor } from '../dsl/define.js';
import { awsCall } from '../aws/errors.js';
import {
  defaultAddonVersion,
  describeAddon,
  describeCluster,
  describeNodegroup,
  inProgressUpdates,
  listInsights,
  listNodegroups,
} from '../aws/eks.js';
import { RunbookError } from '../errors.js';
import { recordTable as table } from '../format.js';
import { eksIo, type EksUpgradeParams } from './context.js';

const step = stepsFor<EksUpgradeParams>();

/** Who is calling AWS, shown and recorded; refuses a different account than --expect-account. */
export function callerIdentityStep() {
  return step({
    id: 'preflight-identity',
    title: (ctx) => `Check who we are in AWS (${ctx.params.region})`,
    mutates: false,
    run: async (ctx) => {
      const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
      const sts = await ctx.aws.sts();
      const id = await awsCall('GetCallerIdentity', () => sts.send(new GetCallerIdentityCommand({}), { abortSignal: ctx.signal }));
      const out = { account: id.Account ?? '', arn: id.Arn ?? '', userId: id.UserId ?? '' };
      ctx.record(`Acting as ${out.arn} in account ${out.account} (${ctx.params.region})`, out);
      const expected = ctx.params.expectAccount;
      if (expected && expected !== out.account) {
        throw new RunbookError('PRECONDITION_FAILED', `These credentials are for account ${out.account}, not the expected ${expected}`, {
          hint: 'Switch to the right profile (--profile) or fix --expect-account, then run again.',
        });
      }
      return out;
    },
  });
}

export interface ClusterVersions {
  /** The version the runbook upgrades from ("1.19"). */
  from: string;
  /** The version it upgrades to ("1.20"). */
  to: string;
}

/**
 * The cluster exists, is ACTIVE, runs `from` (or already `to`: reported, then the control-plane
 * step is a no-op by its check) and no update is running on it or its node groups.
 */
export function clusterStep(v: ClusterVersions) {
  return step({
    id: 'preflight-cluster',
    title: (ctx) => `Check cluster ${ctx.params.cluster} is ACTIVE on ${v.from} with no update running`,
    mutates: false,
    run: async (ctx) => {
      const io = await eksIo(ctx);
      const c = await describeCluster(io, ctx.params.cluster);
      const version = c.version ?? '';
      if (c.status !== 'ACTIVE') {
        throw new RunbookError('PRECONDITION_FAILED', `Cluster ${ctx.params.cluster} is ${c.status ?? 'in an unknown state'}, not ACTIVE`, {
          hint: 'Wait until `aws eks describe-cluster` shows ACTIVE (or resume the run that started the update), then run again.',
        });
      }
      if (version !== v.from && version !== v.to) {
        throw new RunbookError('PRECONDITION_FAILED', `Cluster ${ctx.params.cluster} runs Kubernetes ${version}; this runbook upgrades ${v.from} → ${v.to}`, {
          hint: `Use the runbook for ${version} → the next minor version.`,
        });
      }
      const running = await inProgressUpdates(io, ctx.params.cluster);
      for (const ng of await listNodegroups(io, ctx.params.cluster)) running.push(...(await inProgressUpdates(io, ctx.params.cluster, { nodegroupName: ng })));
      if (running.length > 0) {
        throw new RunbookError('PRECONDITION_FAILED', `An update is already running on ${ctx.params.cluster}: ${running.map((u) => `${u.type ?? 'update'} ${u.id ?? ''}`).join(', ')}`, {
          hint: 'If a run of this runbook started it, resume that run (`runbook runs`); otherwise wait for it to finish.',
        });
      }
      const alreadyAtTarget = version === v.to;
      if (alreadyAtTarget) ctx.record(`Control plane of ${ctx.params.cluster} is already on ${v.to}: that step will have nothing to do`);
      return {
        name: c.name ?? ctx.params.cluster,
        arn: c.arn ?? '',
        version,
        platformVersion: c.platformVersion ?? '',
        status: c.status,
        alreadyAtTarget,
      };
    },
  });
}

/** Every managed node group ACTIVE with no health issue. */
export function nodegroupsHealthyStep() {
  return step({
    id: 'preflight-nodegroups',
    title: (ctx) => `Check the node groups of ${ctx.params.cluster} are healthy`,
    mutates: false,
    run: async (ctx) => {
      const io = await eksIo(ctx);
      const names = await listNodegroups(io, ctx.params.cluster);
      const groups = [];
      for (const name of names) {
        const ng = await describeNodegroup(io, ctx.params.cluster, name);
        groups.push({
          name,
          version: ng.version ?? '',
          releaseVersion: ng.releaseVersion ?? '',
          status: ng.status ?? 'UNKNOWN',
          desiredSize: ng.scalingConfig?.desiredSize ?? null,
          issues: (ng.health?.issues ?? []).map((i) => `${i.code ?? 'Issue'}: ${i.message ?? ''}`),
        });
      }
      const bad = groups.filter((g) => g.status !== 'ACTIVE' || g.issues.length > 0);
      if (bad.length > 0) {
        throw new RunbookError(
          'PRECONDITION_FAILED',
          `Node groups not healthy on ${ctx.params.cluster}:\n${table(bad.map((g) => ({ nodegroup: g.name, status: g.status, issues: g.issues.join('; ') })))}`,
          { hint: 'Fix the node groups (see their health issues in the EKS console), then run again.' },
        );
      }
      ctx.record(`${groups.length} node group(s) healthy: ${groups.map((g) => `${g.name} (${g.version})`).join(', ') || 'none'}`);
      return { nodegroups: groups };
    },
  });
}

/** EKS upgrade insights: ERROR findings stop the run unless the operator acknowledged them. */
export function upgradeInsightsStep(v: ClusterVersions) {
  return step({
    id: 'preflight-insights',
    title: (ctx) => `Check EKS upgrade insights for ${ctx.params.cluster} → ${v.to}`,
    mutates: false,
    run: async (ctx) => {
      const io = await eksIo(ctx);
      const insights = await listInsights(io, ctx.params.cluster, ['UPGRADE_READINESS']);
      const rows = insights.map((i) => ({
        id: i.id ?? '',
        name: i.name ?? '',
        kubernetesVersion: i.kubernetesVersion ?? '',
        status: i.insightStatus?.status ?? 'UNKNOWN',
        reason: i.insightStatus?.reason ?? '',
      }));
      const ack = new Set(ctx.params.acknowledgeInsights ?? []);
      const errors = rows.filter((r) => r.status === 'ERROR');
      const unacknowledged = errors.filter((r) => !ack.has('all') && !ack.has(r.id) && !ack.has(r.name));
      const acknowledged = errors.filter((r) => !unacknowledged.includes(r));
      for (const r of rows.filter((x) => x.status === 'WARNING')) ctx.record(`Upgrade insight WARNING: ${r.name} — ${r.reason}`, r);
      for (const r of acknowledged) ctx.record(`Upgrade insight ERROR acknowledged by the operator: ${r.name} — ${r.reason}`, r);
      if (unacknowledged.length > 0) {
        throw new RunbookError(
          'PRECONDITION_FAILED',
          `EKS upgrade insights report ${unacknowledged.length} blocking finding(s) for ${ctx.params.cluster}:\n${table(unacknowledged)}`,
          {
            hint: `Fix them (aws eks describe-insight --cluster-name ${ctx.params.cluster} --id <id> says how), or accept them with --param acknowledgeInsights=${unacknowledged.map((r) => r.id).join(',')}.`,
          },
        );
      }
      return { insights: rows, acknowledged: acknowledged.map((r) => r.id) };
    },
  });
}

/** For each add-on, the version EKS installs by default on `to` — what the migration will create. */
export function addonVersionsStep(v: ClusterVersions & { addons: readonly string[] }) {
  return step({
    id: 'preflight-addon-versions',
    title: `Find the EKS add-on versions for Kubernetes ${v.to} (${v.addons.join(', ')})`,
    mutates: false,
    run: async (ctx) => {
      const io = await eksIo(ctx);
      const addons: Record<string, { target: string; managedNow: string | null }> = {};
      for (const name of v.addons) {
        const target = await defaultAddonVersion(io, name, v.to);
        const managed = await describeAddon(io, ctx.params.cluster, name);
        addons[name] = { target, managedNow: managed?.addonVersion ?? null };
      }
      ctx.record(`Add-on targets for ${v.to}: ${Object.entries(addons).map(([n, a]) => `${n} ${a.target}`).join(', ')}`, addons);
      return { kubernetesVersion: v.to, addons };
    },
  });
}
