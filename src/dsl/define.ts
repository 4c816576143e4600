import type {
  AnyParams,
  AnyStep,
  Group,
  Guard,
  KnownFix,
  ParamsSchema,
  Runbook,
  Step,
  StepContext,
  StepOrGroup,
} from './types.js';

/** A step definition before defineStep stamps it: `run` sees only the outputs it declared in `uses`. */
export type StepDef<Id extends string, O, P, U extends readonly AnyStep[]> = Omit<
  Step<Id, O, P>,
  'kind' | 'uses' | 'run' | 'check' | 'rollback' | 'describe' | 'approval' | 'title'
> & {
  readonly uses?: U;
  readonly title: string | ((ctx: StepContext<P, U[number]>) => string);
  run(ctx: StepContext<P, U[number]>): Promise<O> | O;
  check?(
    ctx: StepContext<P, U[number]>,
  ): Promise<{ done: true; output: Awaited<O>; reason?: string } | { done: false; reason?: string }>
    | { done: true; output: Awaited<O>; reason?: string }
    | { done: false; reason?: string };
  rollback?(ctx: StepContext<P, U[number]>, output: Awaited<O>): Promise<void> | void;
  readonly approval?: string | ((ctx: StepContext<P, U[number]>) => string);
  describe?(ctx: StepContext<P, U[number]>): string | Promise<string>;
};

/**
 * Define a step. The output type is inferred from `run`; later steps read it with
 * `ctx.output(thisStep)` after listing it in their `uses`.
 *
 * @example
 * const version = defineStep({
 *   id: 'read-version',
 *   title: 'Read cluster version',
 *   mutates: false,
 *   run: async () => ({ version: '1.19' }),
 * });
 * const bump = defineStep({
 *   id: 'bump',
 *   title: 'Upgrade',
 *   mutates: true,
 *   approval: 'Upgrade the control plane',
 *   uses: [version],
 *   run: (ctx) => ({ from: ctx.output(version).version }),
 * });
 */
export function defineStep<
  const Id extends string,
  O,
  P = AnyParams,
  const U extends readonly AnyStep[] = readonly [],
>(def: StepDef<Id, O, P, U>): Step<Id, Awaited<O>, P> {
  return { ...def, kind: 'step' } as unknown as Step<Id, Awaited<O>, P>;
}

/**
 * A `defineStep` whose `ctx.params` is typed by a runbook's params schema.
 *
 * @example
 * const params = z.object({ cluster: z.string() });
 * const step = stepsFor<z.infer<typeof params>>();
 * const hello = step({ id: 'hello', title: 'Say hello', mutates: false, run: (ctx) => ctx.params.cluster });
 */
export function stepsFor<P>() {
  return <const Id extends string, O, const U extends readonly AnyStep[] = readonly []>(
    def: StepDef<Id, O, P, U>,
  ): Step<Id, Awaited<O>, P> => defineStep<Id, O, P, U>(def);
}

/**
 * Group steps under one heading. Ids stay global: a step id is unique across the runbook.
 *
 * @example
 * const addons = defineGroup({ id: 'addons', title: 'Migrate add-ons to managed', steps: [vpcCni, coreDns] });
 */
export function defineGroup<P = AnyParams>(def: Omit<Group<P>, 'kind'>): Group<P> {
  return { ...def, kind: 'group' };
}

/**
 * A watcher that runs while the named steps (or all mutating steps) run.
 *
 * @example
 * const health = defineGuard({
 *   id: 'tg-health', title: 'Target groups stay attached', during: 'mutating', intervalMs: 5000,
 *   poll: async (ctx) => null,
 * });
 */
export function defineGuard<P = AnyParams>(def: Omit<Guard<P>, 'kind'>): Guard<P> {
  return { ...def, kind: 'guard' };
}

/**
 * A fix from an earlier postmortem, verified before anything mutates.
 *
 * @example
 * const fix = defineKnownFix({
 *   id: 'dereg-delay', title: 'Deregistration delay set on every target group',
 *   check: async () => ({ ok: true, message: 'all 4 target groups have it' }),
 * });
 */
export function defineKnownFix<P = AnyParams, AO = unknown>(
  def: Omit<KnownFix<P, AO>, 'kind'>,
): KnownFix<P, AO> {
  return { ...def, kind: 'known-fix' };
}

/**
 * Define a runbook. Its file's default export is what `runbook run <id>` loads.
 *
 * @example
 * export default defineRunbook({
 *   id: 'hello', title: 'Hello', description: 'Says hello',
 *   params: z.object({ cluster: z.string() }),
 *   steps: [hello],
 * });
 */
export function defineRunbook<const S extends ParamsSchema>(
  def: Omit<Runbook<S>, 'kind' | 'steps'> & { readonly steps: readonly StepOrGroup[] },
): Runbook<S> {
  return { ...def, kind: 'runbook' };
}
