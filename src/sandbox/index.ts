import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunbookError } from '../errors.js';
import { systemClock, type Clock } from '../ports/clock.js';
import { ScaledClock } from './clock.js';
import { DEFAULT_FAULTS, type FaultSettings } from './faults.js';
import type { FaultRecord, JournalEntry } from './journal.js';
import { kubeconfigYaml, writeKubeconfig } from './kubeconfig.js';
import { buildWorld } from './model/build.js';
import type { World } from './model/types.js';
import type { ScenarioSpec } from './scenario.js';
import { resolveScenario } from './scenarios.js';
import { SandboxServer, type PersistedState } from './server.js';

export type { FaultSettings } from './faults.js';
export type { FaultRecord, JournalEntry } from './journal.js';
export type { Scenario, ScenarioSpec } from './scenario.js';
export { parseScenario, loadScenarioFile } from './scenario.js';
export {
  AWS_DEFAULT_DEREGISTRATION_DELAY_SECONDS,
  BUILTIN_SCENARIOS,
  INCIDENT_TRIGGERS,
  KNOWN_FIX_DEREGISTRATION_DELAY_SECONDS,
  resolveScenario,
  scaleScenario,
} from './scenarios.js';
export { buildWorld } from './model/build.js';
export { ScaledClock } from './clock.js';
export { DEFAULT_FAULTS } from './faults.js';

export const DEFAULT_SPEED = 600;

export interface SandboxOptions {
  /** 'default' | '2021-06-30' | path to a JSON/YAML scenario file | inline scenario data. */
  scenario?: string | ScenarioSpec;
  /** 0 / undefined = a free port. */
  port?: number;
  /** Persist the world (and journal) here; an existing file is resumed instead of the scenario. */
  stateFile?: string;
  /** Model-time multiplier: 1 = real pace; default 600 (a 10-minute upgrade takes 1 s). */
  speed?: number;
  /** Where to write the kubeconfig (default: a fresh temp dir). */
  dir?: string;
  faults?: Partial<FaultSettings>;
  /** Wall clock underneath the model clock (tests may pass a fake). */
  clock?: Clock;
}

export interface RunningSandbox {
  endpoint: string;
  kubeconfigPath: string;
  region: string;
  clusterName: string;
  accountId: string;
  scenario: string;
  speed: number;
  /** AWS_ENDPOINT_URL, AWS_REGION, AWS_DEFAULT_REGION, dummy AWS keys, KUBECONFIG. */
  env: Record<string, string>;
  /** The world's clock: `now()` is model time, `sleep(ms)` waits `ms` of model time. */
  modelClock: Clock;
  /** Every mutating call received, in order. */
  journal(): JournalEntry[];
  /** When faults (scenario incident, forced, injected) happened. */
  faultRecords(): FaultRecord[];
  faults(): FaultSettings;
  setFaults(f: Partial<FaultSettings>): void;
  /** The live world (read it, don't write it): for tests and benchmarks that inspect state. */
  world(): World;
  close(): Promise<void>;
}

/**
 * Starts the simulated EKS + ELBv2 + STS + Kubernetes world on 127.0.0.1.
 *
 * @example
 * const sb = await startSandbox({ scenario: '2021-06-30' });
 * const eks = new EKSClient({ endpoint: sb.endpoint, region: sb.region, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
 * await sb.close();
 */
export async function startSandbox(opts: SandboxOptions = {}): Promise<RunningSandbox> {
  const speed = opts.speed ?? DEFAULT_SPEED;
  if (!Number.isFinite(speed) || speed <= 0) {
    throw new RunbookError('SANDBOX_ERROR', `invalid sandbox speed ${String(opts.speed)}`, { hint: 'Pass a positive number: 1 is real pace, 600 makes a 10-minute upgrade take a second.' });
  }
  const real = opts.clock ?? systemClock;
  const resumed = opts.stateFile !== undefined && existsSync(opts.stateFile) ? readState(opts.stateFile) : undefined;
  let world: World;
  let clock: ScaledClock;
  if (resumed) {
    world = resumed.world;
    // Downtime does not count: the world goes on from where it stopped.
    clock = new ScaledClock({ real, speed, modelStart: world.now });
  } else {
    const scenario = await resolveScenario(opts.scenario);
    const start = scenario.startTime !== undefined ? Date.parse(scenario.startTime) : real.now();
    clock = new ScaledClock({ real, speed, modelStart: start });
    world = buildWorld(scenario, start);
  }
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'runbook-sandbox-')));
  await mkdir(dir, { recursive: true });
  let kubeconfigPath = join(dir, 'kubeconfig');
  const server = new SandboxServer({
    world,
    clock,
    real,
    journal: resumed?.journal ?? [],
    ...(opts.stateFile !== undefined ? { stateFile: opts.stateFile } : {}),
    info: () => ({ kubeconfigPath, env }),
  });
  if (opts.faults) server.setFaults({ ...opts.faults });
  const endpoint = await server.listen(opts.port ?? 0);
  kubeconfigPath = await writeKubeconfig(dir, kubeconfigYaml(endpoint, Object.keys(world.clusters), world.region, world.accountId));
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: world.region,
    AWS_DEFAULT_REGION: world.region,
    AWS_ACCESS_KEY_ID: 'AKIASANDBOXEXAMPLE01',
    AWS_SECRET_ACCESS_KEY: 'sandbox-secret-access-key-not-a-secret',
    KUBECONFIG: kubeconfigPath,
  };
  server.persist();
  return {
    endpoint,
    kubeconfigPath,
    region: world.region,
    clusterName: world.mainCluster,
    accountId: world.accountId,
    scenario: world.scenario,
    speed,
    env,
    modelClock: clock,
    journal: () => server.journal.map((j) => ({ ...j })),
    faultRecords: () => server.faultRecords(),
    faults: () => ({ ...DEFAULT_FAULTS, ...world.faults }),
    setFaults: (f) => void server.setFaults(f),
    world: () => {
      server.advanceNow();
      return world;
    },
    close: () => server.close(),
  };
}

function readState(path: string): PersistedState {
  let state: PersistedState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as PersistedState;
  } catch (e) {
    throw new RunbookError('SANDBOX_ERROR', `cannot read sandbox state file ${path}: ${(e as Error).message}`, {
      hint: 'Delete the file to start the scenario afresh, or pass another --state path.',
      cause: e,
    });
  }
  if (state.schema !== 1 || typeof state.world !== 'object' || state.world === null || state.world.schema !== 1) {
    throw new RunbookError('SANDBOX_ERROR', `sandbox state file ${path} is not a state file of this version`, {
      hint: 'Delete the file to start the scenario afresh, or pass another --state path.',
    });
  }
  return state;
}
