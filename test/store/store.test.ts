import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/ports/clock.js';
import { readCheckpoint } from '../../src/store/checkpoint.js';
import { acquireLock, inspectLock, lockFileName, releaseLock } from '../../src/store/lock.js';
import { RunStore } from '../../src/store/run-store.js';
import { readTimeline } from '../../src/store/timeline-log.js';
import { tempDir } from '../helpers/engine.js';

function newRun(stateDir = tempDir()) {
  const store = new RunStore({ stateDir, clock: systemClock, actor: 'sre@laptop' });
  const run = store.create({
    version: 1,
    runId: store.newRunId('eks-1.20'),
    runbook: { id: 'eks-1.20', title: 'T', file: '/x.ts', sourceHash: 'abc', steps: [] },
    params: { cluster: 'prod-eu' },
    target: { cluster: 'prod-eu' },
    mode: { dryRun: false, sandbox: false },
    status: 'running',
    steps: {},
    overrides: {},
    completedCounter: 0,
  });
  return { store, run };
}

describe('the run store', () => {
  it('writes owner-only files and a parseable checkpoint', () => {
    const { run } = newRun();
    expect(statSync(join(run.dir, 'run.json')).mode & 0o777).toBe(0o600);
    expect(statSync(run.dir).mode & 0o777).toBe(0o700);
    run.record({ type: 'note', message: 'hello' });
    expect(statSync(run.timelinePath).mode & 0o777).toBe(0o600);
    expect(readCheckpoint(join(run.dir, 'run.json')).runbook.id).toBe('eks-1.20');
  });

  it('ignores a torn last timeline line and continues the sequence after it', () => {
    const { store, run } = newRun();
    run.record({ type: 'run.started', message: 'start' });
    run.record({ type: 'step.started', stepId: 'a', message: 'a' });
    run.close();
    appendFileSync(run.timelinePath, '{"seq":3,"ts":"2026-11-25T10:00:00.000Z","type":"step.comp');
    const torn = readTimeline(run.timelinePath);
    expect(torn.tornTail).toBe(true);
    expect(torn.events.map((e) => e.seq)).toEqual([1, 2]);
    const again = store.open(run.id);
    const e = again.record({ type: 'note', message: 'after the crash' });
    expect(e.seq).toBe(3);
    const read = readTimeline(run.timelinePath);
    expect(read.events.map((x) => x.message)).toEqual(['start', 'a', 'after the crash']);
    expect(read.tornTail).toBe(false);
  });

  it('continues the sequence after lines another process appended (runbook note on a live run)', () => {
    const { run } = newRun();
    run.record({ type: 'run.started', message: 'start' });
    appendFileSync(run.timelinePath, `${JSON.stringify({ seq: 2, ts: new Date().toISOString(), type: 'note', runId: run.id, actor: 'op@elsewhere', message: 'by hand' })}\n`);
    expect(run.record({ type: 'note', message: 'next' }).seq).toBe(3);
  });

  it('refuses a corrupt checkpoint with a message that says what to do', () => {
    const { run } = newRun();
    writeFileSync(join(run.dir, 'run.json'), '{"version": 1, "runId": ');
    expect(() => readCheckpoint(join(run.dir, 'run.json'))).toThrow(expect.objectContaining({ code: 'CHECKPOINT_CORRUPT', hint: expect.stringContaining('runbook timeline') }));
    writeFileSync(join(run.dir, 'run.json'), JSON.stringify({ version: 1, runId: 'x' }));
    expect(() => readCheckpoint(join(run.dir, 'run.json'))).toThrow(/runbook/);
  });

  it('replaces the checkpoint atomically: no temp files are left behind', () => {
    const { run } = newRun();
    for (let i = 0; i < 20; i++) run.update((cp) => void (cp.completedCounter = i));
    const left = readFileSync(join(run.dir, 'run.json'), 'utf8');
    expect(JSON.parse(left).completedCounter).toBe(19);
  });
});

describe('target locks', () => {
  const holder = (runId: string, pid = process.pid) => ({ target: 'eks-1.20/eu-west-1/prod-eu', runId, actor: 'a@h', host: hostname(), pid, started: new Date().toISOString() });

  it('let one of two processes racing for the same target win; the other learns who holds it', async () => {
    const dir = tempDir();
    const script = `
      import { acquireLock } from ${JSON.stringify(join(import.meta.dirname, '../../dist/src/store/lock.js'))};
      import { hostname } from 'node:os';
      try {
        acquireLock(process.argv[1], { target: 'eks-1.20/eu-west-1/prod-eu', runId: 'run-' + process.pid, actor: 'a@h', host: hostname(), pid: process.pid, started: new Date().toISOString() });
        console.log('WON'); setTimeout(() => {}, 5000);
      } catch (e) { console.log('LOST ' + e.code + ' ' + e.message); }`;
    const go = () =>
      new Promise<string>((resolve) => {
        const p = spawn(process.execPath, ['--input-type=module', '-e', script, dir]);
        let out = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.stdout.on('data', () => out.includes('\n') && resolve(out.trim()));
      });
    const results = await Promise.all([go(), go()]);
    expect(results.filter((r) => r === 'WON')).toHaveLength(1);
    const lost = results.find((r) => r.startsWith('LOST'));
    expect(lost).toMatch(/LOST LOCK_BUSY Another run holds eks-1.20\/eu-west-1\/prod-eu: run run-\d+ by a@h \(pid \d+ on /);
  });

  it('take over a stale lock whose process is gone, and say so', () => {
    const dir = tempDir();
    const dead = 2 ** 22 + 12345; // above pid_max on this machine: never a live process
    acquireLock(dir, holder('old-run', dead));
    expect(inspectLock(join(dir, lockFileName('eks-1.20/eu-west-1/prod-eu')))?.stale).toBe(true);
    const got = acquireLock(dir, holder('new-run'));
    expect(got.tookOverFrom?.runId).toBe('old-run');
    releaseLock(got.path, { runId: 'new-run', pid: process.pid });
    expect(inspectLock(got.path)).toBeNull();
  });
});

describe('the timeline as write-ahead log', () => {
  it('recovers completions the checkpoint had not caught up with, and leaves a large-output completion in flight', () => {
    const { store, run } = newRun();
    run.save();
    run.record({ type: 'step.started', stepId: 'a', message: 'a', data: { attempt: 1 } });
    run.record({ type: 'step.completed', stepId: 'a', message: 'a done', data: { output: { version: '1.20' } } });
    run.record({ type: 'step.started', stepId: 'b', message: 'b', data: { attempt: 1 } });
    run.record({ type: 'step.completed', stepId: 'b', message: 'b done (output too large for the event)', data: {} });
    run.record({ type: 'step.started', stepId: 'c', message: 'c', data: { attempt: 2 } });
    // the process dies here: run.json was last written before any of these events
    const reopened = store.open(run.id);
    expect(reopened.checkpoint.steps.a).toMatchObject({ status: 'completed', output: { version: '1.20' }, completedSeq: 1 });
    expect(reopened.checkpoint.steps.b?.status).toBe('running');
    expect(reopened.checkpoint.steps.c).toMatchObject({ status: 'running', attempts: 2 });
  });
});

describe('stale lock takeover', () => {
  it('lets exactly one of two racing processes take over a stale lock', async () => {
    for (let trial = 0; trial < 5; trial++) {
      const dir = tempDir();
      const dead = 2 ** 22 + 777;
      acquireLock(dir, { target: 't', runId: 'dead-run', actor: 'a@h', host: hostname(), pid: dead, started: 'x' });
      const script = `
        import { acquireLock } from ${JSON.stringify(join(import.meta.dirname, '../../dist/src/store/lock.js'))};
        import { hostname } from 'node:os';
        try {
          const r = acquireLock(process.argv[1], { target: 't', runId: 'run-' + process.pid, actor: 'a@h', host: hostname(), pid: process.pid, started: new Date().toISOString() });
          console.log(r.tookOverFrom ? 'TOOK' : 'WON'); setTimeout(() => {}, 5000);
        } catch (e) { console.log('LOST ' + e.code); }`;
      const go = () =>
        new Promise<string>((resolve) => {
          const p = spawn(process.execPath, ['--input-type=module', '-e', script, dir]);
          let out = '';
          p.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.includes('\n')) resolve(out.trim());
          });
        });
      const results = await Promise.all([go(), go()]);
      expect(results.filter((r) => r === 'TOOK' || r === 'WON'), results.join(',')).toHaveLength(1);
      expect(results.filter((r) => r === 'LOST LOCK_BUSY')).toHaveLength(1);
    }
  });
});
