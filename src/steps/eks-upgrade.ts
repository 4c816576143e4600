import { defineGroup } from '../dsl/define.js';
import type { Group, Guard, KnownFix } from '../dsl/types.js';
import { migrateAddonStep } from './addons.js';
import type { EksUpgradeParams } from './context.js';
import { controlPlaneStep } from './control-plane.js';
import { deregistrationDelayFix, type DelayChange } from './deregistration-delay.js';
import { nodegroupsStep } from './nodegroups.js';
import { postChecksStep } from './post-checks.js';
import { addonVersionsStep, callerIdentityStep, clusterStep, nodegroupsHealthyStep, upgradeInsightsStep } from './preflight.js';
import { targetGroupSnapshotStep } from './snapshot.js';
import { targetGroupGuard } from './target-group-guard.js';

export const DEFAULT_ADDONS = ['vpc-cni', 'coredns', 'kube-proxy'] as const;

export interface EksUpgradeOptions {
  /** "1.19" */
  from: string;
  /** "1.20" */
  to: string;
  /** Add-ons to migrate to EKS-managed, in this order (default vpc-cni, coredns, kube-proxy). */
  addons?: readonly string[];
}

/**
 * Every step of a one-minor EKS upgrade, wired together (typed outputs between them), for a
 * runbook to compose — or to pick from and reorder. See docs/authoring.md.
 *
 * @example
 * const s = eksUpgradeSteps({ from: '1.20', to: '1.21' });
 * export default defineRunbook({ ..., steps: [s.preflight, s.snapshot, s.controlPlane, s.addons, s.nodegroups, s.postChecks],
 *   knownFixes: [s.deregistrationDelay], guards: [s.guard] });
 */
export function eksUpgradeSteps(o: EksUpgradeOptions) {
  const v = { from: o.from, to: o.to };
  const addonNames = o.addons ?? DEFAULT_ADDONS;
  const identity = callerIdentityStep();
  const cluster = clusterStep(v);
  const nodegroupsHealthy = nodegroupsHealthyStep();
  const insights = upgradeInsightsStep(v);
  const addonVersions = addonVersionsStep({ ...v, addons: addonNames });
  const snapshot = targetGroupSnapshotStep();
  const controlPlane = controlPlaneStep(v);
  const addonSteps = addonNames.map((n) => migrateAddonStep(n, addonVersions));
  const nodegroups = nodegroupsStep(v);
  const postChecks = postChecksStep(v, { snapshot, addonVersions });
  const preflight: Group<EksUpgradeParams> = defineGroup<EksUpgradeParams>({
    id: 'preflight',
    title: 'Preflight (read-only)',
    steps: [identity, cluster, nodegroupsHealthy, insights, addonVersions],
  });
  const addons: Group<EksUpgradeParams> = defineGroup<EksUpgradeParams>({
    id: 'addons',
    title: `Migrate ${addonNames.join(', ')} to EKS-managed add-ons`,
    steps: addonSteps,
  });
  const deregistrationDelay: KnownFix<EksUpgradeParams, { changed: DelayChange[] }> = deregistrationDelayFix();
  const guard: Guard<EksUpgradeParams> = targetGroupGuard(snapshot, {
    during: [controlPlane.id, ...addonSteps.map((s) => s.id), nodegroups.id],
  });
  return {
    identity,
    cluster,
    nodegroupsHealthy,
    insights,
    addonVersions,
    preflight,
    deregistrationDelay,
    snapshot,
    controlPlane,
    addonSteps,
    addons,
    nodegroups,
    postChecks,
    guard,
  };
}
