// A real StepContext for testing steps without the engine: real AWS clients (sandbox or moto
// over HTTP), real kubectl, a temp run directory. Outputs of earlier steps are whatever the test
// ran before; notes and status lines are collected so tests can read what the operator saw.
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { $ } from 'zx/core';
import type { AnyStep, GuardContext, Json, OutputOf, Step, StepContext } from '../../src/dsl/types.js';
import type { AwsClients } from '../../src/aws/types.js';
import type { Kube } from '../../src/kube/types.js';
import { systemClock } from '../../src/ports/clock.js';
import type { EksUpgradeParams } from '../../src/steps/context.js';
import { createAwsClients } from '../../src/aws/clients.js';
import { createKube } from '../../src/kube/kubectl.js';
import { startSandbox, type FaultSettings, type RunningSandbox, type ScenarioSpec } from '../../src/sandbox/index.js';

export interface TestRun {
  dir: string;
  notes: { stepId: string; message: string; data?: Record<string, unknown> }[];
  statuses: string[];
  /** Recorded outputs by step id (what the engine's checkpoint would hold). */
  outputs: Map<string, unknown>;
  /** remember() values by step id. */
  memo: Map<string, Record<string, Json>>;
  ctx(stepId: string, opts?: { signal?: AbortSignal }): StepContext<EksUpgradeParams>;
  guardCtx(id: string): GuardContext<EksUpgradeParams>;
  /** Runs a step's run() and records its output, as the engine would. */
  run<S extends AnyStep>(step: S): Promise<OutputOf<S>>;
  cleanup(): Promise<void>;
}

export async function testRun(o: {
  params: EksUpgradeParams;
  aws: AwsClients;
  kube: Kube;
  pollScale?: number;
}): Promise<TestRun> {
  const dir = await mkdtemp(join(tmpdir(), 'runbook-steps-'));
  const artefactsDir = join(dir, 'artefacts');
  await mkdir(artefactsDir, { recursive: true });
  const notes: TestRun['notes'] = [];
  const statuses: string[] = [];
  const outputs = new Map<string, unknown>();
  const memo = new Map<string, Record<string, Json>>();
  const ac = new AbortController();

  const ctx = (stepId: string, opts: { signal?: AbortSignal } = {}): StepContext<EksUpgradeParams> => ({
    params: o.params,
    output: ((step: Step) => {
      if (!outputs.has(step.id)) throw Object.assign(new Error(`no output for ${step.id}`), { name: 'RunbookError', code: 'PRECONDITION_FAILED' });
      return outputs.get(step.id);
    }) as StepContext<EksUpgradeParams>['output'],
    aws: o.aws,
    kube: o.kube,
    $: $({ quiet: true }),
    record: (message, data) => notes.push({ stepId, message, ...(data ? { data } : {}) }),
    status: (text) => statuses.push(text),
    remember: async <T extends Json>(key: string, make: () => T | Promise<T>): Promise<T> => {
      const m = memo.get(stepId) ?? {};
      memo.set(stepId, m);
      if (key in m) return m[key] as T;
      const v = await make();
      m[key] = v;
      return v;
    },
    forget: (key) => {
      delete memo.get(stepId)?.[key];
    },
    runDir: dir,
    artefactsDir,
    runId: 'test-run',
    stepId,
    attempt: 1,
    signal: opts.signal ?? ac.signal,
    clock: systemClock,
    dryRun: false,
    sandbox: true,
    pollScale: o.pollScale ?? 0.01,
    whilePaused: async () => undefined,
  });

  return {
    dir,
    notes,
    statuses,
    outputs,
    memo,
    ctx,
    guardCtx: (id) => {
      const full = ctx(`guard.${id}`);
      const omit = new Set(['remember', 'forget', 'attempt', 'status']);
      return Object.fromEntries(Object.entries(full).filter(([k]) => !omit.has(k))) as unknown as GuardContext<EksUpgradeParams>;
    },
    run: async <S extends AnyStep>(step: S): Promise<OutputOf<S>> => {
      const out = (await step.run(ctx(step.id))) as OutputOf<S>;
      outputs.set(step.id, out);
      return out;
    },
    cleanup: async () => {
      ac.abort();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A Kube that fails loudly: for tests of steps that must not touch Kubernetes. */
export const noKube: Kube = {
  settings: {},
  getJson: () => Promise.reject(new Error('this test does not use kubectl')),
  run: () => Promise.reject(new Error('this test does not use kubectl')),
};

/** A sandbox world plus a TestRun wired to it (real SDK clients over HTTP, real kubectl). */
export async function sandboxRun(o: {
  scenario?: string | ScenarioSpec;
  speed?: number;
  faults?: Partial<FaultSettings>;
  params?: Partial<EksUpgradeParams>;
  pollScale?: number;
}): Promise<{ sb: RunningSandbox; run: TestRun; aws: AwsClients; close(): Promise<void> }> {
  const sb = await startSandbox({ scenario: o.scenario ?? 'default', speed: o.speed ?? 3000, ...(o.faults ? { faults: o.faults } : {}) });
  const aws = createAwsClients({
    region: sb.region,
    endpoint: sb.endpoint,
    credentials: { accessKeyId: sb.env['AWS_ACCESS_KEY_ID'] ?? 'x', secretAccessKey: sb.env['AWS_SECRET_ACCESS_KEY'] ?? 'x' },
    retryBaseDelayMs: 5,
    maxAttempts: 8,
  });
  const kube = createKube({ kubeconfig: sb.kubeconfigPath });
  const run = await testRun({
    params: { cluster: sb.clusterName, region: sb.region, ...o.params },
    aws,
    kube,
    pollScale: o.pollScale ?? 0.002,
  });
  return {
    sb,
    run,
    aws,
    close: async () => {
      await run.cleanup();
      await sb.close();
    },
  };
}

/** Mutating calls the sandbox received, as "Operation" strings. */
export function mutations(sb: RunningSandbox, service?: string): string[] {
  return sb
    .journal()
    .filter((j) => service === undefined || j.service === service)
    .map((j) => j.operation);
}
