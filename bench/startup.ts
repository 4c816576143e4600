// CLI start time as a ratio to `node -e 0`, measured in the same run (interleaved, medians).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const bin = join(import.meta.dirname, '..', 'bin', 'runbook.js');
const runs = Number(process.env.BENCH_RUNS ?? 15);
const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

function time(args: string[]): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr.toString()}`);
  return performance.now() - t;
}

const cases: [string, string[]][] = [
  ['node -e 0', ['-e', '0']],
  ['runbook --version', [bin, '--version']],
  ['runbook --help', [bin, '--help']],
  ['runbook list', [bin, 'list']],
];
const samples = new Map<string, number[]>(cases.map(([n]) => [n, []]));
for (let i = 0; i < runs; i++) for (const [name, args] of cases) samples.get(name)?.push(time(args));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const base = median(samples.get('node -e 0') ?? []);
console.log(`startup (${runs} interleaved runs each, medians):`);
for (const [name] of cases) {
  const m = median(samples.get(name) ?? []);
  console.log(`  ${name.padEnd(20)} ${m.toFixed(0).padStart(5)} ms   ${(m / base).toFixed(2)}× node${name === 'runbook --version' ? '   (goal ≤ 1.25×)' : ''}`);
}
