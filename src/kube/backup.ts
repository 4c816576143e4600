import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RunbookError } from '../errors.js';
import { isKubeNotFound } from './kubectl.js';
import type { Kube } from './types.js';

/** A named object: `{ kind: 'daemonset', name: 'aws-node', namespace: 'kube-system' }`. */
export interface KubeObjectRef {
  kind: string;
  name: string;
  namespace?: string;
}

export interface BackupResult {
  /** The List manifest written (JSON, `kubectl apply -f` reads it). */
  file: string;
  /** What was found; a ref missing here did not exist when the backup was taken. */
  saved: KubeObjectRef[];
  missing: KubeObjectRef[];
}

interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown> & { annotations?: Record<string, string> };
  status?: unknown;
  [k: string]: unknown;
}

/** Fields the API server owns; re-applying them would conflict or be rejected. */
function strip(o: KubeObject): KubeObject {
  const { status: _status, ...rest } = o;
  const meta = { ...(o.metadata ?? {}) };
  for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields', 'selfLink']) delete meta[k];
  if (meta.annotations) {
    const { 'kubectl.kubernetes.io/last-applied-configuration': _last, ...ann } = meta.annotations;
    meta.annotations = ann;
  }
  return { ...rest, metadata: meta };
}

function nsArgs(ref: KubeObjectRef): string[] {
  return ref.namespace ? ['--namespace', ref.namespace] : [];
}

/**
 * Saves the named objects as one `List` manifest in `file`, so they can be put back with
 * applyBackup. Objects that do not exist are reported in `missing`, not an error.
 */
export async function backupObjects(
  kube: Kube,
  refs: readonly KubeObjectRef[],
  file: string,
  signal?: AbortSignal,
): Promise<BackupResult> {
  const items: KubeObject[] = [];
  const saved: KubeObjectRef[] = [];
  const missing: KubeObjectRef[] = [];
  for (const ref of refs) {
    try {
      const obj = await kube.getJson<KubeObject>(['get', ref.kind, ref.name, ...nsArgs(ref)], { signal });
      items.push(strip(obj));
      saved.push(ref);
    } catch (e) {
      if (!isKubeNotFound(e)) throw e;
      missing.push(ref);
    }
  }
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 2) + '\n', { mode: 0o600 });
  return { file, saved, missing };
}

/**
 * Re-applies a backup written by backupObjects, one object at a time (stdin, `kubectl apply -f -`):
 * each object is validated against its own group's schema, and a failure names the object.
 */
export async function applyBackup(kube: Kube, file: string, signal?: AbortSignal): Promise<{ applied: number }> {
  let list: { items?: KubeObject[] };
  try {
    list = JSON.parse(await readFile(file, 'utf8')) as { items?: KubeObject[] };
  } catch (e) {
    throw new RunbookError('PRECONDITION_FAILED', `Cannot read the manifest backup ${file}`, {
      cause: e,
      hint: 'The run directory lost the backup; restore the objects by hand from your Git history of the cluster.',
    });
  }
  let applied = 0;
  for (const item of list.items ?? []) {
    await kube.run(['apply', '-f', '-'], { input: JSON.stringify(item), signal });
    applied++;
  }
  return { applied };
}
