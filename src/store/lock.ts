import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RunbookError } from '../errors.js';
import { ensureDir, fsyncDir, safeUnlink } from './fs.js';

export interface LockHolder {
  target: string;
  runId: string;
  actor: string;
  host: string;
  pid: number;
  started: string;
}

export type LockState = { holder: LockHolder; stale: boolean; staleReason?: string };

/** File-system-safe name for a target key like "eks-1.20/111122223333/eu-west-1/prod-eu". */
export function lockFileName(target: string): string {
  return `${target.replace(/[^A-Za-z0-9._-]+/g, '__')}.lock`;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function inspectLock(path: string): LockState | null {
  if (!existsSync(path)) return null;
  let holder: LockHolder;
  try {
    holder = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
  } catch {
    // A lock file cut short by a crash between create and write: nobody holds it.
    return {
      holder: { target: '?', runId: '?', actor: '?', host: '?', pid: 0, started: '?' },
      stale: true,
      staleReason: 'the lock file is empty or torn (the holder crashed while taking it)',
    };
  }
  if (holder.host === hostname() && !pidAlive(holder.pid)) {
    return { holder, stale: true, staleReason: `process ${holder.pid} on ${holder.host} is gone` };
  }
  return { holder, stale: false };
}

/**
 * One run per target. Created with O_EXCL so two runners racing for it cannot both win.
 * A stale lock (holder dead on this host) is taken over; its old holder is returned so the
 * caller can record the takeover.
 */
export function acquireLock(
  locksDir: string,
  holder: LockHolder,
  opts: { allowRunId?: string } = {},
): { path: string; tookOverFrom?: LockHolder } {
  ensureDir(locksDir);
  const path = join(locksDir, lockFileName(holder.target));
  const content = `${JSON.stringify(holder, null, 2)}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, content);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      fsyncDir(locksDir);
      return { path };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const state = inspectLock(path);
    if (!state) continue; // released between our open and our read: try again
    const resumingOwnRun = opts.allowRunId !== undefined && state.holder.runId === opts.allowRunId;
    if (state.stale || (resumingOwnRun && !pidAlive(state.holder.pid))) {
      // Replace atomically so a concurrent taker sees either the old holder or us.
      const tmp = `${path}.${process.pid}.tmp`;
      const fd = openSync(tmp, 'w', 0o600);
      writeSync(fd, content);
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, path);
      fsyncDir(locksDir);
      return { path, tookOverFrom: state.holder };
    }
    throw lockBusy(state.holder, path);
  }
  throw new RunbookError('LOCK_BUSY', `Could not take the lock ${path}.`, { hint: 'Try again.' });
}

function lockBusy(h: LockHolder, path: string): RunbookError {
  return new RunbookError(
    'LOCK_BUSY',
    `Another run holds ${h.target}: run ${h.runId} by ${h.actor} (pid ${h.pid} on ${h.host}) since ${h.started}.`,
    {
      hint:
        `Wait for it to finish, or look at it with \`runbook timeline ${h.runId}\`. ` +
        `If that run is really dead (e.g. its host is gone), \`runbook unlock ${h.target}\` releases it (lock file: ${path}).`,
      details: { holder: h },
    },
  );
}

export function releaseLock(path: string, runId: string): void {
  const state = inspectLock(path);
  if (state && state.holder.runId === runId && state.holder.pid === process.pid) safeUnlink(path);
}

export function listLocks(locksDir: string): (LockState & { path: string })[] {
  if (!existsSync(locksDir)) return [];
  return readdirSync(locksDir)
    .filter((f) => f.endsWith('.lock'))
    .flatMap((f) => {
      const path = join(locksDir, f);
      const st = inspectLock(path);
      return st ? [{ ...st, path }] : [];
    });
}

/** `runbook unlock`: remove the lock of a target (by target key or lock file name). */
export function forceUnlock(locksDir: string, target: string): LockHolder | null {
  const candidates = [join(locksDir, lockFileName(target)), join(locksDir, target)];
  for (const p of candidates) {
    const st = inspectLock(p);
    if (st) {
      safeUnlink(p);
      return st.holder;
    }
  }
  return null;
}
