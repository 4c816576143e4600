import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTimelineFormat, renderPostmortem, renderTimeline, TIMELINE_FORMATS } from '../../src/timeline/export/index.js';
import { isRunbookError } from '../../src/errors.js';
import type { TimelineEvent } from '../../src/timeline/events.js';
import { timelineExportSchema, timelineJsonSchema } from '../../src/timeline/export/json.js';
import { mermaidText } from '../../src/timeline/export/mermaid.js';
import { operatorNote, parseFaultAt } from '../../src/timeline/export/note.js';
import { ev, FIXTURE_NAMES, loadFixture, parseJsonl } from './helpers.js';

const SCHEMA_PATH = fileURLToPath(new URL('../../docs/timeline.schema.json', import.meta.url));

/** A strict RFC 4180 reader, to prove what we write reads back as written. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else if (c === '\n') throw new Error(`bare LF outside quotes at ${i}`);
    else field += c;
  }
  if (field !== '' || row.length) throw new Error('last record not terminated by CRLF');
  return rows;
}

const tricky: TimelineEvent[] = [
  ev(1, '2026-03-29T00:59:00.000Z', 'run.started', {
    data: { runbook: { id: 'eks-1.20', title: 'Upgrade: 1.19 → 1.20 #1' }, target: { cluster: 'prod-eu' }, mode: {} },
  }),
  ev(2, '2026-03-29T01:00:30.000Z', 'step.started', { stepId: 'a', data: { title: 'section: a | b; c #d %%e', mutates: true } }),
  ev(3, '2026-03-29T01:01:30.000Z', 'step.completed', { stepId: 'a', data: { title: 'section: a | b; c #d %%e', mutates: true, durationMs: 60_000 } }),
  ev(4, '2026-03-29T01:02:00.000Z', 'note', {
    actor: 'bob@laptop',
    message: 'line one | pipe\nline two, "quoted" <b>bold</b>\r\n=cmd()',
    data: { source: 'operator' },
  }),
  ev(5, '2026-03-29T01:03:00.000Z', 'run.completed', { data: { durationMs: 240_000 } }),
];

describe('md', () => {
  it('one row per postmortem-worthy event, pipes and newlines escaped, no raw HTML', () => {
    const md = renderTimeline(tricky, { format: 'md' });
    expect(md).toContain('| 2026-03-29 01:02 | Note from bob@laptop: line one \\| pipe line two, "quoted" \\<b>bold\\</b> =cmd() |');
    // every table line has exactly two unescaped cell separators inside the outer pipes
    for (const line of md.split('\n').filter((l) => l.startsWith('| '))) {
      expect(line.replace(/\\\|/g, '').split('|')).toHaveLength(4);
    }
  });

  it('--tz names the zone in the header and follows DST (Berlin switches at 01:00 UTC on 2026-03-29)', () => {
    const md = renderTimeline(tricky, { format: 'md', tz: 'Europe/Berlin', seconds: true });
    expect(md).toContain('| Time (Europe/Berlin) | Event |');
    expect(md).toContain('| 2026-03-29 01:59:00 | Run started'); // CET, +1
    expect(md).toContain('| 2026-03-29 03:01:30 | Completed: section: a \\| b; c #d %%e (1m 00s) |'); // CEST, +2
  });

  it('UTC by default, minutes unless --seconds', () => {
    const md = renderTimeline(tricky, { format: 'md' });
    expect(md).toContain('| Time | Event |');
    expect(md).toContain('Times in UTC.');
    expect(md).toMatch(/\| 2026-03-29 00:59 \| Run started/);
  });

  it('only postmortem-worthy events by default; --all shows read-only steps, guards and approval requests', () => {
    const events = loadFixture('eks-1.20-clean');
    const md = renderTimeline(events, { format: 'md' });
    const all = renderTimeline(events, { format: 'md', all: true });
    expect(md).not.toContain('Check caller identity');
    expect(md).not.toContain('Guard started');
    expect(md).toContain('Completed: Upgrade control plane of prod-eu to 1.20 (9m 42s)');
    expect(all).toContain('Started: Check caller identity');
    expect(all).toContain('Guard started');
    expect(all).toContain('Approval requested: Upgrade control plane of prod-eu to 1.20');
    const rows = (s: string): number => s.split('\n').filter((l) => /^\| \d{4}-/.test(l)).length;
    expect(rows(all)).toBe(events.length);
    expect(rows(md)).toBeLessThan(events.length);
  });

  it('an unknown time zone is a usage error that says what to pass', () => {
    try {
      renderTimeline(tricky, { format: 'md', tz: 'Mars/Olympus' });
      expect.unreachable();
    } catch (e) {
      expect(isRunbookError(e) && e.code === 'USAGE' && e.hint?.includes('Europe/Berlin')).toBe(true);
    }
  });

  it('an unknown format is a usage error listing the formats', () => {
    expect(() => parseTimelineFormat('pdf')).toThrow(/Unknown timeline format "pdf"/);
  });
});

describe('csv', () => {
  it('is RFC 4180 and reads back field for field', () => {
    const csv = renderTimeline(tricky, { format: 'csv' });
    const rows = parseCsv(csv);
    expect(rows[0]).toEqual(['seq', 'ts', 'time', 'type', 'step_id', 'actor', 'summary', 'message', 'data']);
    expect(rows).toHaveLength(tricky.length + 1);
    for (const r of rows) expect(r).toHaveLength(9);
    const note = rows.find((r) => r[3] === 'note')!;
    expect(note[7]).toBe('line one | pipe\nline two, "quoted" <b>bold</b>\r\n=cmd()');
    expect(JSON.parse(note[8]!)).toEqual({ source: 'operator' });
  });

  it('never lets a cell start a spreadsheet formula', () => {
    const csv = renderTimeline([ev(1, '2026-01-01T00:00:00.000Z', 'note', { message: '=HYPERLINK("http://evil")' })], { format: 'csv' });
    const [, row] = parseCsv(csv);
    expect(row![7]).toBe(`'=HYPERLINK("http://evil")`);
  });
});

describe('json', () => {
  it.each(FIXTURE_NAMES)('%s: the full event stream, valid against the published schema', (name) => {
    const events = loadFixture(name);
    const out = JSON.parse(renderTimeline(events, { format: 'json' })) as unknown;
    const parsed = timelineExportSchema.parse(out);
    expect(parsed.events).toHaveLength(events.length);
    expect(parsed.events.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
  });

  it('odd events from older runs still produce schema-valid output', () => {
    const odd = [
      { seq: 0, ts: 'garbage', type: 'note', runId: 'r', message: undefined, data: [1, 2] },
      { seq: 2, ts: '2026-01-01T00:00:00Z', type: 'incident.detected', runId: 'r', actor: 'a', message: 'm', data: null },
    ] as unknown as TimelineEvent[];
    expect(() => timelineExportSchema.parse(JSON.parse(renderTimeline(odd, { format: 'json' })))).not.toThrow();
  });

  it('docs/timeline.schema.json is the schema the code validates with', () => {
    const generated = `${JSON.stringify(timelineJsonSchema(), null, 2)}\n`;
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(SCHEMA_PATH, generated);
    expect(existsSync(SCHEMA_PATH)).toBe(true);
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(generated);
  });
});

describe('mermaid', () => {
  it('sanitises what would break the gantt grammar', () => {
    expect(mermaidText('Upgrade: 1.19 → 1.20 #1; 50% %%x')).toBe('Upgrade - 1.19 → 1.20 No.1, 50 pct pct pctx');
    expect(mermaidText('section a')).toBe('Step - section a');
    expect(mermaidText('title\nnext')).toBe('Step - title next');
    expect(mermaidText('')).toBe('step');
  });

  it('every task line has the shape "name :tags, id, start, end|0s" with a sanitised name', () => {
    const out = renderTimeline(tricky, { format: 'mermaid' });
    const body = out.split('\n').slice(2, -2);
    for (const line of body) {
      if (/^ {4}(title|dateFormat|axisFormat|todayMarker|section) /.test(line)) continue;
      expect(line).toMatch(/^ {4}[^:#;%\n]+ :(?:(?:done|active|crit|milestone), )*[a-z]+\d+, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, (?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|0s)$/);
    }
    expect(out.startsWith('```mermaid\ngantt\n')).toBe(true);
    expect(out).toContain('    dateFormat YYYY-MM-DD HH:mm:ss');
  });

  it('incidents are crit bars with milestones; failures are crit bars; rollback has its own section', () => {
    const inc = renderTimeline(loadFixture('eks-1.20-incident'), { format: 'mermaid' });
    expect(inc).toMatch(/section Incidents\n {4}Incident - 3 target groups[^\n]*:crit, i1, 2026-11-25 16:30:11, 2026-11-25 16:31:08/);
    expect(inc).toContain('Incident detected :crit, milestone, mi2, 2026-11-25 16:30:16, 0s');
    const rb = renderTimeline(loadFixture('eks-1.20-rolled-back'), { format: 'mermaid' });
    expect(rb).toContain('(failed) :crit, done, s6,');
    expect(rb).toMatch(/section Rollback\n {4}Undo - Migrate coredns/);
  });
});

describe('html', () => {
  it.each(FIXTURE_NAMES)('%s is self-contained: no script, no external resource, a CSP that forbids fetching', (name) => {
    const html = renderTimeline(loadFixture(name), { format: 'html' });
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    const urls = html.match(/https?:\/\/[^\s"'<)]+/g) ?? [];
    expect(urls.every((u) => u === 'http://www.w3.org/2000/svg')).toBe(true);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg" class="gantt"');
  });

  it('escapes event text', () => {
    const html = renderTimeline(tricky, { format: 'html' });
    expect(html).toContain('&lt;b&gt;bold&lt;/b&gt;');
    expect(html).not.toContain('<b>bold</b>');
  });

  it('draws one bar per step attempt and the incident moments', () => {
    const html = renderTimeline(loadFixture('eks-1.20-incident'), { format: 'html' });
    expect(html.match(/<rect class="bar /g)).toHaveLength(11); // 10 step attempts + 1 incident
    expect(html).toContain('<rect class="bar retried"');
    for (const m of ['fault', 'detected', 'resolved']) expect(html).toContain(`<g class="milestone ${m}">`);
  });
});

describe('every format copes with what a crash or an old version leaves behind', () => {
  const torn = `${readFileSync(fileURLToPath(new URL('../fixtures/timelines/eks-1.20-incident.jsonl', import.meta.url)), 'utf8')}{"seq":43,"ts":"2026-11-25T16:41:24`;
  const events = parseJsonl(torn);
  const odd = [
    ...events,
    { seq: 44, ts: '2026-11-25T16:41:25.000Z', type: 'step.failed', runId: 'x', actor: 'a', message: 'm', stepId: 's', data: { error: { message: 'boom' }, title: 5 } },
    { seq: 45, ts: 'later', type: 'rollback.step.completed', runId: 'x', actor: 'a', message: 'm', data: 'not an object' },
  ] as unknown as TimelineEvent[];

  it('the torn last line is ignored', () => {
    expect(events).toHaveLength(42);
  });

  it.each(TIMELINE_FORMATS)('%s', (format) => {
    expect(() => renderTimeline(odd, { format, all: true })).not.toThrow();
  });

  it('postmortem', () => {
    expect(renderPostmortem(odd)).toContain('- Step `s` (s) failed at 2026-11-25 16:41:25: boom');
  });

  it('an empty run', () => {
    for (const format of TIMELINE_FORMATS) expect(() => renderTimeline([], { format })).not.toThrow();
    expect(renderPostmortem([])).toContain('## Stats');
  });
});

describe('runbook note', () => {
  it('records the operator as the source, with an optional fault start', () => {
    expect(operatorNote('Target group manually reattached')).toEqual({
      type: 'note',
      message: 'Target group manually reattached',
      data: { source: 'operator' },
    });
    expect(operatorNote('503s began', { faultAt: '2021-06-30T18:31:00+02:00' }).data).toEqual({ source: 'operator', faultAt: '2021-06-30T16:31:00.000Z' });
    expect(operatorNote('503s began now', { faultAt: 'now' }).data).toEqual({ source: 'operator', fault: true });
  });

  it('refuses an empty note and a fault time without a zone', () => {
    expect(() => operatorNote('  ')).toThrow(/needs some text/);
    expect(() => parseFaultAt('16:31')).toThrow(/not a time with a zone/);
    expect(() => parseFaultAt('2021-06-30T16:31:00')).toThrow(/not a time with a zone/);
  });

  it('a note shows in every export', () => {
    const events = [...loadFixture('eks-1.20-clean'), ev(41, '2026-11-20T09:40:00.000Z', 'note', { ...operatorNote('Checked dashboards: no 5xx during the upgrade'), actor: 'dave@desk' })];
    for (const format of TIMELINE_FORMATS.filter((f) => f !== 'mermaid')) {
      expect(renderTimeline(events, { format })).toContain('Checked dashboards: no 5xx during the upgrade');
    }
    expect(renderPostmortem(events)).toContain('- dave@desk — wrote notes');
  });
});
