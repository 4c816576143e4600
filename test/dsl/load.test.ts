import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadRunbook } from '../../src/dsl/load.js';
import { describeParams, parseParams } from '../../src/dsl/params.js';
import { FIXTURES } from '../helpers/engine.js';

const bad = (name: string): string => join(FIXTURES, 'bad-runbooks', name);

describe('loading runbook files', () => {
  it('loads a TypeScript runbook at run time and hashes its source', async () => {
    const loaded = await loadRunbook(join(FIXTURES, 'runbooks', 'file-world.ts'));
    expect(loaded.runbook.id).toBe('file-world');
    expect(loaded.sourceHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects a step that reads the output of a later step, and duplicate ids, naming file and step', async () => {
    const err = await loadRunbook(bad('later-ref.ts')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RUNBOOK_INVALID' });
    const msg = (err as Error).message;
    expect(msg).toContain('later-ref.ts');
    expect(msg).toContain("step 'early': uses the output of 'later', which runs later — move 'later' before it");
    expect(msg).toContain("step 'early': mutates but has no approval text");
    expect(msg).toContain("step 'later': id is used twice");
  });

  it('reports a syntax error with the file and says nothing was executed', async () => {
    const err = await loadRunbook(bad('syntax.ts')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RUNBOOK_INVALID', hint: expect.stringContaining('nothing was executed') });
    expect((err as Error).message).toContain('syntax.ts: the runbook file does not load');
  });

  it('rejects a file whose default export is not a runbook', async () => {
    await expect(loadRunbook(bad('not-a-runbook.ts'))).rejects.toMatchObject({ code: 'RUNBOOK_INVALID', hint: expect.stringContaining('export default defineRunbook') });
  });
});

describe('params', () => {
  const schema = z.object({
    cluster: z.string().min(1).meta({ example: 'prod-eu' }),
    region: z.string().regex(/^[a-z]{2}-[a-z]+-\d$/, 'an AWS region like eu-west-1').meta({ example: 'eu-west-1' }),
    requiredDeregistrationDelay: z.number().int().min(0).max(3600).default(300),
    remediate: z.enum(['auto', 'ask', 'off']).default('ask'),
    acknowledgeInsights: z.boolean().default(false),
    targetGroupArns: z.array(z.string()).default([]),
  });

  it('coerces flags by the declared type (kebab-case flags, lists, booleans)', () => {
    const p = parseParams(schema, { cluster: 'prod-eu', region: 'eu-west-1', 'required-deregistration-delay': '120', 'acknowledge-insights': '', 'target-group-arns': 'a,b' }, 'eks-1.20');
    expect(p).toEqual({ cluster: 'prod-eu', region: 'eu-west-1', requiredDeregistrationDelay: 120, remediate: 'ask', acknowledgeInsights: true, targetGroupArns: ['a', 'b'] });
  });

  it('names the field, what was expected and an example for every bad or missing param', () => {
    let err: unknown;
    try {
      parseParams(schema, { region: 'eu-west', 'required-deregistration-delay': 'soon', bogus: 'x' }, 'eks-1.20');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'BAD_PARAMS', hint: expect.stringContaining('runbook show eks-1.20') });
    const msg = (err as Error).message;
    expect(msg).toContain("unknown param 'bogus'");
    expect(msg).toMatch(/param 'cluster' \(missing\): .*Example: --cluster prod-eu/);
    expect(msg).toMatch(/param 'region' \(got "eu-west"\): an AWS region like eu-west-1\. Example: --region eu-west-1/);
    expect(msg).toMatch(/param 'requiredDeregistrationDelay' \(got "soon"\): .*number.*Example: --required-deregistration-delay 300/);
  });

  it('describes params for `runbook show`', () => {
    const info = describeParams(schema);
    expect(info.find((p) => p.name === 'remediate')).toMatchObject({ flag: '--remediate', type: 'auto|ask|off', required: false, defaultValue: 'ask' });
    expect(info.find((p) => p.name === 'cluster')).toMatchObject({ required: true, example: 'prod-eu' });
  });
});

describe('params given twice or in odd notation', () => {
  const schema = z.object({ cluster: z.string(), delay: z.number().default(600) });
  it('refuses a scalar param given twice with different values, and hex or exponent numbers', () => {
    expect(() => parseParams(schema, { cluster: ['prod-eu', 'prod-us'] }, 'x')).toThrow(/param 'cluster' is given 2 times \("prod-eu", "prod-us"\); give it once/);
    expect(() => parseParams(schema, { cluster: 'a', delay: '0x10' }, 'x')).toThrow(/param 'delay' \(got "0x10"\)/);
    expect(parseParams(schema, { cluster: ['a', 'a'], delay: '600' }, 'x')).toEqual({ cluster: 'a', delay: 600 });
  });
});
