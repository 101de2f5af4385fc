/**
 * A small schema language for the configuration: every option has its type, default and a sentence of
 * documentation, written once. From it come validation (with errors that name the key path, what was
 * expected and what was found), the defaults, and the documented example file.
 */

export type Issue = { path: string; expected: string; found: string };

type Base<T> = {
  doc: string;
  /** Holds a secret (a passphrase, a community, a password): an error shows its kind and size, never
   * its text, and the history's configuration fingerprint keeps only a keyed digest of it. */
  secret?: boolean;
  /** A list's items (list fields only). */
  item?: Section<unknown>;
  /** Validates and returns the value, or records issues and returns undefined. */
  check(v: unknown, path: string, issues: Issue[]): T | undefined;
  defaultValue(): T;
  describe(): string;
};

export type Field<T> = Base<T> & { kind: 'leaf' };
export interface Section<T> extends Base<T> {
  kind: 'section';
  fields: Record<string, Node>;
}
export type Node = Field<unknown> | Section<unknown>;

/** What a secret value looked like, without a character of it. */
export function foundSecret(v: unknown): string {
  if (typeof v === 'string') return `a string of ${v.length} characters (a secret: not shown)`;
  if (Array.isArray(v)) return `a list of ${v.length} (a secret: not shown)`;
  if (v !== null && typeof v === 'object') return 'a mapping (a secret: not shown)';
  return `${v === null ? 'null' : typeof v} (a secret: not shown)`;
}

/** A list as an error shows it: a YAML alias can make one contain itself (`&a [*a]`), which JSON
 * cannot write (found by the fuzzer: TypeError instead of a ConfigError). */
function listPreview(v: unknown[]): string {
  try {
    return JSON.stringify(v).slice(0, 40);
  } catch {
    return 'that contains itself';
  }
}

export function found(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list (${listPreview(v)})`;
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** How a value is shown in an error: `secret`, never; `show`, a string as it says (a URL without its
 * credentials); otherwise as it is. */
type Shown = { secret?: boolean; show?: (s: string) => string };
const shown = (o: Shown) => (v: unknown): string =>
  (o.secret ? foundSecret(v) : o.show && typeof v === 'string' ? found(o.show(v)) : found(v));

function leaf<T>(doc: string, def: T, describe: string, check: (v: unknown) => T | undefined, o: Shown = {}): Field<T> {
  const show = shown(o);
  return {
    kind: 'leaf', doc, describe: () => describe, defaultValue: () => def, ...(o.secret ? { secret: true } : {}),
    check(v, path, issues) {
      const r = check(v);
      if (r === undefined) issues.push({ path, expected: describe, found: show(v) });
      return r;
    },
  };
}

export function num(doc: string, def: number, opts: { min?: number; max?: number; integer?: boolean } = {}): Field<number> {
  const range = opts.min !== undefined && opts.max !== undefined ? ` from ${opts.min} to ${opts.max}`
    : opts.min !== undefined ? ` of at least ${opts.min}` : opts.max !== undefined ? ` of at most ${opts.max}` : '';
  const what = `${opts.integer ? 'an integer' : 'a number'}${range}`;
  return leaf(doc, def, what, (v) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
    if (opts.integer && !Number.isSafeInteger(v)) return undefined;
    if (opts.min !== undefined && v < opts.min) return undefined;
    if (opts.max !== undefined && v > opts.max) return undefined;
    return v;
  });
}

export function int(doc: string, def: number, opts: { min?: number; max?: number } = {}): Field<number> {
  return num(doc, def, { ...opts, integer: true });
}

export function bool(doc: string, def: boolean): Field<boolean> {
  return leaf(doc, def, 'true or false', (v) => (typeof v === 'boolean' ? v : undefined));
}

export function str(doc: string, def: string, opts: { pattern?: RegExp; what?: string; valid?: (s: string) => boolean } & Shown = {}): Field<string> {
  return leaf(doc, def, opts.what ?? 'a string', (v) =>
    typeof v === 'string' && (!opts.pattern || opts.pattern.test(v)) && (!opts.valid || opts.valid(v)) ? v : undefined, opts);
}

export function oneOf<const T extends string>(doc: string, def: T, values: readonly T[]): Field<T> {
  return leaf(doc, def, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`, (v) =>
    typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as T) : undefined);
}

/** A list of strings, each checked by `valid` (which returns a problem or undefined). */
export function strList(doc: string, def: string[], what: string, valid: (s: string) => string | undefined = () => undefined, o: Shown = {}): Field<string[]> {
  const show = shown(o);
  return {
    kind: 'leaf', doc, describe: () => `a list of ${what}`, defaultValue: () => [...def], ...(o.secret ? { secret: true } : {}),
    check(v, path, issues) {
      if (v === null || v === undefined) return [];
      if (!Array.isArray(v)) {
        issues.push({ path, expected: `a list of ${what}`, found: show(v) });
        return undefined;
      }
      const out: string[] = [];
      v.forEach((x, i) => {
        const problem = typeof x === 'string' ? valid(x) : 'not a string';
        if (problem !== undefined) issues.push({ path: `${path}[${i}]`, expected: what, found: typeof x === 'string' ? `${show(x)} (${problem})` : show(x) });
        else out.push(x as string);
      });
      return out;
    },
  };
}

/** A list of items described by a section schema. */
export function list<T>(doc: string, item: Section<T>): Field<T[]> {
  return {
    kind: 'leaf', doc, describe: () => 'a list', defaultValue: () => [], item: item as Section<unknown>,
    check(v, path, issues) {
      if (v === null || v === undefined) return [];
      if (!Array.isArray(v)) {
        issues.push({ path, expected: 'a list', found: found(v) });
        return undefined;
      }
      const out: T[] = [];
      v.forEach((x, i) => {
        const r = item.check(x, `${path}[${i}]`, issues);
        if (r !== undefined) out.push(r);
      });
      return out;
    },
  };
}

type Shape = Record<string, Node>;
export type ValueOf<N> = N extends Base<infer T> ? T : never;
export type Infer<S extends Shape> = { [K in keyof S]: ValueOf<S[K]> };

export function section<S extends Shape>(doc: string, fields: S): Section<Infer<S>> {
  return {
    kind: 'section', doc, fields, describe: () => 'a mapping',
    defaultValue() {
      const o: Record<string, unknown> = {};
      for (const [k, f] of Object.entries(fields)) o[k] = f.defaultValue();
      return o as Infer<S>;
    },
    check(v, path, issues) {
      if (v === undefined || v === null) v = {};
      if (typeof v !== 'object' || Array.isArray(v)) {
        issues.push({ path: path || '(top level)', expected: 'a mapping', found: found(v) });
        return undefined;
      }
      const o: Record<string, unknown> = {};
      const given = v as Record<string, unknown>;
      for (const k of Object.keys(given)) {
        if (!Object.hasOwn(fields, k)) { // not `in`: constructor, toString and __proto__ are no options
          const near = Object.keys(fields).find((f) => editDistance(f, k.toLowerCase().replace(/-/g, '_')) <= 2);
          issues.push({
            path: path ? `${path}.${k}` : k,
            expected: near ? `no such option (did you mean "${near}"?)` : `one of the options ${Object.keys(fields).join(', ')}`,
            found: 'an unknown key',
          });
        }
      }
      for (const [k, f] of Object.entries(fields)) {
        const p = path ? `${path}.${k}` : k;
        o[k] = given[k] === undefined ? f.defaultValue() : f.check(given[k], p, issues);
      }
      return o as Infer<S>;
    },
  };
}

/** The paths of every secret option under `n`, list items written `[]` (snmp.users[].auth_key). */
export function secretPaths(n: Node, path = ''): string[] {
  if (n.kind === 'section') return Object.entries(n.fields).flatMap(([k, f]) => secretPaths(f, path ? `${path}.${k}` : k));
  if (n.secret) return [path];
  return n.item ? secretPaths(n.item, `${path}[]`) : [];
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}
