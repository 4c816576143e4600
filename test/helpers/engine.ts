import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { $ } from 'zx/core';
import { createAwsClients } from '../../src/aws/clients.js';
import { loadRunbook } from '../../src/dsl/load.js';
import { resumeRun, startRun } from '../../src/engine/session.js';
import type { EngineDeps, EngineSettings } from '../../src/engine/types.js';
import { createKube } from '../../src/kube/kubectl.js';
import { systemClock } from '../../src/ports/clock.js';
import { nullNotifier } from '../../src/ports/notifier.js';
import type { Prompter } from '../../src/ports/prompter.js';
import { recordedShell } from '../../src/ports/shell.js';
import { RunStore } from '../../src/store/run-store.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
export const FILE_WORLD = join(FIXTURES, 'runbooks', 'file-world.ts');

export function tempDir(prefix = 'runbook-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function settings(over: Partial<EngineSettings> = {}): EngineSettings {
  return {
    dryRun: false,
    sandbox: false,
    yes: true,
    interactive: false,
    applyKnownFixes: false,
    skipKnownFixes: {},
    onFailure: 'abort',
    remediate: 'auto',
    pollScale: 0.01,
    renderer: 'silent',
    ...over,
  };
}

export function deps(over: Partial<EngineDeps> = {}): EngineDeps {
  return {
    clock: systemClock,
    // Never called by the file-world runbook; real factories, created lazily.
    aws: createAwsClients({ region: 'local-1' }),
    kube: createKube({}),
    shell: (record, signal) => recordedShell($, record, signal),
    notifier: nullNotifier,
    ...over,
  };
}

export interface Harness {
  stateDir: string;
  world: string;
  store: RunStore;
}

export function harness(): Harness {
  const stateDir = tempDir('runbook-state-');
  return { stateDir, world: join(tempDir('runbook-world-'), 'w'), store: new RunStore({ stateDir, clock: systemClock, actor: 'tester@test' }) };
}

export async function runFixture(
  h: Harness,
  params: Record<string, unknown>,
  s: Partial<EngineSettings> = {},
  prompter?: Prompter,
  file = FILE_WORLD,
) {
  const loaded = await loadRunbook(file);
  return startRun({
    store: h.store,
    loaded,
    params: loaded.runbook.params.parse({ world: h.world, ...params }),
    settings: settings(s),
    deps: deps(prompter ? { prompter } : {}),
    host: 'test-host',
    pid: process.pid,
  });
}

export async function resumeFixture(
  h: Harness,
  runId: string,
  s: Partial<EngineSettings> = {},
  extra: { force?: boolean; rerunInFlight?: boolean; file?: string } = {},
) {
  const loaded = await loadRunbook(extra.file ?? FILE_WORLD);
  return resumeRun({
    store: h.store,
    loaded,
    runId,
    force: extra.force ?? false,
    rerunInFlight: extra.rerunInFlight ?? false,
    settings: settings(s),
    deps: deps(),
    host: 'test-host',
    pid: process.pid,
  });
}
