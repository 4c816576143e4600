// The full default-scenario rehearsal as an operator runs it: `runbook run eks-1.20 --sandbox
// --yes` through the real CLI (bin/runbook.js → dist/) in a child process, a few times; wall
// time from spawn to exit, median. Prints figures; asserts nothing. Goal: ≤ 10 s.
//
//   npx tsx bench/rehearsal.ts [runs=3]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'runbook.js');
const runs = Math.max(1, Number(process.argv[2] ?? 3) || 3);

interface Sample {
  wallMs: number;
  code: number | null;
  /** run.started → run.completed as the timeline recorded it (the run itself, no process start). */
  runMs: number | null;
  steps: Record<string, number>;
}

function once(): Promise<Sample> {
  const stateDir = mkdtempSync(join(tmpdir(), 'runbook-bench-rehearsal-'));
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, 'run', 'eks-1.20', '--sandbox', '--yes', '--state-dir', stateDir], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const wallMs = performance.now() - t0;
      let runMs: number | null = null;
      const steps: Record<string, number> = {};
      try {
        const [id] = readdirSync(join(stateDir, 'runs'));
        const events = readFileSync(join(stateDir, 'runs', id!, 'timeline.jsonl'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { type: string; ts: string; stepId?: string; data?: { durationMs?: number } });
        const start = events.find((e) => e.type === 'run.started');
        const end = events.find((e) => e.type === 'run.completed');
        if (start && end) runMs = Date.parse(end.ts) - Date.parse(start.ts);
        for (const e of events) if (e.type === 'step.completed' && e.stepId && typeof e.data?.durationMs === 'number') steps[e.stepId] = e.data.durationMs;
      } catch {
        // a failed run: reported through its exit code below
      }
      if (code !== 0) console.log(`  run exited ${code}: ${err.slice(-500)}`);
      rmSync(stateDir, { recursive: true, force: true });
      resolve({ wallMs, code, runMs, steps });
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  console.log(`Full default-scenario rehearsal: runbook run eks-1.20 --sandbox --yes (${runs} runs, sequential)`);
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    const s = await once();
    samples.push(s);
    console.log(`  run ${i + 1}: ${(s.wallMs / 1000).toFixed(2)} s wall (exit ${s.code}), run.started → run.completed ${s.runMs === null ? '?' : `${(s.runMs / 1000).toFixed(2)} s`}`);
  }
  const ok = samples.filter((s) => s.code === 0);
  if (ok.length === 0) {
    console.log('  no run completed: no figure');
    process.exitCode = 1;
    return;
  }
  const wall = median(ok.map((s) => s.wallMs)) / 1000;
  const inRun = median(ok.flatMap((s) => (s.runMs === null ? [] : [s.runMs]))) / 1000;
  console.log(`  median wall time: ${wall.toFixed(2)} s  (goal ≤ 10 s)`);
  console.log(`  median run.started → run.completed: ${inRun.toFixed(2)} s; the rest (${(wall - inRun).toFixed(2)} s) is process start, runbook load, sandbox start and exit`);
  const ids = Object.keys(ok[0]!.steps);
  const rows = ids.map((id) => [id, median(ok.map((s) => s.steps[id] ?? 0))] as const).sort((a, b) => b[1] - a[1]);
  console.log('  median step durations (slowest first):');
  for (const [id, ms] of rows.slice(0, 8)) console.log(`    ${id.padEnd(28)} ${(ms / 1000).toFixed(2)} s`);
}

await main();
