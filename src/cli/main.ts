import { Command, CommanderError } from 'commander';
import { describeError, isRunbookError, RunbookError } from '../errors.js';
import { collect } from './collect.js';
import { EXIT, EXIT_DOCS } from './exit-codes.js';
import type { Io } from './output.js';
import { reportError } from './output.js';
import { packageVersion } from './setup.js';

/** The one place that talks to process.* and maps errors to exit codes. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  let exit = EXIT.ok as number;
  const setExit = (code: number): void => {
    exit = code;
  };
  const program = new Command('runbook')
    .description('Typed, resumable EKS upgrade runbooks: approvals, checkpoints, rollback, and a timeline for the postmortem.')
    .version(packageVersion(), '-V, --version')
    .option('--state-dir <dir>', 'where runs and locks live (default .runbook; env RUNBOOK_STATE_DIR)')
    .option('--runbooks <dir>', 'a directory of runbook files, searched before the built-in ones (repeatable)', collect, [])
    .option('--config <file>', `defaults for notify/stateDir/runbooks (default ./runbook.config.json; env RUNBOOK_CONFIG)`)
    .option('--json', 'machine-readable output')
    .option('--no-color', 'no colours (also NO_COLOR)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out.write(s),
      writeErr: (s) => io.err.write(s),
    })
    .addHelpText('after', `\nExit codes:\n${EXIT_DOCS.map(([c, d]) => `  ${String(c).padStart(3)}  ${d}`).join('\n')}\n`);

  const [{ registerRunCommands }, { registerInspectCommands }, { registerTimelineCommands }, { registerSandboxCommand }] = await Promise.all([
    import('./commands/run.js'),
    import('./commands/inspect.js'),
    import('./commands/timeline.js'),
    import('./commands/sandbox.js'),
  ]);
  registerRunCommands(program, io, setExit);
  registerInspectCommands(program, io, setExit);
  registerTimelineCommands(program, io, setExit);
  registerSandboxCommand(program);
  program.hook('preAction', async (_program, action) => applyConfig(program, action, io));
  for (const c of program.commands) c.exitOverride().configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) });

  try {
    await program.parseAsync([...argv]);
    return exit;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; real usage errors are bad input.
      return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    const json = argv.includes('--json');
    if (isRunbookError(e)) return reportError(io, e, json);
    return reportError(io, new RunbookError('INTERNAL', `Unexpected error: ${describeError(e)}`, { hint: 'This is a bug; the run directory and timeline are intact. Please report it with the stack below.' }), json) + (io.err.write(`${(e as Error).stack ?? ''}\n`) ? 0 : 0);
  }
}

/** Config file values fill in what flags (and env, for the state dir) did not say. */
async function applyConfig(program: Command, action: Command, io: Io): Promise<void> {
  const { loadConfig } = await import('./config.js');
  const cfg = loadConfig(program.opts<{ config?: string }>().config, io.env, io.cwd);
  if (cfg.stateDir && program.getOptionValueSource('stateDir') !== 'cli' && !io.env.RUNBOOK_STATE_DIR) program.setOptionValue('stateDir', cfg.stateDir);
  if (cfg.runbooks) program.setOptionValue('runbooks', [...(program.opts<{ runbooks?: string[] }>().runbooks ?? []), ...cfg.runbooks]);
  if (cfg.notify && action.options.some((o) => o.attributeName() === 'notify') && action.getOptionValueSource('notify') !== 'cli') {
    action.setOptionValue('notify', cfg.notify);
  }
}

function processIo(): Io {
  return {
    out: process.stdout,
    err: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    stdinIsTTY: !!process.stdin.isTTY,
    stdoutIsTTY: !!process.stdout.isTTY,
  };
}
