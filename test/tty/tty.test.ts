// The real CLI on a real terminal: tmux gives the child a pty, so listr2's default renderer
// and the inquirer prompts run exactly as an operator sees them. Keys go in with send-keys,
// the screen comes back with capture-pane. Skipped (with a message) when tmux is missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers/cli.js';

const hasTmux = spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
if (!hasTmux) console.warn('test/tty: tmux is not installed; skipping the terminal tests');
const built = existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'));
if (hasTmux && !built) console.warn('test/tty: dist/ is not built (npm run build); skipping the terminal tests');

const FIXTURES = join(ROOT, 'test', 'fixtures', 'runbooks');
const sh = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

describe.skipIf(!hasTmux || !built)('the CLI on a terminal (tmux)', () => {
  let dir: string;
  let socket: string;
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const screen = (): string => tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', 'rb');
  /** The same, with the colours and attributes the program set (-e). */
  const rawScreen = (): string => tmux('capture-pane', '-p', '-e', '-J', '-S', '-200', '-t', 'rb');
  const exitFile = (): string => join(dir, 'exit');

  /** Starts the CLI in a fresh tmux server (own socket) on a 160×50 terminal. */
  function start(args: string[]): void {
    const cmd = [process.execPath, BIN, ...args].map(sh).join(' ');
    const env = `env NO_COLOR=1 RUNBOOK_ACTOR=tester@tty AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true TERM=xterm-256color`;
    // The shell stays alive after the CLI exits so the final screen can still be read.
    tmux('new-session', '-d', '-s', 'rb', '-x', '160', '-y', '50', `${env} ${cmd}; echo $? > ${sh(exitFile())}; sleep 60`);
  }

  async function waitScreen(pred: (s: string) => boolean, what: string, timeoutMs = 10_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const s = screen();
      if (pred(s)) return s;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; screen:\n${s}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function exitCode(timeoutMs = 10_000): Promise<number> {
    const end = Date.now() + timeoutMs;
    while (!existsSync(exitFile()) || readFileSync(exitFile(), 'utf8').trim() === '') {
      if (Date.now() > end) throw new Error(`the CLI did not exit; screen:\n${screen()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return Number(readFileSync(exitFile(), 'utf8').trim());
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'runbook-tty-'));
    socket = `runbook-tty-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  });

  afterEach(() => {
    spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  const fileWorld = (): string[] => ['--runbooks', FIXTURES, 'run', 'file-world', '--world', join(dir, 'world'), '--state-dir', join(dir, 'state')];

  it('asks before every mutating step, says what changes, and completes when each is approved with Enter', async () => {
    start(fileWorld());
    // Each approval names the change; Enter picks the first choice ("Approve and run it").
    const approvals = [
      'Write a backup of the add-on manifests next to the world',
      'Upgrade the control plane of demo (local-1) to 1.20',
      'Switch vpc-cni to a managed add-on',
      'Switch coredns to a managed add-on',
    ];
    for (const text of approvals) {
      const s = await waitScreen((x) => x.includes(`? ${text}`) && x.includes('Approve and run it'), `the approval "${text}"`);
      expect(s).toContain('Abort the run (the checkpoint is kept; resume later)');
      tmux('send-keys', '-t', 'rb', 'Enter');
      await waitScreen((x) => !x.includes(`? ${text}`), `the prompt "${text}" to close`);
    }
    expect(await exitCode()).toBe(0);
    const s = screen();
    expect(s).toMatch(/Run \S+-file-world-\S+: completed/);
    for (const id of ['backup', 'control-plane', 'addon-vpc-cni', 'addon-coredns']) expect(s).toMatch(new RegExp(`^${id}\\s+mutates\\s+executed`, 'm'));
    // NO_COLOR: the summary carries no colour or attribute codes.
    const raw = rawScreen();
    expect(raw.slice(raw.search(/Run \S+-file-world-\S+: completed/))).not.toContain('\u001b[');
    expect(readFileSync(join(dir, 'world', 'version'), 'utf8')).toBe('1.20');
  }, 30_000);

  it('Abort at an approval ends the run with exit 4 and a resume hint; nothing after it ran', async () => {
    start(fileWorld());
    await waitScreen((x) => x.includes('? Write a backup of the add-on manifests'), 'the first approval');
    tmux('send-keys', '-t', 'rb', 'Down');
    await waitScreen((x) => /❯ Abort the run/.test(x), 'the cursor on Abort');
    tmux('send-keys', '-t', 'rb', 'Enter');
    expect(await exitCode()).toBe(4);
    const s = screen();
    expect(s).toMatch(/: aborted/);
    expect(s).toMatch(/runbook resume \S+-file-world-\S+/);
    expect(existsSync(join(dir, 'world', 'backup'))).toBe(false);
  }, 30_000);

  it('Ctrl-C at an approval prompt ends the run as interrupted (exit 130), not as a failed step', async () => {
    start(fileWorld());
    await waitScreen((x) => x.includes('? Write a backup of the add-on manifests'), 'the first approval');
    tmux('send-keys', '-t', 'rb', 'C-c');
    expect(await exitCode()).toBe(130);
    const s = screen();
    expect(s).toMatch(/: interrupted/);
    expect(s).toMatch(/runbook resume \S+-file-world-\S+/);
    expect(s).not.toMatch(/STEP_FAILED/);
  }, 30_000);
});
