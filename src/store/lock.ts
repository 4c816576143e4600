import { closeSync, existsSync, fsyncSync, linkSync, openSync, readFileSync, readdirSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
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
 * One run per target. The lock file is born complete: its content is written to a temp file
 * and hard-linked into place (link fails with EEXIST if it exists), so no reader ever sees an
 * empty lock and two racing runners cannot both win.
 *
 * A stale lock (holder dead on this host, or a torn file from an older version) is taken over
 * under a short-lived takeover mutex (`<lock>.takeover`, created with O_EXCL), so two processes
 * that both saw it stale cannot both replace it. The old holder is returned for the record.
 */
export function acquireLock(
  locksDir: string,
  holder: LockHolder,
  opts: { allowRunId?: string } = {},
): { path: string; tookOverFrom?: LockHolder } {
  ensureDir(locksDir);
  const path = join(locksDir, lockFileName(holder.target));
  const content = `${JSON.stringify(holder, null, 2)}\n`;
  for (let attempt = 0; attempt < 20; attempt++) {
    if (linkInto(path, content)) return { path };
    const state = inspectLock(path);
    if (!state) continue; // released between our link and our read: try again
    const ownDeadRun =
      opts.allowRunId !== undefined && state.holder.runId === opts.allowRunId && state.holder.host === hostname() && !pidAlive(state.holder.pid);
    if (!state.stale && !ownDeadRun) throw lockBusy(state.holder, path);
    const taken = takeOver(path, state.holder, content);
    if (taken === 'won') return { path, tookOverFrom: state.holder };
    // 'lost': another process is taking it over right now; look again shortly.
    sleepSync(5 + attempt * 5);
  }
  throw new RunbookError('LOCK_BUSY', `Could not take the lock ${path}: other runners keep racing for it.`, { hint: 'Try again in a moment.' });
}

function linkInto(path: string, content: string): boolean {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
    fsyncDir(dirname(path));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return false;
  } finally {
    safeUnlink(tmp);
  }
}

/** A takeover mutex left by a crash mid-takeover expires after this long. */
const TAKEOVER_STALE_MS = 10_000;

function takeOver(path: string, stale: LockHolder, content: string): 'won' | 'lost' {
  const mutex = `${path}.takeover`;
  try {
    closeSync(openSync(mutex, 'wx', 0o600));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    try {
      if (Date.now() - statSync(mutex).mtimeMs > TAKEOVER_STALE_MS) safeUnlink(mutex);
    } catch {
      // gone already
    }
    return 'lost';
  }
  try {
    // Under the mutex: is it still the same stale holder we judged? Then replace it.
    const now = inspectLock(path);
    if (now && !sameHolder(now.holder, stale)) return 'lost';
    safeUnlink(path);
    return linkInto(path, content) ? 'won' : 'lost';
  } finally {
    safeUnlink(mutex);
  }
}

function sameHolder(a: LockHolder, b: LockHolder): boolean {
  return a.runId === b.runId && a.pid === b.pid && a.started === b.started && a.host === b.host;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
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

/** Release the lock if it is still the one `holder` took (a takeover may have replaced it). */
export function releaseLock(path: string, holder: Pick<LockHolder, 'runId' | 'pid'>): void {
  const state = inspectLock(path);
  if (state && state.holder.runId === holder.runId && state.holder.pid === holder.pid) safeUnlink(path);
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
