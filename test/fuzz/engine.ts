/**
 * The fuzz loop: inputs generated from a target's seeds by seeded mutation, each run through the
 * target's harness; an exception the target does not throw by design, a broken invariant, or an input
 * that takes longer than a second is a crash, recorded with a signature (the error's kind, its message
 * with the numbers taken out, and the first frame in our code) so one bug found a thousand times is
 * reported once. The regressions kept in test/fuzz/regressions/<target>/ are read and written here.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng, inputSeed } from './prng.ts';

export const REGRESSIONS = resolve(fileURLToPath(new URL('.', import.meta.url)), 'regressions');
/** An input slower than this is a hang. */
export const HANG_MS = 1000;

/** A broken contract that is no exception of the code under test (a reply too large, a field out of range). */
export class InvariantError extends Error {
  override name = 'InvariantError';
}

export function check(cond: unknown, what: string): asserts cond {
  if (!cond) throw new InvariantError(what);
}

export interface Harness {
  seeds: Uint8Array[];
  mutate(rng: Rng, input: Uint8Array, seeds: readonly Uint8Array[]): Uint8Array;
  /** Runs one input; throws on a broken contract. */
  run(input: Uint8Array): void;
  /** Errors the code throws by design (the config loader's ConfigError): no crash. */
  expected?(e: unknown): boolean;
  /** Called every few hundred inputs: lets timers and callbacks of the code under test run. */
  settle?(): Promise<void>;
  close?(): Promise<void> | void;
}

export interface Target {
  name: string;
  /** The contract, in one paragraph (also in each target's source comment and docs/FUZZING.md). */
  contract: string;
  setup(): Promise<Harness> | Harness;
}

export interface Crash {
  signature: string;
  message: string;
  stack: string;
  input: Uint8Array;
  index: number;
  ms: number;
}

export interface RunStats {
  target: string;
  inputs: number;
  crashes: number;
  signatures: Map<string, Crash>;
  seconds: number;
  slowestMs: number;
}

/** The error's kind, its message with numbers and quoted text generalised, and where it was thrown. */
export function signatureOf(e: unknown): { signature: string; message: string; stack: string } {
  const err = e instanceof Error ? e : new Error(`non-Error thrown: ${String(e)}`);
  const message = err.message;
  const stack = err.stack ?? '';
  const general = message.replace(/"[^"]*"/g, '"…"').replace(/0x[0-9a-f]+/gi, 'H').replace(/\d+/g, 'N').slice(0, 120);
  const frame = stack.split('\n').map((l) => l.trim()).find((l) => l.startsWith('at ') && /\/(src|node_modules)\//.test(l)) ?? '';
  const where = frame.replace(/^.*\/((?:src|node_modules)\/[^:)]+:\d+).*$/, '$1');
  return { signature: `${err.name}: ${general}${where ? ` @ ${where}` : ''}`, message, stack };
}

export interface FuzzOptions {
  count: number;
  seed: number;
  /** Called with each new crash signature (the first input that showed it). */
  onCrash?: (c: Crash) => void;
  /** Called before each input runs (the long run's watchdog keeps it). */
  onInput?: (i: number, input: Uint8Array) => void;
  /** Called every `progressEvery` inputs. */
  onProgress?: (done: number) => void;
  progressEvery?: number;
}

/** Runs one input; returns the crash or undefined. */
export function runOne(h: Harness, input: Uint8Array, index = -1): Crash | undefined {
  const t0 = performance.now();
  let thrown: unknown;
  let threw = false;
  try {
    h.run(input);
  } catch (e) {
    thrown = e;
    threw = !h.expected?.(e);
  }
  const ms = performance.now() - t0;
  if (threw) return { ...signatureOf(thrown), input, index, ms };
  if (ms > HANG_MS) {
    // Run again and judged on the CPU time this process spent on it, not the wall clock: on a loaded
    // machine (targets in parallel on two cores, other suites beside) a 200 ms input took over a
    // second of wall time twice in a row. A real hang burns CPU, and that no other process can fake.
    const c1 = process.cpuUsage();
    try {
      h.run(input);
    } catch {
      // the first run decided about exceptions
    }
    const used = process.cpuUsage(c1);
    const cpuMs = (used.user + used.system) / 1000;
    if (cpuMs > HANG_MS) return { signature: `Hang: over ${HANG_MS} ms`, message: `took ${ms.toFixed(0)} ms, then ${cpuMs.toFixed(0)} ms of CPU`, stack: '', input, index, ms };
  }
  return undefined;
}

export async function fuzz(name: string, h: Harness, o: FuzzOptions): Promise<RunStats> {
  const stats: RunStats = { target: name, inputs: 0, crashes: 0, signatures: new Map(), seconds: 0, slowestMs: 0 };
  const pool: Uint8Array[] = [];
  const t0 = performance.now();
  const every = o.progressEvery ?? 10_000;
  for (let i = 0; i < o.count; i++) {
    const rng = new Rng(inputSeed(o.seed, i));
    let input: Uint8Array;
    if (i < Math.min(h.seeds.length, Math.ceil(o.count / 4))) input = h.seeds[i]!; // the seeds as they are, first
    else {
      const base = pool.length && rng.chance(0.3) ? rng.pick(pool) : rng.pick(h.seeds);
      input = h.mutate(rng, base, h.seeds);
    }
    o.onInput?.(i, input);
    const c = runOne(h, input, i);
    stats.inputs++;
    if (c) {
      stats.crashes++;
      stats.slowestMs = Math.max(stats.slowestMs, c.ms);
      if (!stats.signatures.has(c.signature)) {
        stats.signatures.set(c.signature, c);
        o.onCrash?.(c);
      }
    } else if (input.length <= 4096) {
      // Inputs that ran are mutated further (deeper mutations than one step from a seed).
      if (pool.length < 64) pool.push(input);
      else pool[rng.below(64)] = input;
    }
    if ((i + 1) % 256 === 0 && h.settle) await h.settle();
    if (o.onProgress && (i + 1) % every === 0) o.onProgress(i + 1);
  }
  if (h.settle) await h.settle();
  stats.seconds = (performance.now() - t0) / 1000;
  return stats;
}

// ------------------------------------------------------------------------------------ regressions

export interface Regression {
  file: string;
  input: Uint8Array;
}

/** Every regression input of a target: `*.hex` (hex digits, whitespace and # comments ignored) or any
 * other file taken as raw bytes. */
export function loadRegressions(target: string): Regression[] {
  const dir = join(REGRESSIONS, target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => !f.startsWith('.') && f !== 'README.md').sort().map((file) => {
    const raw = readFileSync(join(dir, file));
    if (!file.endsWith('.hex')) return { file, input: new Uint8Array(raw) };
    const hex = raw.toString('utf8').replace(/#.*$/gm, '').replace(/\s+/g, '');
    if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`${target}/${file}: not hex`);
    return { file, input: new Uint8Array(Buffer.from(hex, 'hex')) };
  });
}

/** Writes a crash's input as a regression (named by a digest of its signature, so the same crash
 * found again replaces its file); returns the file name. */
export function saveRegression(target: string, c: Crash): string {
  const dir = join(REGRESSIONS, target);
  mkdirSync(dir, { recursive: true });
  const sig = createHash('sha256').update(c.signature).digest('hex').slice(0, 12);
  // A kept regression is never overwritten: another input with the same signature (every hang has
  // one) gets a name of its own.
  let file = `${sig}.hex`;
  if (existsSync(join(dir, file))) file = `${sig}-${createHash('sha256').update(c.input).digest('hex').slice(0, 8)}.hex`;
  const hex = Buffer.from(c.input).toString('hex').replace(/(.{64})/g, '$1\n');
  writeFileSync(join(dir, file), `# ${c.signature.replace(/\n/g, ' ')}\n${hex}\n`);
  return file;
}
