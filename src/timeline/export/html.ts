import type { TimelineEvent } from '../events.js';
import { computeStats, sortEvents } from '../stats.js';
import { describeEvent, isPostmortemWorthy } from './describe.js';
import { buildGantt } from './gantt.js';
import { runFacts, runHeadline } from './run-info.js';
import type { StatItem } from './stats-lines.js';
import { statItems } from './stats-lines.js';
import { escapeXml, renderSvgGantt } from './svg-gantt.js';
import type { TimeFormat } from './time.js';
import { formatTs } from './time.js';

/**
 * One self-contained page: stats, the Gantt as inline SVG, and the timeline table. A CSP in the
 * page forbids every fetch, so opening it (from a ticket or an e-mail) never calls out. The
 * "all events" switch is a checkbox + CSS, because the page carries no script.
 */

const CSS = `
:root { color-scheme: light; --fg:#1d2430; --muted:#5b6574; --line:#d9dee6; --ok:#2f855a; --ro:#8fb8a3; --bad:#c53030; --run:#3182ce; --rb:#6b46c1; --warn:#b7791f; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); margin: 24px auto; max-width: 1160px; padding: 0 16px; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.sub { color: var(--muted); margin: 0 0 12px; }
.badge { display: inline-block; font-size: 12px; padding: 1px 8px; border-radius: 10px; background: #edf2f7; margin-left: 6px; vertical-align: 2px; }
.badge.completed { background: #c6f6d5; } .badge.failed, .badge.rolled-back, .badge.aborted { background: #fed7d7; } .badge.rehearsal { background: #fefcbf; }
dl.stats { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.stats dt { font-weight: 600; } dl.stats dd { margin: 0; } dl.stats .detail { color: var(--muted); }
dl.stats dl.stats { margin: 4px 0 4px 12px; }
.chart { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
svg.gantt { display: block; height: auto; font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
svg .grid { stroke: #edf0f4; } svg .tick, svg .axis-title { fill: var(--muted); text-anchor: middle; font-size: 11px; } svg .axis-title { text-anchor: start; }
svg .section { font-weight: 600; fill: var(--fg); } svg .section-rule { stroke: var(--line); }
svg .label { fill: var(--fg); } svg .dur { fill: var(--muted); font-size: 11px; }
svg .bar.done { fill: var(--ok); } svg .bar.done.readonly { fill: var(--ro); } svg .bar.failed { fill: var(--bad); }
svg .bar.running { fill: var(--run); } svg .bar.retried, svg .bar.interrupted { fill: var(--warn); } svg .bar.rollback { fill: var(--rb); }
svg .bar.incident { fill: var(--bad); fill-opacity: .28; stroke: var(--bad); stroke-width: 1.5; }
svg .rule { stroke-width: 1.2; stroke-dasharray: 4 3; } svg .rule.fault, svg .rule.failure { stroke: var(--bad); } svg .rule.detected { stroke: var(--warn); } svg .rule.resolved { stroke: var(--ok); }
svg .milestone .at { font-size: 11px; } svg .milestone.fault path, svg .milestone.fault .at { fill: var(--bad); } svg .milestone.detected path, svg .milestone.detected .at { fill: var(--warn); } svg .milestone.resolved path, svg .milestone.resolved .at { fill: var(--ok); } svg .milestone.blocked path, svg .milestone.blocked .at { fill: var(--rb); } svg .rule.blocked { stroke: var(--rb); }
.legend { color: var(--muted); font-size: 12px; margin-top: 6px; } .legend i { display: inline-block; width: 12px; height: 10px; margin: 0 4px 0 12px; vertical-align: -1px; border-radius: 2px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f7f8fa; font-weight: 600; } td.time { white-space: nowrap; font-variant-numeric: tabular-nums; color: var(--muted); width: 1%; }
tr.incident td { background: #fff5f5; } tr.failure td { background: #fff5f5; } tr.rollback td { background: #faf5ff; } tr.note td { background: #fffff0; }
tr.detail { display: none; } tr.detail td { color: var(--muted); }
#all:checked ~ table tr.detail { display: table-row; }
.toggle { display: inline-block; margin: 0 0 8px; color: var(--muted); }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
`;

function rowClass(e: TimelineEvent, worthy: boolean): string {
  const cls: string[] = [];
  if (!worthy) cls.push('detail');
  if (e.type.startsWith('incident.')) cls.push('incident');
  else if (e.type === 'step.failed' || e.type === 'run.failed' || e.type === 'rollback.step.failed' || e.type === 'fix.missing') cls.push('failure');
  else if (e.type.startsWith('rollback.')) cls.push('rollback');
  else if (e.type === 'note') cls.push('note');
  return cls.join(' ');
}

function statsHtml(items: readonly StatItem[]): string {
  const parts = items.map((i) => {
    const detail = i.detail ? ` <span class="detail">(${escapeXml(i.detail)})</span>` : '';
    const children = i.children?.length ? statsHtml(i.children) : '';
    return `<dt>${escapeXml(i.label)}</dt><dd>${escapeXml(i.value)}${detail}${children}</dd>`;
  });
  return `<dl class="stats">${parts.join('')}</dl>`;
}

function tableHtml(events: readonly TimelineEvent[], fmt: TimeFormat, all: boolean): string {
  const rows = sortEvents(events).map((e) => {
    const worthy = isPostmortemWorthy(e);
    const cls = rowClass(e, worthy);
    return `<tr${cls ? ` class="${cls}"` : ''}><td class="time">${escapeXml(formatTs(e.ts, fmt))}</td><td>${escapeXml(describeEvent(e))}</td></tr>`;
  });
  const zone = fmt.tz === 'UTC' ? 'Time (UTC)' : `Time (${fmt.tz})`;
  return [
    `<input type="checkbox" id="all"${all ? ' checked' : ''}> <label class="toggle" for="all">Show every event (not only postmortem-worthy ones)</label>`,
    `<table><thead><tr><th>${escapeXml(zone)}</th><th>Event</th></tr></thead><tbody>`,
    ...rows,
    '</tbody></table>',
  ].join('\n');
}

export function renderHtml(events: readonly TimelineEvent[], fmt: TimeFormat, all: boolean): string {
  const stats = computeStats(events);
  const facts = runFacts(events);
  const model = buildGantt(events);
  const title = `${facts.runbookId ?? 'Run'}${facts.target.cluster ? ` on ${facts.target.cluster}` : ''} — ${facts.runId ?? ''}`;
  const rehearsal = facts.rehearsal ? `<span class="badge rehearsal">rehearsal: ${escapeXml(facts.rehearsal)}</span>` : '';
  const chart = model
    ? `<div class="chart">${renderSvgGantt(model, fmt)}</div>
<div class="legend"><i style="background:var(--ok)"></i>mutating step<i style="background:var(--ro)"></i>read-only step<i style="background:var(--bad)"></i>failed<i style="background:var(--warn)"></i>retried / interrupted<i style="background:var(--run)"></i>running<i style="background:var(--rb)"></i>rollback<i style="background:#fed7d7;border:1px solid var(--bad)"></i>incident</div>`
    : '<p>No events recorded.</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeXml(facts.runbookId ?? 'Run')}${facts.runbookTitle ? ` — ${escapeXml(facts.runbookTitle)}` : ''}<span class="badge ${escapeXml(stats.outcome)}">${escapeXml(stats.outcome)}</span>${rehearsal}</h1>
<p class="sub">${escapeXml(runHeadline(events, stats, 'text'))} Times in ${escapeXml(fmt.tz)}.</p>
<h2>Stats</h2>
${statsHtml(statItems(stats, fmt))}
<h2>Gantt</h2>
${chart}
<h2>Timeline</h2>
${tableHtml(events, fmt, all)}
<footer>Generated by runbook timeline from ${events.length} recorded events. This page loads nothing from the network.</footer>
</body>
</html>
`;
}
