// EKS 1.19 → 1.20, written after the 2021-06-30 incident: the add-on switch to managed
// detached every ALB target group and every service answered 503 until they were reattached by
// hand. This runbook refuses to start without the deregistration-delay fix, snapshots every
// target group first, and watches them while it changes anything.
import { z } from 'zod';
import { defineRunbook } from 'upgrade-runbook';
import { DEFAULT_REQUIRED_DEREGISTRATION_DELAY, eksUpgradeSteps, type EksUpgradeParams } from 'upgrade-runbook';

const params = z.object({
  cluster: z.string().min(1).describe('EKS cluster to upgrade').meta({ example: 'prod-eu' }),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1').describe('AWS region of the cluster').meta({ example: 'eu-west-1' }),
  expectAccount: z
    .string()
    .regex(/^\d{12}$/, 'a 12-digit AWS account id')
    .optional()
    .describe('refuse to run unless the credentials belong to this account')
    .meta({ example: '111122223333' }),
  requiredDeregistrationDelay: z
    .number()
    .int()
    .min(0)
    .max(3600)
    .default(DEFAULT_REQUIRED_DEREGISTRATION_DELAY)
    .describe(
      'seconds every target group must keep deregistered targets draining (postmortem 2021-06-30: at least 600, so targets outlive the add-on switch)',
    ),
  acknowledgeInsights: z
    .array(z.string())
    .optional()
    .describe("EKS upgrade insight ids (or names) whose ERROR you accept; 'all' accepts every one")
    .meta({ example: 'a1b2c3d4-insight' }),
  targetGroupArns: z
    .array(z.string().startsWith('arn:'))
    .optional()
    .describe('extra target groups to protect besides those tagged elbv2.k8s.aws/cluster=<cluster>'),
  minHealthyRatio: z
    .number()
    .min(0)
    .max(1)
    .default(1)
    .describe('post-check: share of the snapshot\'s healthy targets each target group must have again (1 = all)'),
});

// The step library reads these params; a mismatch with its contract is a compile error here.
const _paramsFitTheLibrary: (p: z.infer<typeof params>) => EksUpgradeParams = (p) => p;

const s = eksUpgradeSteps({ from: '1.19', to: '1.20', addons: ['vpc-cni', 'coredns', 'kube-proxy'] });

export default defineRunbook({
  id: 'eks-1.20',
  title: 'Upgrade an EKS cluster from 1.19 to 1.20 and switch its add-ons to EKS-managed',
  description:
    'Preflight (identity, cluster, node groups, upgrade insights, add-on versions) → known fix: deregistration delay on every ' +
    'target group → snapshot of every target group → control plane to 1.20 (irreversible) → vpc-cni, coredns, kube-proxy to ' +
    'EKS-managed one at a time (manifests backed up, rollback re-applies them) → node groups rolled to 1.20 → post-checks against ' +
    'the snapshot. While anything changes, a guard watches the target groups and restores them from the snapshot if they detach.',
  params,
  target: ['region', 'cluster'],
  steps: [s.preflight, s.snapshot, s.controlPlane, s.addons, s.nodegroups, s.postChecks],
  knownFixes: [s.deregistrationDelay],
  guards: [s.guard],
});
