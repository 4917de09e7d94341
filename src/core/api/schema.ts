// A tiny runtime schema helper: each schema parses `unknown` into a typed value or a typed error,
// and its TypeScript type is inferred from it (`Infer<typeof s>`), so the contract is written once.
// Parsing never throws, bounds every string and array (payloads come from a socket or another
// process), and copies only the declared keys of objects (unknown keys are dropped, so nothing like
// `__proto__` survives into the engine).

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export interface Schema<T> {
  parse(input: unknown, path?: string): Parsed<T>;
  /** Marks a schema as optional inside `object()`; never set by hand. */
  readonly optional?: boolean;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = (path: string, what: string): Parsed<never> => ({
  ok: false,
  error: `${path || 'value'}: ${what}`,
});

export interface StringOptions {
  min?: number;
  max?: number;
  pattern?: RegExp;
}

export function string(opts: StringOptions = {}): Schema<string> {
  const { min = 0, max = 1000, pattern } = opts;
  return {
    parse(v, path = '') {
      if (typeof v !== 'string') return fail(path, 'expected a string');
      if (v.length < min) return fail(path, `shorter than ${min}`);
      if (v.length > max) return fail(path, `longer than ${max}`);
      if (pattern && !pattern.test(v)) return fail(path, 'has the wrong format');
      return ok(v);
    },
  };
}

export function number(opts: { min?: number; max?: number; integer?: boolean } = {}): Schema<number> {
  const { min = -Number.MAX_VALUE, max = Number.MAX_VALUE, integer = false } = opts;
  return {
    parse(v, path = '') {
      if (typeof v !== 'number' || !Number.isFinite(v)) return fail(path, 'expected a finite number');
      if (integer && !Number.isInteger(v)) return fail(path, 'expected an integer');
      if (v < min || v > max) return fail(path, `out of range ${min}..${max}`);
      return ok(v);
    },
  };
}

export function boolean(): Schema<boolean> {
  return {
    parse: (v, path = '') => (typeof v === 'boolean' ? ok(v) : fail(path, 'expected true or false')),
  };
}

export function literal<const L extends readonly (string | number | boolean | null)[]>(
  ...values: L
): Schema<L[number]> {
  return {
    parse: (v, path = '') =>
      values.includes(v as L[number])
        ? ok(v as L[number])
        : fail(path, `expected one of ${values.join(', ')}`),
  };
}

export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return { parse: (v, path = '') => (v === null ? ok(null) : inner.parse(v, path)) };
}

/** A key that may be absent (or undefined) in an object. */
export function optional<T>(inner: Schema<T>): Schema<T | undefined> {
  return {
    optional: true,
    parse: (v, path = '') => (v === undefined ? ok(undefined) : inner.parse(v, path)),
  };
}

export function array<T>(item: Schema<T>, max = 10_000): Schema<T[]> {
  return {
    parse(v, path = '') {
      if (!Array.isArray(v)) return fail(path, 'expected an array');
      if (v.length > max) return fail(path, `more than ${max} items`);
      const out: T[] = [];
      for (let i = 0; i < v.length; i++) {
        const r = item.parse(v[i], `${path}[${i}]`);
        if (!r.ok) return r;
        out.push(r.value);
      }
      return ok(out);
    },
  };
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends { readonly optional: true } ? K : undefined extends Infer<S[K]> ? K : never;
}[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> & { shape: S } {
  return {
    shape,
    parse(v, path = '') {
      if (!isPlainObject(v)) return fail(path, 'expected an object');
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(shape)) {
        const field = Object.hasOwn(v, key) ? v[key] : undefined;
        const r = shape[key].parse(field, path ? `${path}.${key}` : key);
        if (!r.ok) return r;
        if (r.value !== undefined) out[key] = r.value;
      }
      return ok(out as ObjectOf<S>);
    },
  };
}

/** A union of objects told apart by the string in `key` (e.g. `type`). */
export function tagged<K extends string, M extends Record<string, Schema<unknown>>>(
  key: K,
  members: M,
): Schema<{ [T in keyof M]: Infer<M[T]> & { [P in K]: T } }[keyof M]> {
  return {
    parse(v, path = '') {
      if (!isPlainObject(v)) return fail(path, 'expected an object');
      const tag = v[key];
      if (typeof tag !== 'string' || !Object.hasOwn(members, tag))
        return fail(path ? `${path}.${key}` : key, 'unknown');
      const r = members[tag].parse(v, path);
      if (!r.ok) return r;
      return ok({ ...(r.value as object), [key]: tag } as never);
    },
  };
}
