import type { AwsClients } from '../aws/types.js';
import type { Kube } from '../kube/types.js';
import type { Clock } from '../ports/clock.js';
import type { Notifier } from '../ports/notifier.js';
import type { Prompter } from '../ports/prompter.js';
import type { Shell } from '../ports/shell.js';

export type OnFailure = 'ask' | 'rollback' | 'abort';
export type RemediateMode = 'auto' | 'ask' | 'off';
export type RendererKind = 'default' | 'simple' | 'silent';

export interface EngineSettings {
  dryRun: boolean;
  sandbox: boolean;
  /** Pre-approves the planned mutating steps (never an unplanned known-fix apply). */
  yes: boolean;
  /** A person can answer prompts (stdin and stdout are TTYs, not --ci). */
  interactive: boolean;
  /** Apply missing known fixes without asking (an explicit, separate consent from --yes). */
  applyKnownFixes: boolean;
  /** Known fixes deliberately skipped: id → reason (recorded as fix.overridden). */
  skipKnownFixes: Record<string, string>;
  onFailure: OnFailure;
  remediate: RemediateMode;
  /** Multiplies poll intervals (steps and guards); 1 in production. */
  pollScale: number;
  renderer: RendererKind;
  /** Resume: run an in-flight step that has no check() again (the operator looked). */
  rerunInFlight?: boolean;
}

/** The outside world, passed in: the engine never reaches for globals. */
export interface EngineDeps {
  clock: Clock;
  aws: AwsClients;
  kube: Kube;
  /** Builds the recorded `$` for a step; `record` puts each command on the timeline. */
  shell: (record: (cmd: string) => void, signal: AbortSignal) => Shell;
  /** Answers approvals and failure decisions; the listr2/inquirer one by default. */
  prompter?: Prompter;
  notifier: Notifier;
}
