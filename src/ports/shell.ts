import type { Shell as ZxShell } from 'zx';

/** zx's `$`, as steps receive it (already quiet, with the run's signal). */
export type Shell = ZxShell;

/**
 * The real shell: zx (imported by whoever calls this, so commands that never shell out never
 * load it), quiet, cancelled with the step, and every command recorded before it runs.
 * zx quotes every interpolated value; a step never builds a shell string itself.
 */
export function recordedShell($: ZxShell, record: (cmd: string) => void, signal: AbortSignal): Shell {
  const base = $({ quiet: true, signal, verbose: false });
  return new Proxy(base, {
    apply(target, thisArg, args: unknown[]) {
      const first = args[0];
      const isTemplate = Array.isArray(first) && 'raw' in first;
      if (!isTemplate) {
        // $({ …options }) returns another shell: keep recording through it.
        const inner = Reflect.apply(target, thisArg, args) as ZxShell;
        return recordedShell(inner, record, signal);
      }
      const halted = Reflect.apply(target({ halt: true }), thisArg, args) as { cmd: string };
      record(halted.cmd);
      return Reflect.apply(target, thisArg, args) as unknown;
    },
  });
}
