/** The step library runbooks compose. See docs/authoring.md. */
export { eksUpgradeSteps, DEFAULT_ADDONS, type EksUpgradeOptions } from './eks-upgrade.js';
export type { EksUpgradeParams } from './context.js';
export {
  callerIdentityStep,
  clusterStep,
  nodegroupsHealthyStep,
  upgradeInsightsStep,
  addonVersionsStep,
  type ClusterVersions,
} from './preflight.js';
export {
  deregistrationDelayFix,
  DEFAULT_REQUIRED_DEREGISTRATION_DELAY,
  DEREGISTRATION_DELAY_KEY,
  type DelayChange,
} from './deregistration-delay.js';
export { targetGroupSnapshotStep } from './snapshot.js';
export { controlPlaneStep, CONTROL_PLANE_IRREVERSIBLE, type ControlPlaneOutput } from './control-plane.js';
export { migrateAddonStep, restoreSelfManaged, ADDON_OBJECTS, type AddonOutput } from './addons.js';
export { nodegroupsStep, type NodegroupResult } from './nodegroups.js';
export { targetGroupGuard, GUARD_INTERVAL_MS } from './target-group-guard.js';
export { postChecksStep, checkCluster, checkAddons, checkNodes, type CheckRow } from './post-checks.js';
export {
  discoverTargetGroups,
  snapshotTargetGroups,
  readTargetGroupStates,
  type TargetGroupSnapshot,
  type TargetGroupRecord,
  type Attachment,
} from './target-groups.js';
export { diffAgainstSnapshot, diffTargetGroup, restoreTargetGroup, describeDiff, type TargetGroupDiff } from './target-group-health.js';
