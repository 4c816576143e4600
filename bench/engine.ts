// Engine overhead per step on a 1,000-step no-op runbook, checkpoint and timeline fsyncs
// included. Prints figures; asserts nothing about time.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { $ } from 'zx/core';
import { createAwsClients } from '../src/aws/clients.js';
import { loadRunbook } from '../src/dsl/load.js';
import { startRun } from '../src/engine/session.js';
import { createKube } from '../src/kube/kubectl.js';
import { systemClock } from '../src/ports/clock.js';
import { nullNotifier } from '../src/ports/notifier.js';
import { recordedShell } from '../src/ports/shell.js';
import { RunStore } from '../src/store/run-store.js';

const loaded = await loadRunbook(join(import.meta.dirname, 'fixtures', 'noop-1000.ts'));
const stateDir = mkdtempSync(join(tmpdir(), 'bench-engine-'));
const store = new RunStore({ stateDir, clock: systemClock, actor: 'bench@local' });
const starts: number[] = [];
const t0 = performance.now();
const { run, outcome } = await startRun({
  store,
  loaded,
  params: {},
  settings: { dryRun: false, sandbox: false, yes: true, interactive: false, applyKnownFixes: false, skipKnownFixes: {}, onFailure: 'abort', remediate: 'off', pollScale: 1, renderer: 'silent' },
  deps: { clock: systemClock, aws: createAwsClients({ region: 'local-1' }), kube: createKube({}), shell: (r, s) => recordedShell($, r, s), notifier: nullNotifier },
  host: 'bench',
  pid: process.pid,
  onStart: (_ex, r) => r.onEvent((e) => e.type === 'step.started' && starts.push(performance.now())),
});
const total = performance.now() - t0;
const events = run.events();
// Per-step wall time from its step.started to the next step's step.started (approval included).
const gaps = starts.slice(1).map((t, i) => t - (starts[i] ?? t)).sort((a, b) => a - b);
const pct = (p: number): number => gaps[Math.min(gaps.length - 1, Math.floor((gaps.length * p) / 100))] ?? NaN;
const steps = outcome.rows.length;
console.log(`engine: ${steps} no-op steps (half mutating, pre-approved), status ${outcome.status}`);
console.log(`  total ${total.toFixed(0)} ms → ${(total / steps).toFixed(2)} ms/step mean`);
console.log(`  per step (ms): median ${pct(50).toFixed(2)}  p90 ${pct(90).toFixed(2)}  p99 ${pct(99).toFixed(2)}  (goal: median ≤ 2 ms)`);
console.log(`  ${events.length} timeline events fsynced, checkpoint group-committed (≤ 250 ms behind the fsynced timeline)`);
