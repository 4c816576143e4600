/* eslint-disable @typescript-eslint/no-explicit-any -- what aws/kubectl/the control endpoint print is untyped JSON; the tests assert its shape. */
// End-to-end helpers: the real CLI (bin/runbook.js → dist/) in child processes, a sandbox on
// 127.0.0.1 reached over HTTP, and the real `aws` and `kubectl` to look at the world afterwards.
// Nothing here imports the engine, the steps or the store: the world and the run directory are
// read the way an operator would read them.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { runCli, startCli, type CliOptions, type CliResult, BIN, ROOT } from '../helpers/cli.js';

export const CLUSTER = 'prod-eu';
export const REGION = 'eu-west-1';
export const FIX_ID = 'deregistration-delay';
export const MUTATING_STEPS = ['upgrade-control-plane', 'addon-vpc-cni', 'addon-coredns', 'addon-kube-proxy', 'upgrade-nodegroups'] as const;
export const READ_ONLY_STEPS = [
  'preflight-identity',
  'preflight-cluster',
  'preflight-nodegroups',
  'preflight-insights',
  'preflight-addon-versions',
  'fix.deregistration-delay',
  'snapshot-target-groups',
  'post-checks',
] as const;
export const ADDONS = ['vpc-cni', 'coredns', 'kube-proxy'] as const;

/**
 * Poll scale for runs pointed at a standalone sandbox (the CLI uses 0.02 only with `--sandbox`;
 * with `--endpoint-url` it would poll at production pace: 5 s guard interval).
 */
export const POLL_SCALE = '0.02';

/** Dummy credentials: the sandbox accepts any; they must never reach a real account. */
export const DUMMY_AWS_ENV: Record<string, string | undefined> = {
  AWS_ACCESS_KEY_ID: 'AKIAE2EDUMMYKEY00001',
  AWS_SECRET_ACCESS_KEY: 'e2e-dummy-secret-access-key-not-real',
  AWS_REGION: REGION,
  AWS_DEFAULT_REGION: REGION,
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_PAGER: '',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  AWS_PROFILE: undefined,
  AWS_ENDPOINT_URL: undefined,
  KUBECONFIG: undefined,
  RUNBOOK_STATE_DIR: undefined,
  RUNBOOK_POLL_SCALE: undefined,
};

export function freshDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `runbook-e2e-${prefix}-`));
}

export function runIds(stateDir: string): string[] {
  const d = join(stateDir, 'runs');
  return existsSync(d) ? readdirSync(d) : [];
}

/** What a standalone sandbox exposes to the runner and to the test. */
export interface WorldHandle {
  endpoint: string;
  kubeconfigPath: string;
}

/** `--endpoint-url … --kubeconfig … --cluster prod-eu --region eu-west-1`: a run pointed at a standalone sandbox. */
export function targetArgs(w: WorldHandle): string[] {
  return ['--endpoint-url', w.endpoint, '--kubeconfig', w.kubeconfigPath, '--cluster', CLUSTER, '--region', REGION];
}

/** Env of a runner pointed at a standalone sandbox: dummy creds, sandbox-like poll scale. */
export function runnerEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return { ...DUMMY_AWS_ENV, RUNBOOK_POLL_SCALE: POLL_SCALE, ...extra };
}

export function cli(stateDir: string, args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return runCli(['--state-dir', stateDir, ...args], { timeoutMs: 90_000, ...opts, env: { ...DUMMY_AWS_ENV, ...opts.env } });
}

export function cliStart(stateDir: string, args: string[], opts: CliOptions = {}): ReturnType<typeof startCli> {
  return startCli(['--state-dir', stateDir, ...args], { timeoutMs: 90_000, ...opts, env: { ...DUMMY_AWS_ENV, ...opts.env } });
}

export interface RunReport {
  runId: string;
  runbook: string;
  status: string;
  exitCode: number;
  steps: { id: string; title: string; mutates: boolean; result: string; durationMs?: number | null; note?: string | null }[];
  error: { code: string; message: string; hint: string | null } | null;
  runDir: string;
}

/** The report `run --json` prints (stdout is exactly that one document; default.test.ts checks it). */
export function runReport(stdout: string): RunReport {
  const lines = stdout.split('\n');
  const start = lines.lastIndexOf('{');
  if (start < 0) throw new Error(`no JSON report in stdout:\n${stdout.slice(-2000)}`);
  return JSON.parse(lines.slice(start).join('\n')) as RunReport;
}

export interface Event {
  seq: number;
  ts: string;
  type: string;
  actor: string;
  stepId?: string;
  message: string;
  data?: Record<string, any>;
}

export interface TimelineExport {
  format: string;
  version: number;
  runId: string;
  events: Event[];
  stats: any;
}

/** `runbook timeline <id> --format json`, through the CLI. */
export async function timelineJson(stateDir: string, runId: string): Promise<TimelineExport> {
  const r = await cli(stateDir, ['timeline', runId, '--format', 'json']);
  if (r.code !== 0) throw new Error(`runbook timeline exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as TimelineExport;
}

export function indexOf(events: readonly Event[], pred: (e: Event) => boolean, what: string): number {
  const i = events.findIndex(pred);
  if (i < 0) throw new Error(`timeline has no ${what}: ${events.map((e) => `${e.type}${e.stepId ? `(${e.stepId})` : ''}`).join(', ')}`);
  return i;
}

export const ofType = (events: readonly Event[], type: string): Event[] => events.filter((e) => e.type === type);
export const stepEvents = (events: readonly Event[], type: string, stepId: string): Event[] => events.filter((e) => e.type === type && e.stepId === stepId);

// ---------------------------------------------------------------------------------------------
// The sandbox from outside: control endpoint over HTTP.

export interface JournalEntry {
  at: string;
  modelAt: string;
  service: string;
  operation: string;
  params: any;
  status: number;
}

export interface FaultRecord {
  at: string;
  modelAt: string;
  kind: string;
  cause: string;
  trigger: string;
  targetGroupArns: string[];
  protectedTargetGroupArns: string[];
}

async function control<T>(endpoint: string, path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(`${endpoint}/_sandbox/${path}`, init);
  if (!res.ok) throw new Error(`sandbox control ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export const journalOf = (endpoint: string): Promise<JournalEntry[]> => control(endpoint, 'journal');
export const faultRecordsOf = (endpoint: string): Promise<FaultRecord[]> => control(endpoint, 'fault-records');
export const setFaultsOver = (endpoint: string, faults: Record<string, unknown>): Promise<unknown> =>
  control(endpoint, 'faults', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) });

/** `runbook sandbox start --json` in its own process: a world that outlives the runners pointed at it. */
export interface StandaloneSandbox extends WorldHandle {
  child: ChildProcess;
  info: { endpoint: string; kubeconfig: string; region: string; cluster: string; account: string; scenario: string; speed: number };
  stop(): Promise<void>;
}

export async function startStandaloneSandbox(args: string[] = []): Promise<StandaloneSandbox> {
  const dir = freshDir('sandbox');
  const child = spawn(process.execPath, [BIN, 'sandbox', 'start', '--json', '--dir', dir, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const info = await new Promise<StandaloneSandbox['info']>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sandbox did not start in 20 s: ${out}${err}`)), 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(out.slice(0, nl)) as StandaloneSandbox['info']);
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`sandbox exited ${code}: ${out}${err}`));
    });
  });
  return {
    child,
    info,
    endpoint: info.endpoint,
    kubeconfigPath: info.kubeconfig,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The real tools an operator would use to look at the world.

function exec(cmd: string, args: string[], env: Record<string, string | undefined>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: 30_000, maxBuffer: 32 * 1024 * 1024 }, (e, stdout, stderr) => {
      const code = e ? (typeof (e as { code?: unknown }).code === 'number' ? (e as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function toolEnv(): Record<string, string | undefined> {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', ...DUMMY_AWS_ENV };
}

/** The installed aws CLI against the world, JSON output parsed. */
export async function aws(w: WorldHandle, ...args: string[]): Promise<any> {
  const r = await exec('aws', [...args, '--endpoint-url', w.endpoint, '--region', REGION, '--output', 'json'], toolEnv());
  if (r.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim() === '' ? {} : JSON.parse(r.stdout);
}

/** kubectl against the world's cluster, `-o json` parsed. */
export async function kubectl(w: WorldHandle, ...args: string[]): Promise<any> {
  const r = await exec('kubectl', ['--kubeconfig', w.kubeconfigPath, ...args, '-o', 'json'], toolEnv());
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Every target group of the cluster's ALBs, as `aws elbv2` sees it: attachment and health. */
export interface TgView {
  arn: string;
  name: string;
  loadBalancerArns: string[];
  /** Listener rules (any listener of the cluster's ALBs) whose actions forward to this group. */
  forwardingRules: string[];
  targets: { id: string; state: string }[];
  deregistrationDelay: number;
}

/**
 * Every target group tagged for the cluster, read with the plain AWS SDK (not our src/aws
 * helpers: this is the outside view). The aws CLI costs ~0.5 s a call here; the ~25 reads this
 * takes would dominate the suite.
 */
export async function targetGroupsSeenByAws(w: WorldHandle): Promise<TgView[]> {
  const elb = new ElasticLoadBalancingV2Client({
    endpoint: w.endpoint,
    region: REGION,
    credentials: { accessKeyId: DUMMY_AWS_ENV.AWS_ACCESS_KEY_ID!, secretAccessKey: DUMMY_AWS_ENV.AWS_SECRET_ACCESS_KEY! },
  });
  try {
    const tagged = async (arns: string[]): Promise<Set<string>> => {
      const out = new Set<string>();
      for (let i = 0; i < arns.length; i += 20) {
        const { TagDescriptions = [] } = await elb.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
        for (const t of TagDescriptions) if (t.Tags?.some((x) => x.Key === 'elbv2.k8s.aws/cluster' && x.Value === CLUSTER)) out.add(t.ResourceArn!);
      }
      return out;
    };
    const { LoadBalancers = [] } = await elb.send(new DescribeLoadBalancersCommand({}));
    const ours = await tagged(LoadBalancers.map((l) => l.LoadBalancerArn!));
    const forwarding = new Map<string, string[]>();
    for (const lb of ours) {
      const { Listeners = [] } = await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb }));
      for (const l of Listeners) {
        const { Rules = [] } = await elb.send(new DescribeRulesCommand({ ListenerArn: l.ListenerArn! }));
        for (const r of Rules) {
          const tgs = new Set((r.Actions ?? []).flatMap((a) => [a.TargetGroupArn, ...(a.ForwardConfig?.TargetGroups ?? []).map((t) => t.TargetGroupArn)]).filter((x): x is string => !!x));
          for (const tg of tgs) forwarding.set(tg, [...(forwarding.get(tg) ?? []), r.RuleArn!]);
        }
      }
    }
    const { TargetGroups = [] } = await elb.send(new DescribeTargetGroupsCommand({ PageSize: 400 }));
    const clusterTgs = await tagged(TargetGroups.map((t) => t.TargetGroupArn!));
    const out: TgView[] = [];
    for (const tg of TargetGroups.filter((t) => clusterTgs.has(t.TargetGroupArn!))) {
      const arn = tg.TargetGroupArn!;
      const { TargetHealthDescriptions = [] } = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
      const { Attributes = [] } = await elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }));
      out.push({
        arn,
        name: tg.TargetGroupName!,
        loadBalancerArns: tg.LoadBalancerArns ?? [],
        forwardingRules: forwarding.get(arn) ?? [],
        targets: TargetHealthDescriptions.map((h) => ({ id: h.Target!.Id!, state: h.TargetHealth!.State! })),
        deregistrationDelay: Number(Attributes.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value),
      });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  } finally {
    elb.destroy();
  }
}

/** Wall-clock ms of an ISO timestamp. */
export const ms = (iso: string): number => Date.parse(iso);

/** Polls an async predicate until it holds (bounded). */
export async function waitUntil(pred: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000, everyMs = 25): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Every file under a directory (recursive), relative path → content. */
export function filesUnder(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string): void => {
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, ent.name);
      const r = rel ? `${rel}/${ent.name}` : ent.name;
      if (ent.isDirectory()) walk(p, r);
      else out.set(r, readFileSync(p, 'utf8'));
    }
  };
  walk(dir, '');
  return out;
}
