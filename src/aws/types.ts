import type { EKSClient } from '@aws-sdk/client-eks';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { STSClient } from '@aws-sdk/client-sts';

/** Static credentials, e.g. the sandbox's dummy keys; without them the SDK's default chain is used. */
export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

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
  /**
   * Explicit credentials (the in-process sandbox passes its dummy keys here so nothing has to
   * touch process.env). Absent: env, `profile`, SSO, instance roles — the SDK's default chain.
   */
  credentials?: StaticCredentials;
}

/** Lazily created clients: a step that never touches ELBv2 never loads its SDK. */
export interface AwsClients {
  readonly settings: AwsSettings;
  eks(): Promise<EKSClient>;
  elbv2(): Promise<ElasticLoadBalancingV2Client>;
  sts(): Promise<STSClient>;
}
