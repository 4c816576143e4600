import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeError, isRunbookError, RunbookError } from '../errors.js';
import type { Runbook } from './types.js';
import { validateRunbook } from './validate.js';

export interface LoadedRunbook {
  runbook: Runbook;
  file: string;
  /** sha256 of the file: a resume refuses to continue under a changed runbook. */
  sourceHash: string;
}

const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

/** Runbook files in the given directories (user dirs first), by file name without extension. */
export function listRunbookFiles(dirs: readonly string[]): { name: string; file: string }[] {
  const seen = new Set<string>();
  const out: { name: string; file: string }[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
    for (const f of readdirSync(dir).sort()) {
      const ext = extname(f);
      if (!EXTENSIONS.includes(ext) || f.endsWith('.d.ts') || f.startsWith('_')) continue;
      const name = basename(f, ext);
      if (seen.has(name)) continue;
      seen.add(name);
      out.push({ name, file: join(dir, f) });
    }
  }
  return out;
}

/** `eks-1.20` → runbooks/eks-1.20.ts (user dirs first); a path is taken as a path. */
export function resolveRunbookFile(nameOrPath: string, dirs: readonly string[]): string {
  if (EXTENSIONS.includes(extname(nameOrPath)) && (nameOrPath.includes('/') || existsSync(nameOrPath))) {
    const file = isAbsolute(nameOrPath) ? nameOrPath : resolve(nameOrPath);
    if (!existsSync(file)) throw notFound(nameOrPath, dirs);
    return file;
  }
  const hit = listRunbookFiles(dirs).find((r) => r.name === nameOrPath);
  if (!hit) throw notFound(nameOrPath, dirs);
  return hit.file;
}

function notFound(name: string, dirs: readonly string[]): RunbookError {
  const known = listRunbookFiles(dirs).map((r) => r.name);
  return new RunbookError('RUNBOOK_NOT_FOUND', `No runbook named '${name}' in ${dirs.join(', ')}.`, {
    hint: known.length ? `Known runbooks: ${known.join(', ')}. Use --runbooks <dir> for your own.` : 'Point --runbooks at the directory holding your runbook files.',
  });
}

/** Load a TypeScript runbook at run time (tsx; no build step for authors) and validate it. */
export async function loadRunbook(file: string): Promise<LoadedRunbook> {
  const source = readFileSync(file);
  const sourceHash = createHash('sha256').update(source).digest('hex');
  let mod: { default?: unknown };
  try {
    await registerFallbacks();
    const { tsImport } = await import('tsx/esm/api');
    mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: unknown };
  } catch (e) {
    if (isRunbookError(e)) throw e;
    const missingOurs = /Cannot find (module|package) '(upgrade-runbook|zod)'/.test(describeError(e));
    throw new RunbookError('RUNBOOK_INVALID', `${file}: the runbook file does not load: ${describeError(e)}`, {
      hint: missingOurs
        ? `Runbooks outside this package are loaded as ES modules: put a package.json with {"type": "module"} in ${dirname(file)} (or name the file .mts). Nothing was executed.`
        : 'Fix the file (a syntax error or a failing import); nothing was executed.',
      cause: e,
    });
  }
  const runbook = validateRunbook(mod.default ?? (mod as { default?: { default?: unknown } }).default?.default, file);
  return { runbook, file, sourceHash };
}

let registered = false;

/**
 * Module resolution hooks for runbook files kept outside this package (`--runbooks ~/books`):
 * `upgrade-runbook` and `zod` resolve to this installation's copies when the runbook's own
 * directory has none. A data: URL, so the hooks load the same from dist/ and from src/.
 */
const RESOLVE_HOOKS = `
const fallbacks = {};
export function initialize(data) { Object.assign(fallbacks, data.fallbacks); }
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    const url = fallbacks[specifier];
    if (url && e && e.code === 'ERR_MODULE_NOT_FOUND') return { url, shortCircuit: true };
    throw e;
  }
}`;

async function registerFallbacks(): Promise<void> {
  if (registered) return;
  registered = true;
  const { register } = await import('node:module');
  const index = new URL(import.meta.url.endsWith('.ts') ? '../index.ts' : '../index.js', import.meta.url).href;
  const fallbacks = { 'upgrade-runbook': index, zod: import.meta.resolve('zod') };
  register(`data:text/javascript,${encodeURIComponent(RESOLVE_HOOKS)}`, { parentURL: import.meta.url, data: { fallbacks } });
}
