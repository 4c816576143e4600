// `npm run bench`: every benchmark in turn. Figures only; nothing here passes or fails on time.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;
const benches = ['startup.ts', 'engine.ts', 'sandbox.ts', 'postcheck.ts', 'incident.ts', 'rehearsal.ts'];
let failed = 0;
for (const b of benches) {
  const file = join(dir, b);
  if (!existsSync(file)) continue;
  console.log(`\n=== ${b} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
    stdio: 'inherit',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  if (r.status !== 0) {
    failed++;
    console.log(`(${b} exited with ${r.status ?? r.signal})`);
  }
}
process.exitCode = failed ? 1 : 0;
