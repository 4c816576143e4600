/**
 * awsQuery request decoding: `Targets.member.1.Id=i-1&Targets.member.1.Port=80` becomes
 * `{ Targets: [{ Id: 'i-1', Port: 80 }] }`. Members named like numbers or booleans in the ELBv2
 * model are converted, everything else stays a string.
 */
const NUMERIC = new Set(['PageSize', 'Port', 'Weight', 'Order', 'DurationSeconds', 'Priority']);
const BOOLEAN = new Set(['Enabled', 'IsDefault']);

type Node = { [k: string]: Node | string | number | boolean | Node[] };

export function decodeQuery(body: string): { action: string; version: string; params: Record<string, unknown> } {
  const form = new URLSearchParams(body);
  const root: Node = {};
  let action = '';
  let version = '';
  for (const [key, raw] of form) {
    if (key === 'Action') {
      action = raw;
      continue;
    }
    if (key === 'Version') {
      version = raw;
      continue;
    }
    setPath(root, key.split('.'), raw);
  }
  return { action, version, params: finish(root) as Record<string, unknown> };
}

function setPath(root: Node, parts: string[], raw: string): void {
  let cur: Node = root;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] ?? '';
    const last = i === parts.length - 1;
    if (last) {
      cur[p] = convert(parts[i - 1] === 'member' ? (parts[i - 2] ?? p) : p, raw);
      return;
    }
    const next = cur[p];
    if (typeof next === 'object' && next !== null && !Array.isArray(next)) cur = next;
    else {
      const fresh: Node = {};
      cur[p] = fresh;
      cur = fresh;
    }
  }
}

function convert(name: string, raw: string): string | number | boolean {
  if (NUMERIC.has(name) && /^-?\d+$/.test(raw)) return Number(raw);
  if (BOOLEAN.has(name) && (raw === 'true' || raw === 'false')) return raw === 'true';
  return raw;
}

/** Turns `{ member: { '1': x, '2': y } }` into `[x, y]` (in index order), recursively. */
function finish(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && keys[0] === 'member') {
    const members = obj['member'] as Record<string, unknown>;
    return Object.keys(members)
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => finish(members[k]));
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = finish(obj[k]);
  return out;
}
