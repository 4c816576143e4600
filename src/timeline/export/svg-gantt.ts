import { formatDuration } from '../../format.js';
import type { GanttBar, GanttMilestone, GanttModel } from './gantt.js';
import { milestoneSection } from './gantt.js';
import type { TimeFormat } from './time.js';
import { formatClock } from './time.js';

/**
 * The Gantt drawn as inline SVG for the HTML export: no script, no fonts, no network. Rows are
 * grouped in sections (steps, rollback, incidents); moments without length (fault start,
 * detection, resolution, a failure) are vertical rules across the whole chart so the reader sees
 * which step was running when things went wrong.
 */

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const LAYOUT = {
  width: 1120,
  labelWidth: 340,
  rightPad: 70,
  top: 46,
  row: 24,
  barHeight: 14,
  sectionGap: 26,
  bottom: 20,
};

const TICK_STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map(
  (s) => s * 1000,
);

function tickStep(spanMs: number, maxTicks = 10): number {
  return TICK_STEPS_MS.find((s) => spanMs / s <= maxTicks) ?? 86_400_000;
}

const SECTIONS: { kind: GanttBar['kind']; title: string }[] = [
  { kind: 'step', title: 'Steps' },
  { kind: 'rollback', title: 'Rollback' },
  { kind: 'incident', title: 'Incidents' },
];

function barClass(b: GanttBar): string {
  if (b.kind === 'incident') return 'bar incident';
  if (b.kind === 'rollback') return b.status === 'failed' ? 'bar failed' : 'bar rollback';
  const ro = b.mutates === false ? ' readonly' : '';
  return `bar ${b.status}${ro}`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

type Scale = (ms: number) => number;

function barRow(b: GanttBar, y: number, x: Scale, fmt: TimeFormat): string {
  const L = LAYOUT;
  const bx = x(b.startMs);
  const bw = Math.max(3, x(b.endMs) - bx);
  const dur = formatDuration(b.endMs - b.startMs);
  const tip = `${b.label} — ${b.status}, ${formatClock(b.startMs, fmt)}–${formatClock(b.endMs, fmt)} ${fmt.tz} (${dur})`;
  return (
    `<g class="row"><title>${escapeXml(tip)}</title>` +
    `<text class="label" x="16" y="${y + L.barHeight - 2}">${escapeXml(truncate(b.label, 46))}</text>` +
    `<rect class="${barClass(b)}" x="${bx.toFixed(1)}" y="${y}" width="${bw.toFixed(1)}" height="${L.barHeight}" rx="2"/>` +
    `<text class="dur" x="${(bx + bw + 4).toFixed(1)}" y="${y + L.barHeight - 3}">${escapeXml(dur)}</text></g>`
  );
}

function momentRow(m: GanttMilestone, y: number, x: Scale, fmt: TimeFormat): string {
  const L = LAYOUT;
  const mx = x(m.atMs);
  const cy = y + L.barHeight / 2;
  const at = `${formatClock(m.atMs, fmt)} ${fmt.tz}`;
  return (
    `<g class="milestone ${m.kind}"><title>${escapeXml(`${m.label} at ${at}`)}</title>` +
    `<text class="label" x="16" y="${y + L.barHeight - 2}">${escapeXml(m.label)}</text>` +
    `<path d="M${mx.toFixed(1)} ${cy - 7} l7 7 l-7 7 l-7 -7 z"/>` +
    `<text class="at" x="${(mx + 10).toFixed(1)}" y="${y + L.barHeight - 3}">${escapeXml(at)}</text></g>`
  );
}

export function renderSvgGantt(model: GanttModel, fmt: TimeFormat): string {
  const L = LAYOUT;
  const chartX = L.labelWidth;
  const chartW = L.width - L.labelWidth - L.rightPad;
  // A little air on both sides so bars at the edges are not glued to the frame.
  const pad = Math.max(1000, (model.endMs - model.startMs) * 0.01);
  const t0 = model.startMs - pad;
  const t1 = model.endMs + pad;
  const x = (ms: number): number => chartX + ((ms - t0) / (t1 - t0)) * chartW;

  const body: string[] = [];
  let y = L.top;
  for (const section of SECTIONS) {
    const bars = model.bars.filter((b) => b.kind === section.kind);
    // Moments of an incident get rows of their own: as vertical rules only, their labels collide.
    const moments = model.milestones.filter((m) => milestoneSection(m) === section.kind);
    if (bars.length === 0 && moments.length === 0) continue;
    y += 6;
    body.push(`<text class="section" x="8" y="${y + 12}">${escapeXml(section.title)}</text>`);
    body.push(`<line class="section-rule" x1="8" x2="${L.width - 8}" y1="${y + 17}" y2="${y + 17}"/>`);
    y += L.sectionGap - 4;
    for (const b of bars) {
      body.push(barRow(b, y, x, fmt));
      y += L.row;
    }
    for (const m of moments) {
      body.push(momentRow(m, y, x, fmt));
      y += L.row;
    }
  }
  const chartBottom = y + 4;
  const height = chartBottom + L.bottom;

  const grid: string[] = [];
  const step = tickStep(t1 - t0);
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    const tx = x(t).toFixed(1);
    grid.push(`<line class="grid" x1="${tx}" x2="${tx}" y1="${L.top - 8}" y2="${chartBottom}"/>`);
    grid.push(`<text class="tick" x="${tx}" y="${L.top - 14}">${formatClock(t, fmt, step < 60_000)}</text>`);
  }

  // Every moment (and each failure) is also a rule across the chart: which step was running then?
  const rules = model.milestones.map((m) => {
    const mx = x(m.atMs).toFixed(1);
    return `<line class="rule ${m.kind}" x1="${mx}" x2="${mx}" y1="${L.top - 6}" y2="${chartBottom}"><title>${escapeXml(`${m.label} at ${formatClock(m.atMs, fmt)} ${fmt.tz}`)}</title></line>`;
  });

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="gantt" viewBox="0 0 ${L.width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet" role="img" aria-label="Gantt chart of the run's steps and incidents">`,
    `<text class="axis-title" x="${chartX}" y="14">Time (${escapeXml(fmt.tz)})</text>`,
    ...grid,
    ...rules,
    ...body,
    '</svg>',
  ].join('\n');
}
