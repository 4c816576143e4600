import type { z } from 'zod';
import { RunbookError } from '../errors.js';
import type { ParamsSchema } from './types.js';

export interface ParamInfo {
  name: string;
  flag: string;
  type: string;
  required: boolean;
  description?: string;
  example?: string;
  defaultValue?: unknown;
  choices?: string[];
}

interface ZodInternals {
  _zod: { def: { type: string; innerType?: z.ZodType; defaultValue?: unknown; entries?: Record<string, string>; element?: z.ZodType } };
  description?: string;
  meta?: () => Record<string, unknown> | undefined;
}

function internals(t: z.ZodType): ZodInternals {
  return t;
}

/** The param's base type and flags, looking through optional/default/nullable wrappers. */
function unwrap(t: z.ZodType): { base: z.ZodType; required: boolean; defaultValue?: unknown; description?: string; example?: string } {
  let cur = t;
  let required = true;
  let defaultValue: unknown;
  let description: string | undefined = internals(t).description;
  let example = metaExample(t);
  for (;;) {
    const def = internals(cur)._zod.def;
    if (def.type === 'optional' || def.type === 'nullable') required = false;
    else if (def.type === 'default' || def.type === 'prefault') {
      required = false;
      defaultValue = typeof def.defaultValue === 'function' ? (def.defaultValue as () => unknown)() : def.defaultValue;
    } else break;
    if (!def.innerType) break;
    cur = def.innerType;
    description ??= internals(cur).description;
    example ??= metaExample(cur);
  }
  return { base: cur, required, defaultValue, ...(description ? { description } : {}), ...(example ? { example } : {}) };
}

function metaExample(t: z.ZodType): string | undefined {
  const m = internals(t).meta?.();
  const ex = m?.example ?? (Array.isArray(m?.examples) ? (m.examples as unknown[])[0] : undefined);
  return ex === undefined ? undefined : typeof ex === 'string' ? ex : JSON.stringify(ex);
}

export function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

export function describeParams(schema: ParamsSchema): ParamInfo[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const u = unwrap(field as z.ZodType);
    const def = internals(u.base)._zod.def;
    const choices = def.type === 'enum' && def.entries ? Object.values(def.entries) : undefined;
    return {
      name,
      flag: `--${kebab(name)}`,
      type: choices ? choices.join('|') : def.type,
      required: u.required,
      ...(u.description ? { description: u.description } : {}),
      ...(u.example ? { example: u.example } : {}),
      ...(u.defaultValue !== undefined ? { defaultValue: u.defaultValue } : {}),
      ...(choices ? { choices } : {}),
    };
  });
}

/**
 * Turn `--param key=value` pairs and generated flags into the runbook's params.
 * Strings are coerced by the declared type; every problem names the field, what was expected,
 * and an example.
 */
export function parseParams(schema: ParamsSchema, raw: Record<string, string | string[]>, runbookId: string): Record<string, unknown> {
  const infos = new Map(describeParams(schema).map((p) => [p.name, p]));
  const byFlag = new Map([...infos.values()].map((p) => [kebab(p.name), p.name]));
  const input: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const name = infos.has(key) ? key : byFlag.get(kebab(key));
    if (!name) {
      problems.push(`unknown param '${key}' (this runbook takes: ${[...infos.keys()].join(', ') || 'none'})`);
      continue;
    }
    const field = schema.shape[name] as z.ZodType;
    const isList = internals(unwrap(field).base)._zod.def.type === 'array';
    if (!isList && Array.isArray(value) && new Set(value).size > 1) {
      problems.push(`param '${name}' is given ${value.length} times (${value.map((v) => JSON.stringify(v)).join(', ')}); give it once`);
      continue;
    }
    input[name] = coerce(field, value);
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '');
      const info = infos.get(name);
      const got = name in input ? ` (got ${JSON.stringify(input[name])})` : issue.code === 'invalid_type' ? ' (missing)' : '';
      const example = info ? ` Example: ${info.flag} ${info.example ?? exampleFor(info)}` : '';
      problems.push(`param '${name}'${got}: ${issue.message}.${example}`);
    }
  }
  if (problems.length > 0) {
    throw new RunbookError('BAD_PARAMS', `Bad params for runbook '${runbookId}':\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      hint: `See the params with \`runbook show ${runbookId}\`; pass them as flags (--cluster prod-eu) or --param key=value.`,
      details: { problems },
    });
  }
  return parsed.data as Record<string, unknown>;
}

function exampleFor(info: ParamInfo): string {
  if (info.choices?.[0]) return info.choices[0];
  if (info.type === 'number' || info.type === 'int') return '300';
  if (info.type === 'boolean') return 'true';
  return '<value>';
}

function coerce(field: z.ZodType, value: string | string[]): unknown {
  const base = internals(unwrap(field).base)._zod.def;
  if (base.type === 'array') {
    const items = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
    return base.element ? items.map((v) => coerce(base.element as z.ZodType, v)) : items;
  }
  const v = Array.isArray(value) ? value[value.length - 1] ?? '' : value;
  // Plain decimals only: "0x10" or "1e3" for a timeout is a typo, not a number.
  if (base.type === 'number' || base.type === 'int') return /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v;
  if (base.type === 'boolean') return v === 'true' || v === '' ? true : v === 'false' ? false : v;
  return v;
}
