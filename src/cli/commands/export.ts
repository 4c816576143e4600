/**
 * Pure handlers behind `runbook timeline` and `runbook postmortem`: events in, text out. The
 * command wiring (reading the run, writing stdout or a file) lives with the other commands;
 * the implementations live in src/timeline so the exporters stay usable without the CLI.
 */
export {
  renderTimeline,
  renderPostmortem,
  parseTimelineFormat,
  isTimelineFormat,
  TIMELINE_FORMATS,
} from '../../timeline/export/index.js';
export type { RenderTimelineOptions, TimelineFormat, PostmortemRunInfo } from '../../timeline/export/index.js';
export { operatorNote } from '../../timeline/export/note.js';
