// Incident detection and recovery in the 2021-06-30 world with the known fix skipped on purpose:
// the sandbox's fault record (when the target groups were detached) → `incident.detected` → and →
// `incident.resolved`, for every incident of a full run through the real CLI. Prints figures;
// asserts nothing. Goals (issue 4): detection ≤ 1 guard interval, resolution ≤ 3.
//
// The guard interval is 5 s × pollScale. One guard poll costs several ELBv2 Describe calls
// (DescribeTargetGroups + one DescribeTargetHealth per group + DescribeRules per listener) drawn
// from the shared 10/s budget, so at small poll scales the budget, not the interval, sets the
// pace. A counting proxy between the runner and the sandbox measures the real poll period (during
// the control-plane step only the guard reads ELBv2), and the figures are given both ways.
//
//   npx tsx bench/incident.ts [pollScale…]   (default: 0.02 0.2)
import { spawn } from 'node:child_process';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'runbook.js');
const GUARD_INTERVAL_MS = 5_000; // src/steps/target-group-guard.ts, production value
const scales = process.argv.slice(2).map(Number).filter((n) => n > 0);
if (scales.length === 0) scales.push(0.02, 0.2);

interface Call {
  at: number;
  action: string;
}

/** A pass-through proxy that notes every ELBv2 action (awsQuery `Action=` in the form body). */
async function countingProxy(target: string): Promise<{ url: string; calls: Call[]; close(): Promise<void> }> {
  const calls: Call[] = [];
  const to = new URL(target);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const action = /(?:^|&)Action=([A-Za-z]+)/.exec(body.toString('utf8'))?.[1];
      if (action) calls.push({ at: Date.now(), action });
      const up = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', (e) => res.writeHead(502).end(String(e)));
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Ev {
  type: string;
  ts: string;
  stepId?: string;
  data?: Record<string, unknown>;
}

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; err: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, err })));
}

const fmt = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;
const x = (v: number): string => `${v.toFixed(2)}×`;

async function measure(scale: number): Promise<void> {
  const sb: RunningSandbox = await startSandbox({ scenario: '2021-06-30' });
  const proxy = await countingProxy(sb.endpoint);
  const stateDir = mkdtempSync(join(tmpdir(), 'runbook-bench-incident-'));
  try {
    const t0 = performance.now();
    const r = await runCli(
      ['run', 'eks-1.20', '--yes', '--skip-known-fix', 'deregistration-delay=benchmarking the incident', '--endpoint-url', proxy.url, '--kubeconfig', sb.kubeconfigPath, '--cluster', sb.clusterName, '--region', sb.region, '--state-dir', stateDir],
      { ...sb.env, AWS_ENDPOINT_URL: proxy.url, RUNBOOK_POLL_SCALE: String(scale) },
    );
    const wall = performance.now() - t0;
    const [id] = readdirSync(join(stateDir, 'runs'));
    const events = readFileSync(join(stateDir, 'runs', id!, 'timeline.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Ev);
    const faults = sb.faultRecords().filter((f) => f.kind === 'target-groups-detached');
    const interval = GUARD_INTERVAL_MS * scale;

    // The real guard pace: during the control-plane step nothing but the guard reads ELBv2.
    const cpStart = events.find((e) => e.type === 'step.started' && e.stepId === 'upgrade-control-plane');
    const cpEnd = events.find((e) => e.type === 'step.completed' && e.stepId === 'upgrade-control-plane');
    let period = interval;
    let callsPerPoll = NaN;
    if (cpStart && cpEnd) {
      const a = Date.parse(cpStart.ts);
      const b = Date.parse(cpEnd.ts);
      const inWindow = proxy.calls.filter((c) => c.at >= a && c.at <= b);
      const polls = inWindow.filter((c) => c.action === 'DescribeTargetGroups').length;
      callsPerPoll = polls ? inWindow.length / polls : NaN;
      if (polls > 1) period = (b - a) / polls;
    }
    console.log(`\npollScale ${scale}: guard interval ${fmt(interval)}; run exit ${r.code}, ${fmt(wall)} wall`);
    if (r.code !== 0) console.log(`  ${r.err.slice(-400)}`);
    console.log(`  one guard poll = ${callsPerPoll.toFixed(1)} ELBv2 Describe calls; at 10 calls/s that is ≥ ${fmt((callsPerPoll / 10) * 1000)} of budget per poll`);
    console.log(`  measured guard poll period (control-plane step, guard alone on ELBv2): ${fmt(period)} = ${x(period / interval)} the interval`);

    const detected = events.filter((e) => e.type === 'incident.detected');
    const resolved = events.filter((e) => e.type === 'incident.resolved');
    console.log(`  ${faults.length} detachment fault record(s), ${detected.length} incident(s)`);
    console.log('  incident   fault→detected            fault→resolved            (in intervals | in measured poll periods)');
    let prevResolved = 0;
    const ttd: number[] = [];
    const ttr: number[] = [];
    for (const d of detected) {
      const dAt = Date.parse(d.ts);
      const res = resolved.find((e) => e.data?.incidentId === d.data?.incidentId);
      // The fault that opened this incident: the first detachment after the previous one closed.
      const fault = faults.find((f) => Date.parse(f.at) > prevResolved && Date.parse(f.at) <= dAt);
      if (!fault || !res) {
        console.log(`  ${String(d.data?.incidentId)}: ${fault ? 'never resolved' : 'no fault record before it'}`);
        continue;
      }
      const f = Date.parse(fault.at);
      const rAt = Date.parse(res.ts);
      prevResolved = rAt;
      ttd.push(dAt - f);
      ttr.push(rAt - f);
      console.log(
        `  ${String(d.data?.incidentId).padEnd(10)} ${fmt(dAt - f).padEnd(9)} ${x((dAt - f) / interval).padEnd(7)} | ${x((dAt - f) / period).padEnd(6)}   ${fmt(rAt - f).padEnd(9)} ${x((rAt - f) / interval).padEnd(7)} | ${x((rAt - f) / period)}`,
      );
    }
    if (ttd.length) {
      const max = (xs: number[]): number => Math.max(...xs);
      console.log(`  worst: detection ${x(max(ttd) / interval)} interval (${x(max(ttd) / period)} poll periods), goal ≤ 1; resolution ${x(max(ttr) / interval)} intervals (${x(max(ttr) / period)} poll periods), goal ≤ 3`);
    }
  } finally {
    await proxy.close();
    await sb.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

console.log('Incident: sandbox fault record → incident.detected / incident.resolved (2021-06-30, fix skipped)');
for (const s of scales) await measure(s);
