import type { RunbookError } from '../errors.js';
import { EXIT_BY_CODE } from './exit-codes.js';

/** The CLI's two streams, passed in so commands can be run in-process by tests. */
export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
}

export function useColor(io: Io, flag?: boolean): boolean {
  if (flag === false || io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  return io.stdoutIsTTY;
}

export function style(enabled: boolean) {
  const wrap = (open: number, close: number) => (s: string) => (enabled ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), cyan: wrap(36, 39) };
}

export function println(stream: NodeJS.WritableStream, text = ''): void {
  stream.write(`${text}\n`);
}

export function printJson(io: Io, value: unknown): void {
  println(io.out, JSON.stringify(value, null, 2));
}

/** Every error the operator sees: what is wrong, then what to do, then the exit code's meaning. */
export function reportError(io: Io, e: RunbookError, json: boolean): number {
  const code = EXIT_BY_CODE[e.code];
  if (json) {
    println(io.err, JSON.stringify({ error: { code: e.code, message: e.message, hint: e.hint ?? null, exitCode: code } }));
    return code;
  }
  const s = style(useColor(io));
  println(io.err, `${s.red('error')} ${s.dim(`[${e.code}]`)} ${e.message}`);
  if (e.hint) println(io.err, `${s.yellow('next')}  ${e.hint}`);
  return code;
}


