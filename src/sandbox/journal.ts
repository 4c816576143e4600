/** One mutating call the sandbox received, whether or not it succeeded. */
export interface JournalEntry {
  /** Wall-clock time the call arrived (ISO, UTC, ms): comparable with a runner's timeline. */
  at: string;
  /** The world's time then (ISO): the clock AWS timestamps in responses use. */
  modelAt: string;
  service: 'eks' | 'elasticloadbalancing' | 'sts' | 'kubernetes';
  operation: string;
  params: unknown;
  /** HTTP status answered (throttled or fault-injected calls included). */
  status: number;
  requestId: string;
}

/** When a fault happened in the world, in wall-clock and model time. */
export interface FaultRecord {
  /** Wall-clock instant at which the model reached the fault (ISO). */
  at: string;
  modelAt: string;
  kind: 'target-groups-detached' | 'update-failed' | 'throttled' | 'server-error';
  cause: 'incident' | 'forced' | 'fault-injection';
  trigger: string;
  cluster: string;
  loadBalancerArns: string[];
  targetGroupArns: string[];
  protectedTargetGroupArns: string[];
  detail: string;
}
