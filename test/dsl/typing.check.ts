// Compile-time checks (run by `npm run typecheck`): misuse of typed outputs is a type error.
import { z } from 'zod';
import { defineRunbook, defineStep, stepsFor } from '../../src/dsl/define.js';

const readVersion = defineStep({
  id: 'read-version',
  title: 'Read version',
  mutates: false,
  run: async () => ({ version: '1.19', nodes: 3 }),
});
const other = defineStep({ id: 'other', title: 'Other', mutates: false, run: () => 42 });

export const upgrade = defineStep({
  id: 'upgrade',
  title: 'Upgrade',
  mutates: true,
  approval: 'Upgrade',
  uses: [readVersion],
  run: (ctx) => {
    const v: string = ctx.output(readVersion).version;
    // @ts-expect-error -- `nodes` is a number
    const n: string = ctx.output(readVersion).nodes;
    // @ts-expect-error -- `other` is not in `uses`
    ctx.output(other);
    return { from: v, n };
  },
});

const params = z.object({ cluster: z.string(), region: z.string() });
const step = stepsFor<z.infer<typeof params>>();
export const typed = step({
  id: 'typed',
  title: 'Typed',
  mutates: false,
  run: (ctx) => {
    const c: string = ctx.params.cluster;
    // @ts-expect-error -- not a param
    void ctx.params.nope;
    return c;
  },
});

export default defineRunbook({ id: 'x', title: 'X', description: 'x', params, steps: [readVersion, other, upgrade, typed] });
