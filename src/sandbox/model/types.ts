import type { FaultSettings } from '../faults.js';

/**
 * The whole simulated world as plain JSON: it is what `--state FILE` persists. Times are model
 * milliseconds since the epoch. Nothing here refers to HTTP; protocol handlers translate.
 */
export interface World {
  schema: 1;
  scenario: string;
  accountId: string;
  region: string;
  mainCluster: string;
  /** Model time the world has been advanced to. */
  now: number;
  /** Counter behind every generated id, so ids are deterministic for a given history. */
  seq: number;
  rng: number;
  durations: Durations;
  minimumDeregistrationDelaySeconds: number;
  incident: { triggers: string[]; delaySeconds: number } | null;
  faults: FaultSettings;
  clusters: Record<string, Cluster>;
  elb: ElbState;
  /** EC2 instances behind the node groups; instance targets must be running ones. */
  instances: Record<string, Instance>;
  /** Scheduled transitions, sorted by `at`; applied lazily when the clock passes them. */
  events: WorldEvent[];
  faultRecords: FaultRecordData[];
}

export interface Instance {
  id: string;
  cluster: string;
  nodegroup: string;
  nodeName: string;
  privateIp: string;
  zone: string;
  state: 'running' | 'terminated';
}

export interface Durations {
  clusterUpdateSeconds: number;
  clusterStatusLagSeconds: number;
  addonCreateSeconds: number;
  addonUpdateSeconds: number;
  addonDeleteSeconds: number;
  nodeReplaceSeconds: number;
  failedUpdateSeconds: number;
}

export interface Cluster {
  name: string;
  arn: string;
  version: string;
  platformVersion: string;
  status: 'ACTIVE' | 'UPDATING';
  createdAt: number;
  id: string;
  endpointHost: string;
  vpcId: string;
  subnetIds: string[];
  securityGroupId: string;
  tags: Record<string, string>;
  updates: Record<string, Update>;
  updateOrder: string[];
  addons: Record<string, Addon>;
  nodegroups: Record<string, Nodegroup>;
  insights: InsightData[];
  kube: KubeStore;
}

export type UpdateTarget = { kind: 'cluster' } | { kind: 'addon'; name: string } | { kind: 'nodegroup'; name: string };

export interface Update {
  id: string;
  type: 'VersionUpdate' | 'AddonUpdate';
  status: 'InProgress' | 'Successful' | 'Failed' | 'Cancelled';
  params: { type: string; value: string }[];
  createdAt: number;
  errors: { errorCode: string; errorMessage: string; resourceIds: string[] }[];
  clientRequestToken: string | null;
  target: UpdateTarget;
}

export type AddonStatus = 'CREATING' | 'ACTIVE' | 'CREATE_FAILED' | 'UPDATING' | 'DELETING' | 'DELETE_FAILED' | 'DEGRADED' | 'UPDATE_FAILED';

export interface Addon {
  name: string;
  arn: string;
  version: string;
  status: AddonStatus;
  createdAt: number;
  modifiedAt: number;
  serviceAccountRoleArn: string | null;
  configurationValues: string | null;
  tags: Record<string, string>;
  issues: { code: string; message: string; resourceIds: string[] }[];
  clientRequestToken: string | null;
}

export interface Nodegroup {
  name: string;
  arn: string;
  version: string;
  releaseVersion: string;
  status: 'ACTIVE' | 'UPDATING' | 'DEGRADED';
  createdAt: number;
  modifiedAt: number;
  instanceType: string;
  desiredSize: number;
  labels: Record<string, string>;
  asgName: string;
  /** Node names currently belonging to the group (the kube store holds the Node objects). */
  nodes: string[];
}

export interface InsightData {
  id: string;
  name: string;
  kubernetesVersion: string;
  status: 'PASSING' | 'WARNING' | 'ERROR' | 'UNKNOWN';
  reason: string;
  description: string;
  recommendation: string;
  lastTransitionTime: number;
  deprecatedApi?: {
    usage: string;
    replacedWith: string;
    stopServingVersion: string;
    startServingReplacementVersion: string;
    userAgent: string;
    requestsLast30Days: number;
    resource?: string;
  };
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface KubeStore {
  /** Keyed by `${plural}.${group}/${namespace}/${name}` (namespace empty for cluster scope). */
  objects: Record<string, KubeObject>;
  resourceVersion: number;
}

export interface ElbState {
  loadBalancers: Record<string, LoadBalancer>;
  listeners: Record<string, Listener>;
  rules: Record<string, Rule>;
  targetGroups: Record<string, TargetGroup>;
  /** Keeps DescribeTargetGroups' order stable (creation order), which pagination relies on. */
  targetGroupOrder: string[];
  tags: Record<string, { Key: string; Value: string }[]>;
}

export interface LoadBalancer {
  arn: string;
  name: string;
  dnsName: string;
  scheme: string;
  vpcId: string;
  createdAt: number;
  subnets: { zone: string; subnetId: string }[];
  securityGroups: string[];
  cluster: string;
  listenerArns: string[];
}

export interface Action {
  Type: 'forward' | 'fixed-response' | 'redirect';
  Order?: number;
  TargetGroupArn?: string;
  ForwardConfig?: { TargetGroups: { TargetGroupArn: string; Weight?: number }[]; TargetGroupStickinessConfig?: { Enabled: boolean; DurationSeconds?: number } };
  FixedResponseConfig?: { StatusCode: string; ContentType?: string; MessageBody?: string };
  RedirectConfig?: { Protocol?: string; Port?: string; Host?: string; Path?: string; Query?: string; StatusCode: string };
}

export interface Condition {
  Field: string;
  Values?: string[];
  HostHeaderConfig?: { Values: string[] };
  PathPatternConfig?: { Values: string[] };
}

export interface Listener {
  arn: string;
  loadBalancerArn: string;
  port: number;
  protocol: string;
  certificates: { CertificateArn: string }[];
  sslPolicy: string | null;
  defaultActions: Action[];
  ruleArns: string[];
}

export interface Rule {
  arn: string;
  listenerArn: string;
  priority: string;
  isDefault: boolean;
  conditions: Condition[];
  actions: Action[];
}

export interface TargetGroup {
  arn: string;
  name: string;
  protocol: string;
  port: number;
  vpcId: string;
  targetType: 'instance' | 'ip';
  healthCheck: { protocol: string; port: string; path: string; intervalSeconds: number; timeoutSeconds: number; healthyThreshold: number; unhealthyThreshold: number; matcher: string };
  attributes: Record<string, string>;
  targets: Target[];
  cluster: string;
  /** Node groups whose nodes the (simulated) load balancer controller registers; null = all. */
  followsNodegroups: string[] | null;
}

export interface Target {
  id: string;
  port: number;
  registeredAt: number;
  /** When health checks first pass (registeredAt + interval × healthy threshold). */
  healthyAt: number;
  /** Set while draining: the target disappears at this model time. */
  drainUntil: number | null;
}

export type WorldEvent =
  | { at: number; kind: 'cluster-status'; cluster: string; status: 'UPDATING' | 'ACTIVE'; updateId: string }
  | { at: number; kind: 'cluster-update-done'; cluster: string; updateId: string; fail: boolean }
  | { at: number; kind: 'addon-done'; cluster: string; addon: string; op: 'create' | 'update' | 'delete'; updateId: string | null; fail: boolean; preserve: boolean; overwrite: boolean }
  | { at: number; kind: 'node-join'; cluster: string; nodegroup: string; updateId: string; version: string; releaseVersion: string }
  | { at: number; kind: 'node-leave'; cluster: string; nodegroup: string; updateId: string; node: string }
  | { at: number; kind: 'nodegroup-update-done'; cluster: string; nodegroup: string; updateId: string; fail: boolean }
  | { at: number; kind: 'detach'; cluster: string; cause: 'incident' | 'forced'; trigger: string };

export interface FaultRecordData {
  /** Model time of the fault. */
  modelAt: number;
  kind: 'target-groups-detached' | 'update-failed' | 'throttled' | 'server-error';
  cause: 'incident' | 'forced' | 'fault-injection';
  trigger: string;
  cluster: string;
  loadBalancerArns: string[];
  targetGroupArns: string[];
  /** Target groups of those load balancers the fix protected. */
  protectedTargetGroupArns: string[];
  detail: string;
}
