/**
 * The three patch flavours kubectl sends: JSON merge patch (RFC 7386, CRDs), strategic merge
 * patch (built-in kinds: lists with a merge key merge item by item), JSON patch (RFC 6902).
 * Strategic merge covers the directives kubectl 1.32 emits ($patch, $setElementOrder,
 * $retainKeys, $deleteFromPrimitiveList); merge keys are the ones of the kinds the sandbox serves.
 */
type J = unknown;
type Obj = Record<string, unknown>;

const isObj = (v: J): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergePatch(target: J, patch: J): J {
  if (!isObj(patch)) return patch;
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Merge key of a list, by the field's name and where it sits. */
function mergeKey(field: string, path: string[]): string | undefined {
  const parent = path[path.length - 1] ?? '';
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'env':
    case 'imagePullSecrets':
    case 'secrets':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'ports':
      // Container ports merge on containerPort, Service ports on port.
      return path.includes('containers') || path.includes('initContainers') || parent === 'containers' ? 'containerPort' : 'port';
    case 'conditions':
      return 'type';
    case 'tolerations':
    case 'args':
    case 'command':
    default:
      return undefined;
  }
}

export function strategicMergePatch(target: J, patch: J, path: string[] = []): J {
  if (!isObj(patch)) return patch;
  if (patch['$patch'] === 'replace') {
    const { $patch: _drop, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (patch['$patch'] === 'delete') return undefined;
  const out: Obj = isObj(target) ? { ...target } : {};
  const retain = Array.isArray(patch['$retainKeys']) ? (patch['$retainKeys'] as string[]) : undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$setElementOrder/') || k === '$retainKeys' || k === '$patch') continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const drop = new Set((v as J[]).map((x) => JSON.stringify(x)));
      const cur = out[field];
      if (Array.isArray(cur)) out[field] = cur.filter((x) => !drop.has(JSON.stringify(x)));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      out[k] = mergeList(out[k], v, k, path);
      continue;
    }
    const merged = strategicMergePatch(out[k], v, [...path, k]);
    if (merged === undefined) delete out[k];
    else out[k] = merged;
  }
  if (retain) for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  return out;
}

function mergeList(current: J, patch: J[], field: string, path: string[]): J[] {
  const key = mergeKey(field, path);
  if (key === undefined || !Array.isArray(current)) {
    return patch.filter((p) => !(isObj(p) && p['$patch'] === 'delete')).map((p) => stripDirectives(p));
  }
  const out: J[] = [...(current as J[])];
  for (const item of patch) {
    if (!isObj(item)) {
      out.push(item);
      continue;
    }
    const idx = out.findIndex((c) => isObj(c) && c[key] === item[key]);
    if (item['$patch'] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMergePatch(out[idx], item, [...path, field]);
    else out.push(stripDirectives(item));
  }
  return out;
}

function stripDirectives(v: J): J {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}

/** RFC 6902 with the operations `kubectl patch --type json` users write. */
export function jsonPatch(target: J, ops: J): J {
  if (!Array.isArray(ops)) throw new Error('a JSON patch must be an array of operations');
  let doc = structuredClone(target);
  for (const raw of ops) {
    const op = raw as { op?: string; path?: string; value?: J; from?: string };
    const parts = (op.path ?? '').split('/').slice(1).map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
    if (op.op === 'test') {
      if (JSON.stringify(getAt(doc, parts)) !== JSON.stringify(op.value)) throw new Error(`test failed at ${op.path ?? ''}`);
      continue;
    }
    if (op.op === 'add' || op.op === 'replace') doc = setAt(doc, parts, op.value, op.op === 'add');
    else if (op.op === 'remove') doc = removeAt(doc, parts);
    else throw new Error(`unsupported JSON patch operation '${String(op.op)}'`);
  }
  return doc;
}

function getAt(doc: J, parts: string[]): J {
  let cur = doc;
  for (const p of parts) cur = Array.isArray(cur) ? cur[Number(p)] : isObj(cur) ? cur[p] : undefined;
  return cur;
}

function setAt(doc: J, parts: string[], value: J, insert: boolean): J {
  if (parts.length === 0) return value;
  const parent = getAt(doc, parts.slice(0, -1));
  const last = parts[parts.length - 1] ?? '';
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (insert) parent.splice(i, 0, value);
    else parent[i] = value;
  } else if (isObj(parent)) parent[last] = value;
  else throw new Error(`path /${parts.join('/')} does not exist`);
  return doc;
}

function removeAt(doc: J, parts: string[]): J {
  const parent = getAt(doc, parts.slice(0, -1));
  const last = parts[parts.length - 1] ?? '';
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isObj(parent)) delete parent[last];
  return doc;
}
