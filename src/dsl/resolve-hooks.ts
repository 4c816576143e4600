// Module resolution hooks (node:module register) for runbook files kept outside this package
// (`--runbooks ~/my-runbooks`): `upgrade-runbook` and `zod` resolve to this installation's copies
// when the runbook's own directory has none. Inside the repository Node finds them itself.
interface ResolveContext {
  parentURL?: string;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string }>;

const FALLBACKS: Record<string, string> = {};

export function initialize(data: { fallbacks: Record<string, string> }): void {
  Object.assign(FALLBACKS, data.fallbacks);
}

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<{ url: string; shortCircuit?: boolean }> {
  try {
    return await next(specifier, context);
  } catch (e) {
    const url = FALLBACKS[specifier];
    if (url && (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return { url, shortCircuit: true };
    throw e;
  }
}
