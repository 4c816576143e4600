import type { AnyStep, GuardContext, Json, StepContext } from '../dsl/types.js';
import { RunbookError } from '../errors.js';
import type { Run } from '../store/run-store.js';
import type { EngineDeps, EngineSettings } from './types.js';

export interface ContextInput {
  run: Run;
  deps: EngineDeps;
  settings: EngineSettings;
  params: Record<string, unknown>;
  /** The step (or guard/fix) whose view this is: ctx.output is limited to what it declared. */
  owner: { id: string; uses?: readonly AnyStep[] };
  stepId: string;
  attempt: number;
  signal: AbortSignal;
  whilePaused: () => Promise<void>;
  status: (text: string) => void;
}

/** Reads an earlier step's recorded output, refusing anything the owner did not declare. */
function outputReader(input: ContextInput) {
  return (step: AnyStep): never => {
    const declared = (input.owner.uses ?? []).some((u) => u.id === step.id);
    if (!declared) {
      throw new RunbookError('RUNBOOK_INVALID', `'${input.owner.id}' reads the output of '${step.id}' without listing it in \`uses\`.`, {
        hint: `Add ${step.id} to the uses of ${input.owner.id} in the runbook.`,
      });
    }
    const state = input.run.checkpoint.steps[step.id];
    if (!state || state.status !== 'completed') {
      throw new RunbookError('PRECONDITION_FAILED', `'${input.owner.id}' needs the output of '${step.id}', which has not completed (${state?.status ?? 'not started'}).`, {
        hint: state?.status === 'described' ? 'In a dry run, steps that read the output of a described (not executed) step cannot run.' : 'Resume the run so that step completes first.',
      });
    }
    return state.output as never;
  };
}

export function buildStepContext(input: ContextInput): StepContext {
  const { run, deps, settings, params, stepId } = input;
  const record = (message: string, data?: Record<string, unknown>): void => {
    run.record({ type: 'note', stepId, message, ...(data ? { data } : {}) });
  };
  let shell: StepContext['$'] | undefined;
  return {
    params,
    output: outputReader(input),
    aws: deps.aws,
    kube: deps.kube,
    get $() {
      shell ??= deps.shell((cmd) => record(`$ ${cmd}`, { command: cmd }), input.signal);
      return shell;
    },
    record,
    status: input.status,
    remember: async <T extends Json>(key: string, make: () => T | Promise<T>): Promise<T> => {
      const memo = run.step(stepId).memo;
      if (key in memo) return memo[key] as T;
      const value = await make();
      // Durable before the caller can use it: a crash after this line re-uses the same value.
      run.update(() => {
        run.step(stepId).memo[key] = value;
      });
      return value;
    },
    forget: (key: string): void => {
      run.update(() => {
        delete run.step(stepId).memo[key];
      });
    },
    runDir: run.dir,
    artefactsDir: run.artefactsDir,
    runId: run.id,
    stepId,
    attempt: input.attempt,
    signal: input.signal,
    clock: deps.clock,
    dryRun: settings.dryRun,
    sandbox: settings.sandbox,
    pollScale: settings.pollScale,
    whilePaused: input.whilePaused,
  };
}

export function buildGuardContext(input: Omit<ContextInput, 'attempt' | 'status'>): GuardContext {
  const full = buildStepContext({ ...input, attempt: 1, status: () => undefined });
  // Copy descriptors, not values: `$` stays lazy.
  const descriptors = Object.getOwnPropertyDescriptors(full) as Partial<Record<string, PropertyDescriptor>>;
  delete descriptors.remember;
  delete descriptors.forget;
  delete descriptors.attempt;
  delete descriptors.status;
  return Object.defineProperties({}, descriptors as PropertyDescriptorMap) as GuardContext;
}
