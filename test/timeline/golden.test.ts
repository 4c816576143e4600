import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderPostmortem, renderTimeline } from '../../src/timeline/export/index.js';
import type { RenderTimelineOptions } from '../../src/timeline/export/index.js';
import { FIXTURE_NAMES, GOLDEN, loadFixture } from './helpers.js';
import type { FixtureName } from './helpers.js';

/**
 * Each recorded run, rendered in every format, must equal the reviewed file under
 * test/fixtures/golden/. After an intended change: UPDATE_GOLDEN=1 npx vitest run test/timeline,
 * then read the diff of the golden files before committing them.
 */
const UPDATE = process.env.UPDATE_GOLDEN === '1';

function golden(file: string, actual: string): void {
  const path = `${GOLDEN}${file}`;
  if (UPDATE) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
  }
  if (!existsSync(path)) throw new Error(`golden file ${file} is missing; run with UPDATE_GOLDEN=1 and review it`);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

const VARIANTS: { file: string; opts: RenderTimelineOptions }[] = [
  { file: 'timeline.md', opts: { format: 'md' } },
  { file: 'timeline.json', opts: { format: 'json' } },
  { file: 'timeline.csv', opts: { format: 'csv' } },
  { file: 'timeline.mermaid.md', opts: { format: 'mermaid' } },
  { file: 'timeline.html', opts: { format: 'html' } },
];

describe.each(FIXTURE_NAMES)('golden exports of %s', (name: FixtureName) => {
  const events = loadFixture(name);
  it.each(VARIANTS)('$file', ({ file, opts }) => {
    golden(`${name}/${file}`, renderTimeline(events, opts));
  });
  it('postmortem.md', () => {
    golden(`${name}/postmortem.md`, renderPostmortem(events, {}));
  });
});

describe('golden variants of the incident run', () => {
  const events = loadFixture('eks-1.20-incident');
  it('--tz Europe/Berlin --seconds', () => {
    golden('eks-1.20-incident/timeline.berlin-seconds.md', renderTimeline(events, { format: 'md', tz: 'Europe/Berlin', seconds: true }));
  });
  it('--all', () => {
    golden('eks-1.20-incident/timeline.all.md', renderTimeline(events, { format: 'md', all: true }));
  });
});
