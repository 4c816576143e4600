/** Repeatable options (`--runbooks a --runbooks b`); variadic ones would swallow the command name. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
