import { describe, expect, it } from 'vitest';
import { renderTimeline } from '../../src/timeline/export/index.js';
import { formatDuration } from '../../src/format.js';
import { computeStats } from '../../src/timeline/stats.js';
import { ev, loadFixture } from './helpers.js';

describe('time to detection and time to recovery', () => {
  it('the incident rehearsal: TTD from the sandbox fault record, TTR from the fault start', () => {
    const stats = computeStats(loadFixture('eks-1.20-incident'));
    expect(stats.incidents).toHaveLength(1);
    const [inc] = stats.incidents;
    expect(inc).toMatchObject({
      incidentId: 'inc-1',
      faultAt: '2026-11-25T16:30:11.470Z',
      faultSource: 'sandbox',
      detectedAt: '2026-11-25T16:30:16.001Z',
      resolvedAt: '2026-11-25T16:31:08.121Z',
      stepId: 'addon-vpc-cni',
    });
    // 16:30:11.470 → 16:30:16.001 and → 16:31:08.121
    expect(stats.ttdMs).toBe(4531);
    expect(stats.ttrMs).toBe(56_651);
    expect(stats.ttrBasis).toBe('fault');
  });

  it('without a recorded fault start: TTD unknown, TTR measured from detection and said so', () => {
    const events = loadFixture('eks-1.20-incident').filter((e) => !(e.type === 'note' && e.data?.faultAt));
    const stats = computeStats(events);
    expect(stats.ttdMs).toBeNull();
    expect(stats.ttrMs).toBe(52_120); // 16:30:16.001 → 16:31:08.121
    expect(stats.ttrBasis).toBe('detection');
    const md = renderTimeline(events, { format: 'md' });
    expect(md).toContain('- **Time to detection:** unknown — no fault start recorded');
    expect(md).toContain('- **Time to recovery:** 52s — from detection, as no fault start was recorded, to incident resolved 16:31:08 UTC');
  });

  it('a fault start carried by incident.detected itself wins over notes', () => {
    const stats = computeStats([
      ev(1, '2026-01-01T10:00:00.000Z', 'run.started'),
      ev(2, '2026-01-01T10:00:30.000Z', 'note', { data: { source: 'operator', faultAt: '2026-01-01T10:00:20.000Z' } }),
      ev(3, '2026-01-01T10:01:00.000Z', 'incident.detected', { data: { incidentId: 'a', summary: 'tg-web detached', faultAt: '2026-01-01T10:00:50.000Z' } }),
      ev(4, '2026-01-01T10:06:00.000Z', 'incident.resolved', { data: { incidentId: 'a' } }),
    ]);
    expect(stats.incidents[0]).toMatchObject({ faultSource: 'incident', ttdMs: 10_000, ttrMs: 310_000, ttrBasis: 'fault' });
  });

  it('an operator note written after the fact still dates the fault (the seed: a minute to notice, five to fix)', () => {
    const events = [
      ev(1, '2021-06-30T16:25:00.000Z', 'run.started'),
      ev(2, '2021-06-30T16:32:00.000Z', 'incident.detected', { data: { incidentId: 'x', summary: 'every service answers 503' } }),
      ev(3, '2021-06-30T16:37:00.000Z', 'incident.resolved', { data: { incidentId: 'x' } }),
      ev(4, '2021-06-30T16:50:00.000Z', 'note', {
        actor: 'bob@laptop',
        message: '503s started with the add-on switch',
        data: { source: 'operator', faultAt: '2021-06-30T16:31:00.000Z' },
      }),
    ];
    const stats = computeStats(events);
    expect(stats.incidents[0]).toMatchObject({ faultSource: 'operator', ttdMs: 60_000, ttrMs: 360_000, ttrBasis: 'fault' });
    expect(renderTimeline(events, { format: 'md' })).toContain(
      '- **Time to detection:** 1m 00s — fault start 16:31:00 UTC from an operator note → incident detected 16:32:00 UTC',
    );
  });

  it('`fault: true` on a note means "the fault started now"', () => {
    const stats = computeStats([
      ev(1, '2026-01-01T10:00:00.000Z', 'note', { data: { source: 'operator', fault: true } }),
      ev(2, '2026-01-01T10:00:07.500Z', 'incident.detected', { data: { incidentId: 'a' } }),
    ]);
    expect(stats.ttdMs).toBe(7500);
    expect(stats.ttrMs).toBeNull(); // never resolved
  });

  it('each fault belongs to one incident only, and unresolved incidents stay open', () => {
    const stats = computeStats([
      ev(1, '2026-01-01T10:00:00.000Z', 'note', { data: { source: 'sandbox', faultAt: '2026-01-01T10:00:00.000Z' } }),
      ev(2, '2026-01-01T10:00:05.000Z', 'incident.detected', { data: { incidentId: 'a' } }),
      ev(3, '2026-01-01T10:00:35.000Z', 'incident.resolved', { data: { incidentId: 'a' } }),
      ev(4, '2026-01-01T10:10:00.000Z', 'incident.detected', { data: { incidentId: 'b' } }),
    ]);
    expect(stats.incidents.map((i) => [i.incidentId, i.ttdMs, i.ttrMs, i.ttrBasis])).toEqual([
      ['a', 5000, 35_000, 'fault'],
      ['b', null, null, null],
    ]);
  });

  it('resolutions without an incident id close the latest open incident (older runs)', () => {
    const stats = computeStats([
      ev(1, '2026-01-01T10:00:00.000Z', 'incident.detected', { message: 'tg lost targets' }),
      ev(2, '2026-01-01T10:02:00.000Z', 'incident.resolved'),
    ]);
    expect(stats.incidents[0]).toMatchObject({ summary: 'tg lost targets', ttrMs: 120_000, ttrBasis: 'detection' });
  });
});

describe('run figures', () => {
  it('counts steps run, failed and rolled back in the failed run', () => {
    const stats = computeStats(loadFixture('eks-1.20-rolled-back'));
    expect(stats.outcome).toBe('rolled-back');
    expect(stats.steps).toEqual({ run: 6, completed: 5, failed: 1, skipped: 0, described: 0, retries: 0, rolledBack: 2, rollbackFailed: 0 });
    expect(stats.durationMs).toBe(1_076_500); // 14:05:03.912 → 14:23:00.412
  });

  it('a retried step that finally completed is not a failed step', () => {
    const stats = computeStats(loadFixture('eks-1.20-incident'));
    expect(stats.steps).toMatchObject({ run: 9, completed: 9, failed: 0, retries: 1 });
  });

  it('a run resumed after its interruption is in progress until it ends again', () => {
    const events = [
      ev(1, '2026-01-01T10:00:00.000Z', 'run.started'),
      ev(2, '2026-01-01T10:05:00.000Z', 'run.interrupted'),
      ev(3, '2026-01-01T11:00:00.000Z', 'run.resumed'),
      ev(4, '2026-01-01T11:01:00.000Z', 'step.started', { stepId: 's' }),
    ];
    expect(computeStats(events)).toMatchObject({ outcome: 'in-progress', endedAt: null, durationMs: 3_660_000 });
    const done = computeStats([...events, ev(5, '2026-01-01T11:02:00.000Z', 'run.completed')]);
    expect(done).toMatchObject({ outcome: 'completed', durationMs: 3_720_000 });
  });

  it('odd data from older runs does not crash the stats', () => {
    const weird = [
      ev(1, 'not a time', 'run.started', { data: null as unknown as Record<string, unknown> }),
      ev(2, '2026-01-01T10:00:00.000Z', 'incident.detected', { data: ['x'] as unknown as Record<string, unknown> }),
      ev(3, '2026-01-01T10:00:01.000Z', 'incident.resolved', { data: { incidentId: 42, faultAt: 'yesterday' } }),
      ev(4, '2026-01-01T10:00:02.000Z', 'step.completed', { stepId: 's', data: { durationMs: 'long' } }),
    ];
    const stats = computeStats(weird);
    expect(stats.incidents).toHaveLength(1);
    expect(stats.incidents[0]!.ttrMs).toBe(1000);
    expect(stats.startedAt).toBeNull();
  });

  it('an empty timeline has no figures', () => {
    expect(computeStats([])).toMatchObject({ runId: null, durationMs: null, outcome: 'in-progress', incidents: [] });
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [850, '850ms'],
    [4531, '4.5s'],
    [9_960, '10s'],
    [45_000, '45s'],
    [65_000, '1m 05s'],
    [3_725_000, '1h 02m 05s'],
    [null, 'unknown'],
  ])('%s ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
