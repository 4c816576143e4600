import type { ListrTask, ListrTaskWrapper } from 'listr2';
import { RunbookError } from '../errors.js';
import type { Choice, Prompter } from '../ports/prompter.js';
import type { RendererKind } from './types.js';

/** What a running step may do to its line on screen, and how it asks the operator. */
export interface StepUi {
  title(text: string): void;
  status(text: string): void;
  /** Mark the line skipped (↓, not ✔) with the reason. */
  skip(reason: string): void;
  prompter: Prompter;
}

export interface UiTask {
  title: string;
  /** Heading shown above a run of tasks (a group); tasks with the same heading nest under it. */
  heading?: string;
  run(ui: StepUi): Promise<void>;
}

type AnyWrapper = ListrTaskWrapper<unknown, never, never>;

/**
 * Runs tasks in order through listr2: its default renderer on a TTY, the plain line renderer
 * ('simple') otherwise. listr2 only draws; the engine decides, records and checkpoints.
 */
export async function runWithListr(tasks: readonly UiTask[], renderer: RendererKind): Promise<void> {
  const { Listr, PRESET_TIMESTAMP } = await import('listr2');
  const toListr = (t: UiTask): ListrTask => ({
    title: t.title,
    task: async (_ctx, wrapper) => t.run(makeUi(wrapper as unknown as AnyWrapper, t.title, renderer)),
  });
  const top: ListrTask[] = [];
  for (let i = 0; i < tasks.length; ) {
    const t = tasks[i];
    if (!t) break;
    if (!t.heading) {
      top.push(toListr(t));
      i++;
      continue;
    }
    const heading = t.heading;
    const members: UiTask[] = [];
    while (i < tasks.length && tasks[i]?.heading === heading) members.push(tasks[i++] as UiTask);
    top.push({
      title: heading,
      task: (_ctx, wrapper) => wrapper.newListr(members.map(toListr), { exitOnError: true, concurrent: false }),
    });
  }
  const listr = new Listr(top, {
    concurrent: false,
    exitOnError: true,
    registerSignalListeners: false,
    renderer: renderer === 'default' ? 'default' : renderer === 'silent' ? 'silent' : 'simple',
    fallbackRenderer: 'simple',
    rendererOptions: {
      collapseSubtasks: false,
      showErrorMessage: true,
      outputBar: 1,
      persistentOutput: false,
      logger: undefined,
    },
    fallbackRendererOptions: { timestamp: PRESET_TIMESTAMP },
  } as never);
  await listr.run();
}

function makeUi(wrapper: AnyWrapper, baseTitle: string, renderer: RendererKind): StepUi {
  let lastShape = '';
  let lastAt = 0;
  return {
    title: (text) => {
      wrapper.title = text;
    },
    skip: (reason) => {
      // The default renderer shows the skip message instead of the title; the line renderer
      // prints the title and appends [SKIPPED: message]. Either way the line reads once.
      wrapper.skip(renderer === 'default' ? `${baseTitle} — skipped: ${reason}` : reason);
    },
    status: (text) => {
      if (renderer === 'default') {
        wrapper.output = text;
        return;
      }
      // Line renderers print every change: only when the words change, or every 30 s.
      const shape = text.replace(/\d+/g, '#');
      const now = Date.now();
      if (shape === lastShape && now - lastAt < 30_000) return;
      lastShape = shape;
      lastAt = now;
      wrapper.output = `${baseTitle}: ${text}`;
    },
    prompter: {
      select: async <T extends string>(message: string, choices: readonly Choice<T>[], signal?: AbortSignal): Promise<T> => {
        const [{ ListrInquirerPromptAdapter }, { select }] = await Promise.all([
          import('@listr2/prompt-adapter-inquirer'),
          import('@inquirer/prompts'),
        ]);
        try {
          const answer: unknown = await wrapper
            .prompt(ListrInquirerPromptAdapter)
            .run(
              select,
              { message, choices: choices.map((c) => ({ value: c.value, name: c.name, ...(c.description ? { description: c.description } : {}) })) },
              signal ? { signal } : undefined,
            );
          return answer as T;
        } catch (e) {
          // inquirer owns the terminal in raw mode: Ctrl-C arrives here, not as SIGINT.
          const name = (e as { name?: string }).name;
          if (name === 'ExitPromptError' || name === 'AbortPromptError' || name === 'CancelPromptError') {
            throw new RunbookError('INTERRUPTED', 'Interrupted at a prompt.');
          }
          throw e;
        }
      },
    },
  };
}
