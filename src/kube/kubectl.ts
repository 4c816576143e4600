import { RunbookError, isRunbookError } from '../errors.js';
import type { Shell } from '../ports/shell.js';
import type { Kube, KubeSettings } from './types.js';

export interface CreateKubeOptions {
  /** A zx `$` to run kubectl through (e.g. one that records commands); default: zx/core's. */
  shell?: Shell;
  /** The kubectl binary (default `kubectl` on PATH). */
  kubectl?: string;
  /** Per-request timeout handed to kubectl (default 30s). */
  requestTimeout?: string;
}

/**
 * kubectl through zx. Every argument is a separate argv word (zx quotes each `${x}`), so no
 * input ever becomes shell syntax; only stdout is parsed, stderr goes into error messages.
 *
 * @example
 * const kube = createKube({ kubeconfig: '/tmp/kubeconfig', context: 'prod-eu' });
 * const nodes = await kube.getJson<{ items: unknown[] }>(['get', 'nodes']);
 */
export function createKube(settings: KubeSettings, opts: CreateKubeOptions = {}): Kube {
  const kubectl = opts.kubectl ?? 'kubectl';
  const base = [
    ...(settings.kubeconfig ? ['--kubeconfig', settings.kubeconfig] : []),
    ...(settings.context ? ['--context', settings.context] : []),
    `--request-timeout=${opts.requestTimeout ?? '30s'}`,
  ];
  let shell: Promise<Shell> | undefined;
  const getShell = (): Promise<Shell> =>
    (shell ??= opts.shell ? Promise.resolve(opts.shell) : import('zx/core').then((m) => m.$));

  const run: Kube['run'] = async (args, o = {}) => {
    const $ = await getShell();
    o.signal?.throwIfAborted();
    const configured = $({
      quiet: true,
      nothrow: true,
      verbose: false,
      ...(o.input !== undefined ? { input: o.input } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    let out;
    try {
      out = await configured`${kubectl} ${base} ${[...args]}`;
    } catch (e) {
      if (o.signal?.aborted) throw o.signal.reason;
      throw kubectlError(args, String(e instanceof Error ? e.message : e), e);
    }
    if (o.signal?.aborted) throw o.signal.reason;
    if (out.exitCode !== 0) throw kubectlError(args, out.stderr || out.stdout, undefined, out.exitCode);
    return { stdout: out.stdout, stderr: out.stderr };
  };

  return {
    settings,
    run,
    async getJson<T>(args: readonly string[], o: { signal?: AbortSignal } = {}): Promise<T> {
      const { stdout } = await run([...args, '-o', 'json'], o);
      try {
        return JSON.parse(stdout) as T;
      } catch (e) {
        throw new RunbookError('KUBECTL_ERROR', `kubectl ${args.join(' ')} printed something that is not JSON`, {
          cause: e,
          hint: 'Check that kubectl talks to a Kubernetes API server (kubectl version), then resume.',
        });
      }
    },
  };
}

function kubectlError(args: readonly string[], stderr: string, cause?: unknown, exitCode?: number | null): RunbookError {
  const first = stderr.trim().split('\n').find((l) => l.trim() !== '') ?? 'no output';
  const notFound = /NotFound|not found/i.test(stderr);
  return new RunbookError('KUBECTL_ERROR', `kubectl ${args.join(' ')} failed${exitCode != null ? ` (exit ${exitCode})` : ''}: ${first}`, {
    cause,
    details: { stderr: stderr.slice(0, 4000), notFound },
    hint: /command not found|ENOENT/.test(stderr)
      ? 'Install kubectl and put it on PATH, then resume.'
      : 'Check --kubeconfig/--context and that the cluster API answers (kubectl get nodes), then resume.',
  });
}

/** True for the error createKube raises when the object does not exist. */
export function isKubeNotFound(e: unknown): boolean {
  return isRunbookError(e) && e.code === 'KUBECTL_ERROR' && e.details?.['notFound'] === true;
}
