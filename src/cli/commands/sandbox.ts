import type { Command } from 'commander';
import { RunbookError } from '../../errors.js';

interface SandboxStartOptions {
  scenario?: string;
  port?: string;
  state?: string;
  speed?: string;
  throttle?: boolean;
  dir?: string;
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
        ...(opts.throttle ? { faults: { throttling: true } } : {}),
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
