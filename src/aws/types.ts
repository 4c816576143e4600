import type { EKSClient } from '@aws-sdk/client-eks';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { STSClient } from '@aws-sdk/client-sts';

/** Where AWS calls go and how they retry. Built by the CLI from flags and env. */
export interface AwsSettings {
  region: string;
  profile?: string;
  /** Sandbox or any other endpoint override (AWS_ENDPOINT_URL). */
  endpoint?: string;
  /** SDK retry attempts (standard mode). */
  maxAttempts?: number;
  /** Base backoff in ms; tests use a few ms, production leaves it to the SDK. */
  retryBaseDelayMs?: number;
}

/** Lazily created clients: a step that never touches ELBv2 never loads its SDK. */
export interface AwsClients {
  readonly settings: AwsSettings;
  eks(): Promise<EKSClient>;
  elbv2(): Promise<ElasticLoadBalancingV2Client>;
  sts(): Promise<STSClient>;
}
