import type { EKSClient } from '@aws-sdk/client-eks';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { STSClient } from '@aws-sdk/client-sts';
import type { RetryStrategyV2 } from '@smithy/types';
import { isRunbookError } from '../errors.js';
import { toRunbookError } from './errors.js';
import type { AwsClients, AwsSettings } from './types.js';

/** The part of every SDK client config we set; the rest is the SDK's default chain. */
interface CommonConfig {
  region?: string;
  profile?: string;
  endpoint?: string;
  maxAttempts?: number;
  retryStrategy?: RetryStrategyV2;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * Clients for EKS, ELBv2 and STS built on first use, so a command that never calls AWS never
 * pays for loading the SDK. Credentials come from the SDK's default chain (env, `profile`,
 * SSO, web identity, instance roles) unless `settings.credentials` is given.
 *
 * @example
 * const aws = createAwsClients({ region: 'eu-west-1', profile: 'prod' });
 * const eks = await aws.eks();
 */
export function createAwsClients(settings: AwsSettings): AwsClients {
  let eks: Promise<EKSClient> | undefined;
  let elbv2: Promise<ElasticLoadBalancingV2Client> | undefined;
  let sts: Promise<STSClient> | undefined;
  return {
    settings,
    eks: () => (eks ??= makeEks(settings)),
    elbv2: () => (elbv2 ??= makeElbv2(settings)),
    sts: () => (sts ??= makeSts(settings)),
  };
}

async function makeEks(s: AwsSettings): Promise<EKSClient> {
  const { EKSClient } = await import('@aws-sdk/client-eks');
  return withErrorMapping(new EKSClient(await commonConfig(s)));
}

async function makeElbv2(s: AwsSettings): Promise<ElasticLoadBalancingV2Client> {
  const { ElasticLoadBalancingV2Client } = await import('@aws-sdk/client-elastic-load-balancing-v2');
  return withErrorMapping(new ElasticLoadBalancingV2Client(await commonConfig(s)));
}

async function makeSts(s: AwsSettings): Promise<STSClient> {
  const { STSClient } = await import('@aws-sdk/client-sts');
  return withErrorMapping(new STSClient(await commonConfig(s)));
}

export async function commonConfig(s: AwsSettings): Promise<CommonConfig> {
  // No region given: the SDK's own chain (AWS_REGION, the profile's region) gets its chance;
  // if it finds none either, the first call fails with AWS_CREDENTIALS (see withErrorMapping).
  const cfg: CommonConfig = s.region ? { region: s.region } : {};
  if (s.profile) cfg.profile = s.profile;
  if (s.endpoint) cfg.endpoint = s.endpoint;
  if (s.credentials) cfg.credentials = { ...s.credentials };
  if (s.retryBaseDelayMs !== undefined) {
    // Tests and the sandbox want throttling retries in milliseconds, not the SDK's seconds.
    const { ConfiguredRetryStrategy } = await import('@smithy/util-retry');
    const base = s.retryBaseDelayMs;
    cfg.retryStrategy = new ConfiguredRetryStrategy(s.maxAttempts ?? 5, (attempt) =>
      Math.round(base * 2 ** Math.min(attempt, 6) * (0.5 + Math.random() / 2)),
    );
  } else if (s.maxAttempts !== undefined) {
    cfg.maxAttempts = s.maxAttempts;
  }
  return cfg;
}

interface MiddlewareClient {
  middlewareStack: {
    add(
      mw: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
      opts: { step: 'initialize'; name: string; priority?: 'high' | 'low' | 'normal' },
    ): void;
  };
}

/**
 * Credential and region failures surface deep inside the SDK (signing, endpoint resolution);
 * catching them at the outermost middleware turns them into one AWS_CREDENTIALS error with a
 * hint. Service errors stay SDK errors so callers can branch on their names.
 */
function withErrorMapping<C>(client: C): C {
  (client as unknown as MiddlewareClient).middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (e) {
        const mapped = toRunbookError(e, 'AWS');
        if (isRunbookError(mapped) && mapped.code === 'AWS_CREDENTIALS') throw mapped;
        throw e;
      }
    },
    { step: 'initialize', name: 'runbookCredentialErrors', priority: 'high' },
  );
  return client;
}
