// Structure-aware mutations of decoded values (CBOR overlay messages, JSON commands): one node of
// the tree is replaced by a hostile value of another type or at a boundary. Byte flips rarely get
// past a CBOR or JSON decoder with the shape intact; these reach the validation behind it.
import type { Rand } from './mutator.ts';

const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];

function deep(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** Hostile replacements; `binary` adds byte strings (CBOR can carry them, JSON cannot). */
function hostileValues(rand: Rand, binary: boolean): unknown[] {
  const vs: unknown[] = [
    null,
    true,
    0,
    -1,
    -0,
    0.5,
    2 ** 31,
    2 ** 32,
    2 ** 53 + 2,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    '',
    'x'.repeat(1 + Math.floor(rand() * 70_000)),
    '\u0000\r\n',
    '__proto__',
    'constructor',
    '101@fuzz',
    '0'.repeat(32),
    'f'.repeat(32),
    [],
    Array.from({ length: 1 + Math.floor(rand() * 5000) }, () => 0),
    {},
    { __proto__: { polluted: true } },
    JSON.parse('{"__proto__":{"polluted":true}}'),
    deep(1 + Math.floor(rand() * 200)),
  ];
  if (binary) {
    vs.push(
      Number.NaN,
      Number.POSITIVE_INFINITY,
      undefined,
      new Uint8Array(0),
      new Uint8Array(1 + Math.floor(rand() * 100_000)),
      new Map([[1, 2]]),
      new Set([1]),
      new Date(0),
      10n ** 30n,
    );
  }
  return vs;
}

type Path = (string | number)[];

function paths(v: unknown, prefix: Path, out: Path[], depth: number): void {
  out.push(prefix);
  if (depth > 12 || v === null || typeof v !== 'object' || v instanceof Uint8Array) return;
  if (Array.isArray(v)) {
    for (let i = 0; i < Math.min(v.length, 50); i++) paths(v[i], [...prefix, i], out, depth + 1);
  } else {
    for (const k of Object.keys(v)) paths((v as Record<string, unknown>)[k], [...prefix, k], out, depth + 1);
  }
}

function clone(v: unknown): unknown {
  if (v instanceof Uint8Array) return v.slice();
  if (Array.isArray(v)) return v.map(clone);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = clone(x);
    return out;
  }
  return v;
}

/** A copy of `value` with 1-3 nodes replaced, deleted, or added (a stray key). */
export function mutateValue(rand: Rand, value: unknown, binary: boolean): unknown {
  let root = clone(value);
  const edits = 1 + Math.floor(rand() * 3);
  for (let e = 0; e < edits; e++) {
    const all: Path[] = [];
    paths(root, [], all, 0);
    const path = pick(rand, all);
    const replacement = pick(rand, hostileValues(rand, binary));
    if (path.length === 0) {
      root = replacement;
      continue;
    }
    let parent = root as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    const last = path[path.length - 1];
    const r = rand();
    if (r < 0.15 && !Array.isArray(parent)) delete parent[last];
    else if (r < 0.25 && !Array.isArray(parent))
      parent[pick(rand, ['extra', '__proto__', 't', 'op'])] = replacement;
    else parent[last] = replacement;
  }
  return root;
}
