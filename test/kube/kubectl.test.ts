// kubectl through zx: arguments stay argv words (never shell syntax), only stdout is parsed,
// kubeconfig/context are passed, failures are KUBECTL_ERRORs that say what to do.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupObjects } from '../../src/kube/backup.js';
import { createKube, isKubeNotFound } from '../../src/kube/kubectl.js';
import { isRunbookError } from '../../src/errors.js';

describe('createKube', () => {
  let dir: string;
  let fake: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kube-'));
    // A stand-in kubectl that prints its argv as JSON on stdout and noise on stderr; 'get … missing' is NotFound.
    fake = join(dir, 'kubectl');
    await writeFile(
      fake,
      `#!/usr/bin/env node
const args = process.argv.slice(2);
process.stderr.write('warning: this goes to stderr\\n');
if (args.includes('missing')) { process.stderr.write('Error from server (NotFound): daemonsets.apps "missing" not found\\n'); process.exit(1); }
if (args.includes('explode')) { process.stderr.write('The connection to the server 127.0.0.1:1 was refused\\n'); process.exit(1); }
if (args[args.length - 1] === 'json' && args.includes('get')) {
  process.stdout.write(JSON.stringify({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: args[args.indexOf('get') + 2], uid: 'u', resourceVersion: '7', managedFields: [] }, spec: { argv: args }, status: { ready: 1 } }));
} else process.stdout.write(JSON.stringify({ argv: args }));
`,
    );
    await chmod(fake, 0o755);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('passes kubeconfig, context and every argument as one argv word each', async () => {
    const kube = createKube({ kubeconfig: join(dir, 'my config'), context: 'prod eu' }, { kubectl: fake });
    const hostile = '$(touch /tmp/pwned); echo `id` "quoted" \'single\'';
    const { stdout } = await kube.run(['label', 'node', hostile]);
    const argv = (JSON.parse(stdout) as { argv: string[] }).argv;
    expect(argv).toEqual(['--kubeconfig', join(dir, 'my config'), '--context', 'prod eu', '--request-timeout=30s', 'label', 'node', hostile]);
  });

  it('getJson parses stdout only, with -o json appended', async () => {
    const kube = createKube({}, { kubectl: fake });
    const obj = await kube.getJson<{ spec: { argv: string[] } }>(['get', 'daemonset', 'aws-node', '--namespace', 'kube-system']);
    expect(obj.spec.argv.slice(-2)).toEqual(['-o', 'json']);
  });

  it('a failing kubectl is a KUBECTL_ERROR naming the command and the first stderr line that matters', async () => {
    const kube = createKube({}, { kubectl: fake });
    const err: unknown = await kube.run(['get', 'nodes', 'explode']).catch((e: unknown) => e);
    expect(isRunbookError(err) && err.code).toBe('KUBECTL_ERROR');
    expect((err as Error).message).toMatch(/kubectl get nodes explode failed \(exit 1\)/);
    expect(isRunbookError(err) && err.hint).toMatch(/--kubeconfig/);
    expect(isKubeNotFound(err)).toBe(false);
  });

  it('backup strips server-owned fields and reports missing objects instead of failing', async () => {
    const kube = createKube({}, { kubectl: fake });
    const file = join(dir, 'backup', 'vpc-cni.json');
    const res = await backupObjects(
      kube,
      [
        { kind: 'daemonset', name: 'aws-node', namespace: 'kube-system' },
        { kind: 'configmap', name: 'missing', namespace: 'kube-system' },
      ],
      file,
    );
    expect(res.saved.map((r) => r.name)).toEqual(['aws-node']);
    expect(res.missing.map((r) => r.name)).toEqual(['missing']);
    const list = JSON.parse(await readFile(file, 'utf8')) as { kind: string; items: { metadata: Record<string, unknown>; status?: unknown }[] };
    expect(list.kind).toBe('List');
    expect(list.items[0]?.metadata).toEqual({ name: 'aws-node' });
    expect(list.items[0]?.status).toBeUndefined();
  });

  it('an aborted signal stops kubectl', async () => {
    const kube = createKube({}, { kubectl: fake });
    const ac = new AbortController();
    ac.abort(new Error('Ctrl-C'));
    await expect(kube.run(['version'], { signal: ac.signal })).rejects.toThrow('Ctrl-C');
  });
});
