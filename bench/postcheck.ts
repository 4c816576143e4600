// Post-check of 1,000 target groups against the sandbox with AWS's ELBv2 Describe throttling on
// (bucket 40, refill 10/s): wall time vs the bound the bucket sets, (calls − 40) / 10 s, and vs a
// plain `aws elbv2 describe-target-health` shell loop. Prints figures; asserts nothing.
//
//   npx tsx bench/postcheck.ts [targetGroups=1000] [targetsPerGroup=20] [cliSample=50]
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createAwsClients } from '../src/aws/clients.js';
import { elbv2DescribeBudget } from '../src/aws/limiter.js';
import { scaleScenario, startSandbox } from '../src/sandbox/index.js';
import { diffAgainstSnapshot } from '../src/steps/target-group-health.js';
import { discoverTargetGroups, snapshotTargetGroups } from '../src/steps/target-groups.js';

const execFileAsync = promisify(execFile);
const [tgCount = 1000, perGroup = 20, cliSample = 50] = process.argv.slice(2).map(Number);

interface Counted {
  middlewareStack: {
    add(mw: (next: (a: unknown) => Promise<unknown>) => (a: unknown) => Promise<unknown>, o: { step: 'initialize' | 'finalizeRequest'; name: string; priority?: 'low' }): void;
  };
}

function count(client: Counted): { calls: number; attempts: number } {
  const c = { calls: 0, attempts: 0 };
  client.middlewareStack.add((next) => (a) => ((c.calls++), next(a)), { step: 'initialize', name: 'benchCalls' });
  // After the retry middleware: every HTTP attempt, throttled ones included.
  client.middlewareStack.add((next) => (a) => ((c.attempts++), next(a)), { step: 'finalizeRequest', name: 'benchAttempts', priority: 'low' });
  return c;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const sb = await startSandbox({ scenario: scaleScenario({ targetGroups: tgCount, targetsPerGroup: perGroup }), faults: { throttling: true } });
  const built = performance.now() - t0;
  try {
    const aws = createAwsClients({
      region: sb.region,
      endpoint: sb.endpoint,
      credentials: { accessKeyId: sb.env['AWS_ACCESS_KEY_ID'] ?? 'x', secretAccessKey: sb.env['AWS_SECRET_ACCESS_KEY'] ?? 'x' },
    });
    const client = await aws.elbv2();
    const counter = count(client as unknown as Counted);
    const io = { client, budget: elbv2DescribeBudget(aws) };

    // The snapshot the post-check compares with (its cost is not part of the figure).
    const tgs = await discoverTargetGroups(io, sb.clusterName);
    const snap = await snapshotTargetGroups(io, sb.clusterName, tgs, new Date());
    // Start the measured part with a full bucket on both sides, as the bound assumes.
    await new Promise((r) => setTimeout(r, 4_500));

    counter.calls = 0;
    counter.attempts = 0;
    const t1 = performance.now();
    const diffs = await diffAgainstSnapshot(io, snap, { strict: true, minHealthyRatio: 1 });
    const wall = (performance.now() - t1) / 1000;
    const bound = Math.max(0, counter.calls - 40) / 10;

    // A plain shell loop over the same groups: one `aws` process per group, sequential.
    const sample = snap.targetGroups.slice(0, Math.min(cliSample, snap.targetGroups.length));
    const env = { ...process.env, ...sb.env, AWS_PAGER: '' };
    const t2 = performance.now();
    for (const tg of sample) {
      await execFileAsync('aws', ['elbv2', 'describe-target-health', '--target-group-arn', tg.arn, '--endpoint-url', sb.endpoint, '--region', sb.region, '--output', 'json'], { env });
    }
    const perCli = (performance.now() - t2) / 1000 / sample.length;
    const cliTotal = perCli * snap.targetGroups.length;

    const rows: [string, string][] = [
      ['world', `${snap.targetGroups.length} target groups × ${perGroup} targets (built in ${(built / 1000).toFixed(2)} s)`],
      ['post-check result', `${diffs.filter((d) => d.drift.length > 0).length} target groups differ from the snapshot`],
      ['ELBv2 Describe calls', `${counter.calls} (${counter.attempts} HTTP attempts, ${counter.attempts - counter.calls} throttled and retried)`],
      ['post-check wall time', `${wall.toFixed(2)} s`],
      ['bucket bound (calls − 40) / 10', `${bound.toFixed(2)} s`],
      ['ratio to the bound', `${(wall / bound).toFixed(3)}×  (goal ≤ 1.15×)`],
      ['aws CLI loop (describe-target-health)', `${perCli.toFixed(3)} s per group, measured on ${sample.length} groups`],
      ['aws CLI loop, extrapolated', `${cliTotal.toFixed(1)} s for ${snap.targetGroups.length} groups (target health only)`],
      ['speed-up vs the CLI loop', `${(cliTotal / wall).toFixed(1)}×  (goal ≥ 3×)`],
    ];
    const w = Math.max(...rows.map(([k]) => k.length));
    console.log('Post-check of target groups with ELBv2 throttling on');
    for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
  } finally {
    await sb.close();
  }
}

await main();
