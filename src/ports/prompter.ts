/** A choice put to the operator. */
export interface Choice<T extends string> {
  value: T;
  name: string;
  description?: string;
}

/**
 * Asks a person. The real one is inquirer through listr2's prompt adapter (src/engine/render.ts);
 * tests pass a scripted one. Never used when the run is not interactive.
 */
export interface Prompter {
  /** Rejects with a RunbookError('INTERRUPTED') on Ctrl-C at the prompt or when `signal` aborts. */
  select<T extends string>(message: string, choices: readonly Choice<T>[], signal?: AbortSignal): Promise<T>;
}

/** For tests and rehearsals: answers from a list, in order; fails loudly when it runs out. */
export function scriptedPrompter(answers: string[], asked: string[] = []): Prompter {
  return {
    select: async <T extends string>(message: string, choices: readonly Choice<T>[]): Promise<T> => {
      asked.push(message);
      const next = answers.shift();
      const hit = choices.find((c) => c.value === next);
      if (!hit) throw new Error(`scripted prompter: no answer for "${message}" (choices: ${choices.map((c) => c.value).join(', ')})`);
      return hit.value;
    },
  };
}
