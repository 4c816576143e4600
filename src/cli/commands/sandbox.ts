import type { Command } from 'commander';
import { RunbookError } from '../../errors.js';
import { collect } from '../collect.js';

interface SandboxStartOptions {
  scenario?: string;
  port?: string;
  state?: string;
  speed?: string;
  throttle?: boolean;
  errorRate?: string;
  latencyMs?: string;
  failNextUpdate?: string[];
  detachOn?: string[];
  detachAt?: string;
  dir?: string;
}

/** Fault flags → FaultSettings (the same settings the scenario file and /_sandbox/faults take). */
function faultsFrom(opts: SandboxStartOptions): Record<string, unknown> {
  const faults: Record<string, unknown> = {};
  if (opts.throttle) faults.throttling = true;
  if (opts.errorRate !== undefined) {
    const rate = Number(opts.errorRate);
    if (!(rate >= 0 && rate <= 1)) throw new RunbookError('USAGE', `--error-rate ${opts.errorRate} is not between 0 and 1`, { hint: 'e.g. --error-rate 0.05 answers 5% of AWS calls with a 503.' });
    faults.errorRate = rate;
  }
  if (opts.latencyMs !== undefined) {
    const ms = Number(opts.latencyMs);
    if (!(ms >= 0)) throw new RunbookError('USAGE', `--latency-ms ${opts.latencyMs} is not a number of milliseconds`, { hint: 'e.g. --latency-ms 150' });
    faults.latencyMs = ms;
  }
  if (opts.failNextUpdate?.length) faults.failNextUpdate = opts.failNextUpdate;
  if (opts.detachOn?.length) faults.detachTargetGroupsOn = opts.detachOn;
  if (opts.detachAt !== undefined) faults.detachAt = opts.detachAt;
  return faults;
}

/** `runbook sandbox start`: a standalone simulated world that outlives the runs pointed at it. */
export function registerSandboxCommand(program: Command): void {
  const sandbox = program.command('sandbox').description('the simulated EKS + ELBv2 + Kubernetes world for rehearsals and tests');
  sandbox
    .command('start')
    .description('start a sandbox on 127.0.0.1 and keep it running until Ctrl-C / SIGTERM')
    .option('--scenario <name|file>', "'default', '2021-06-30', or a JSON/YAML scenario file", 'default')
    .option('--port <n>', 'port to listen on (default: a free one)')
    .option('--state <file>', 'persist the world here; an existing file is resumed')
    .option('--speed <n>', 'model-time multiplier (1 = real pace)', '600')
    .option('--dir <dir>', 'where to write the kubeconfig (default: a fresh temp dir)')
    .option('--throttle', 'throttle reads as AWS does (token bucket 40, refill 10/s)')
    .option('--error-rate <0..1>', 'answer this fraction of AWS calls with a 503')
    .option('--latency-ms <n>', 'add this much latency to every answer')
    .option('--fail-next-update <kind>', "fail the next update of a kind: cluster-version, addon[:NAME], nodegroup[:NAME] (repeatable)", collect, [])
    .option('--detach-on <call>', "detach every target group when this call arrives, e.g. CreateAddon:vpc-cni (repeatable)", collect, [])
    .option('--detach-at <when>', "detach every target group at a moment: now, +90s, +5m or an ISO model time")
    .option('--json', 'print the connection details as JSON')
    .action(async (opts: SandboxStartOptions, cmd: Command) => {
      const json = cmd.optsWithGlobals<{ json?: boolean }>().json === true;
      const port = opts.port === undefined ? 0 : Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new RunbookError('USAGE', `--port ${opts.port ?? ''} is not a port number`, { hint: 'Pass 0-65535, or leave --port out for a free port.' });
      }
      const speed = Number(opts.speed);
      if (!Number.isFinite(speed) || speed <= 0) {
        throw new RunbookError('USAGE', `--speed ${opts.speed ?? ''} is not a positive number`, { hint: 'Pass 1 for real pace, 600 to make a 10-minute upgrade take a second.' });
      }
      // Loaded only here: the sandbox pulls in the model and servers, which other commands never need.
      const { startSandbox } = await import('../../sandbox/index.js');
      const sb = await startSandbox({
        ...(opts.scenario !== undefined ? { scenario: opts.scenario } : {}),
        port,
        speed,
        ...(opts.state !== undefined ? { stateFile: opts.state } : {}),
        ...(opts.dir !== undefined ? { dir: opts.dir } : {}),
        faults: faultsFrom(opts),
      });
      const out = process.stdout;
      if (json) {
        out.write(`${JSON.stringify({ endpoint: sb.endpoint, kubeconfig: sb.kubeconfigPath, region: sb.region, cluster: sb.clusterName, account: sb.accountId, scenario: sb.scenario, speed: sb.speed, env: sb.env })}\n`);
      } else {
        out.write(
          [
            `Sandbox '${sb.scenario}' listening on ${sb.endpoint} (account ${sb.accountId}, ${sb.region}, cluster ${sb.clusterName})`,
            `Kubeconfig: ${sb.kubeconfigPath}`,
            `Time runs ${sb.speed}× real pace${sb.speed === 1 ? '' : ' (restart with --speed 1 to rehearse at real pace)'}.`,
            '',
            'In another shell:',
            ...Object.entries(sb.env).map(([k, v]) => `  export ${k}=${shellQuote(v)}`),
            '',
            `Inspect: curl ${sb.endpoint}/_sandbox/journal   (also /_sandbox/fault-records, /_sandbox/faults, /_sandbox/state)`,
            'Stop with Ctrl-C.',
            '',
          ].join('\n'),
        );
      }
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await sb.close();
      if (!json) process.stderr.write('Sandbox stopped.\n');
    });
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}
