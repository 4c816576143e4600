/**
 * Sandbox figures (prints, asserts nothing about time):
 *  - building a world of 1,000 target groups × 20 targets (what the post-check benchmark needs);
 *  - DescribeTargetHealth requests per second over loopback with the AWS SDK.
 * Run: npx tsx bench/sandbox.ts
 */
import { DescribeTargetGroupsCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { buildWorld, parseScenario, scaleScenario, startSandbox } from '../src/sandbox/index.js';

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function main(): Promise<void> {
  // World build, model only (what a benchmark that embeds the world pays), median of 5.
  const spec = scaleScenario({ targetGroups: 1000, targetsPerGroup: 20 });
  const builds: number[] = [];
  let targets = 0;
  for (let i = 0; i < 5; i++) {
    const t = process.hrtime.bigint();
    const w = buildWorld(parseScenario(spec), Date.now());
    builds.push(ms(t));
    targets = Object.values(w.elb.targetGroups).reduce((n, tg) => n + tg.targets.length, 0);
  }
  builds.sort((a, b) => a - b);
  console.log(`world build 1000 TG x 20 targets (${targets} targets): median ${builds[2]!.toFixed(1)} ms, min ${builds[0]!.toFixed(1)} ms`);

  const t0 = process.hrtime.bigint();
  const sb = await startSandbox({ scenario: spec });
  console.log(`startSandbox with that world (incl. listen + kubeconfig): ${ms(t0).toFixed(1)} ms`);
  try {
    const elb = new ElasticLoadBalancingV2Client({ region: sb.region, endpoint: sb.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const tgs = (await elb.send(new DescribeTargetGroupsCommand({ PageSize: 400 }))).TargetGroups!.map((t) => t.TargetGroupArn!);
    const budgetMs = 3000;
    const maxRequests = 20_000;
    for (const concurrency of [1, 16]) {
      let n = 0;
      const start = process.hrtime.bigint();
      const worker = async (): Promise<void> => {
        while (n < maxRequests && ms(start) < budgetMs) {
          const arn = tgs[n++ % tgs.length]!;
          await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      const elapsed = ms(start);
      console.log(`DescribeTargetHealth (20 targets), concurrency ${concurrency}: ${n} requests in ${elapsed.toFixed(0)} ms = ${((n / elapsed) * 1000).toFixed(0)} req/s`);
    }
  } finally {
    await sb.close();
  }
}

await main();
