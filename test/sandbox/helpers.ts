/* eslint-disable @typescript-eslint/no-explicit-any -- the JSON printed by aws/kubectl is untyped by nature; tests assert its shape. */
import { execFile } from 'node:child_process';
import { EKSClient } from '@aws-sdk/client-eks';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { STSClient } from '@aws-sdk/client-sts';
import { ConfiguredRetryStrategy } from '@smithy/util-retry';
import type { Clock } from '../../src/ports/clock.js';
import type { RunningSandbox } from '../../src/sandbox/index.js';

/** A wall clock the test moves by hand: with speed 1 the model follows it exactly. */
export class ManualClock implements Clock {
  constructor(public t = Date.parse('2021-06-30T08:00:00Z')) {}
  now(): number {
    return this.t;
  }
  sleep(ms: number): Promise<void> {
    this.t += ms;
    return Promise.resolve();
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

const credentials = { accessKeyId: 'AKIASANDBOXEXAMPLE01', secretAccessKey: 'sandbox-secret' };

export function clients(sb: Pick<RunningSandbox, 'endpoint' | 'region'>, opts: { attempts?: number; backoffMs?: number } = {}) {
  const retryStrategy = new ConfiguredRetryStrategy(opts.attempts ?? 3, opts.backoffMs ?? 5);
  const base = { region: sb.region, endpoint: sb.endpoint, credentials, retryStrategy };
  return { eks: new EKSClient(base), elb: new ElasticLoadBalancingV2Client(base), sts: new STSClient(base) };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: Record<string, string>, input?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

function baseEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', LANG: 'C.UTF-8' };
}

/** The installed aws CLI (v1) against the sandbox, JSON output parsed. */
export async function aws(sb: RunningSandbox, ...args: string[]): Promise<any> {
  const r = await awsRaw(sb, ...args);
  if (r.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim() === '' ? {} : JSON.parse(r.stdout);
}

export function awsRaw(sb: RunningSandbox, ...args: string[]): Promise<CliResult> {
  const env = {
    ...baseEnv(),
    AWS_ACCESS_KEY_ID: 'AKIASANDBOXEXAMPLE01',
    AWS_SECRET_ACCESS_KEY: 'sandbox-secret',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_MAX_ATTEMPTS: '1',
  };
  return run('aws', ['--endpoint-url', sb.endpoint, '--region', sb.region, '--output', 'json', ...args], env);
}

export async function kubectl(sb: RunningSandbox, args: string[], input?: string): Promise<CliResult> {
  return run('kubectl', ['--kubeconfig', sb.kubeconfigPath, ...args], baseEnv(), input);
}

export async function kubectlJson(sb: RunningSandbox, ...args: string[]): Promise<any> {
  const r = await kubectl(sb, [...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Polls until `check` returns a value, on the real clock (speed makes the model fast). */
export async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
