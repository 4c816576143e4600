// A moto_server on a free loopback port, for the ELBv2 helpers (moto implements ELBv2 nearly
// fully, without draining, throttling or PageSize). Tests skip cleanly where it is missing.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import { createAwsClients } from '../../src/aws/clients.js';
import type { AwsClients } from '../../src/aws/types.js';

const execFileAsync = promisify(execFile);

export const hasMoto = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' }).status === 0;

export interface Moto {
  endpoint: string;
  /** Runs the aws CLI against moto (argv, no shell) and parses its JSON output. */
  cli(args: string[]): Promise<unknown>;
  clients(): AwsClients;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const proc: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.status < 500) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`moto_server did not start on ${endpoint}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    cli: async (args) => {
      const { stdout } = await execFileAsync('aws', [...args, '--endpoint-url', endpoint, '--region', 'eu-west-1', '--output', 'json'], {
        env: { ...process.env, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_PAGER: '' },
      });
      return JSON.parse(stdout) as unknown;
    },
    clients: () =>
      createAwsClients({
        region: 'eu-west-1',
        endpoint,
        credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
        retryBaseDelayMs: 5,
      }),
    close: async () => {
      if (proc.exitCode !== null) return;
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}
