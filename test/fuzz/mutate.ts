/**
 * Mutation strategies. Byte-level for binary protocols (bit flips, interesting values, truncation,
 * extension, splicing two seeds, repeated chunks, length-field tampering) and token-level for text
 * (numbers, separators, tokens swapped, dropped or repeated); targets add their own fix-ups on top
 * (an NMEA checksum recomputed, an NTP reply's origin set to the outstanding cookie) so mutated input
 * gets past the first check and reaches the code behind it.
 */
import type { Rng } from './prng.ts';

export const INTERESTING_8 = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x7e, 0x81, 0xfe, 0x40, 0x20];
export const INTERESTING_16 = [0x0000, 0xffff, 0x7fff, 0x8000, 0x0001, 0x00ff, 0x0100, 0xfffe, 0x0030, 0x0040];
export const INTERESTING_32 = [0x00000000, 0xffffffff, 0x7fffffff, 0x80000000, 0x00000001, 0x0000ffff, 0x00010000, 0xfffffffe, 0x3b9aca00];

/** Where a target's 16-bit big-endian length fields are in a given input (offsets), if it knows. */
export type LengthFields = (b: Uint8Array) => number[];

export interface ByteMutateOptions {
  /** Largest input produced (a datagram's size, say). */
  maxLen: number;
  lengthFields?: LengthFields;
  /** BER: tamper with the length octets that follow a tag. */
  ber?: boolean;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function randomBytes(rng: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rng.chance(0.5) ? rng.pick(INTERESTING_8) : rng.below(256);
  return b;
}

function put16(b: Uint8Array, off: number, v: number): void {
  if (off + 1 >= b.length) return;
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

function put32(b: Uint8Array, off: number, v: number): void {
  if (off + 3 >= b.length) return;
  b[off] = (v >>> 24) & 0xff;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

/** A length octet or octets (BER) after one of the tags SNMP uses, rewritten. */
function tamperBer(rng: Rng, b: Uint8Array): Uint8Array {
  const tags = new Set([0x30, 0x02, 0x04, 0x05, 0x06, 0x40, 0x41, 0x42, 0x43, 0x46, 0xa0, 0xa1, 0xa2, 0xa3, 0xa5, 0xa7, 0xa8]);
  const at: number[] = [];
  for (let i = 0; i + 1 < b.length; i++) if (tags.has(b[i]!)) at.push(i + 1);
  if (at.length === 0) return b;
  const i = rng.pick(at);
  const old = b[i]!;
  const replacement: number[] = rng.pick([
    [0x00], [0x80], [0x7f], [0xff], [0x81, 0xff], [0x82, 0xff, 0xff], [0x84, 0xff, 0xff, 0xff, 0xff], [0x84, 0x7f, 0xff, 0xff, 0xff],
    [0x85, 0, 0, 0, 0, 1], [0x81, old], [0x82, 0x00, old], [(old + 1) & 0xff], [(old - 1) & 0xff], [(old + 4) & 0xff],
  ]);
  // A long-form length replaces the short one (non-minimal encodings, overflows).
  const keepOld = old < 0x80 ? 1 : 1 + (old & 0x7f);
  return concat(b.subarray(0, i), Uint8Array.from(replacement), b.subarray(Math.min(b.length, i + keepOld)));
}

/** One byte-level mutation. */
export function mutateBytesOnce(rng: Rng, input: Uint8Array, seeds: readonly Uint8Array[], o: ByteMutateOptions): Uint8Array {
  const b = Uint8Array.from(input);
  const n = b.length;
  const pos = () => rng.below(Math.max(1, n));
  switch (rng.below(13)) {
    case 0: { // bit flips
      if (!n) return randomBytes(rng, rng.range(1, 8));
      for (let k = rng.range(1, 4); k > 0; k--) {
        const i = pos();
        b[i] = b[i]! ^ (1 << rng.below(8));
      }
      return b;
    }
    case 1: // an interesting byte
      if (n) b[pos()] = rng.pick(INTERESTING_8);
      return b;
    case 2: // an interesting 16- or 32-bit value
      if (rng.chance(0.5)) put16(b, pos(), rng.pick(INTERESTING_16));
      else put32(b, pos(), rng.pick(INTERESTING_32));
      return b;
    case 3: // a random byte, or a small step of one
      if (n) {
        const i = pos();
        b[i] = rng.chance(0.5) ? rng.below(256) : (b[i]! + rng.range(-8, 8)) & 0xff;
      }
      return b;
    case 4: // truncation
      return b.subarray(0, rng.below(n + 1));
    case 5: // extension
      return concat(b, randomBytes(rng, rng.pick([1, 2, 4, 8, 16, 20, 24, 64, 200])));
    case 6: { // splice two seeds: a prefix of this, the rest of another
      const other = rng.pick(seeds);
      const cut = rng.below(n + 1);
      const from = rng.below(other.length + 1);
      return concat(b.subarray(0, cut), other.subarray(rng.chance(0.5) ? Math.min(cut, other.length) : from));
    }
    case 7: { // a repeated chunk
      if (!n) return b;
      const start = pos();
      const len = rng.range(1, Math.min(32, n - start));
      const chunk = b.subarray(start, start + len);
      const reps = rng.pick([2, 3, 8, 64, 500]);
      return concat(b.subarray(0, start), ...Array.from({ length: reps }, () => chunk), b.subarray(start + len));
    }
    case 8: // insert random bytes
      { const i = rng.below(n + 1); return concat(b.subarray(0, i), randomBytes(rng, rng.range(1, 8)), b.subarray(i)); }
    case 9: // delete a range
      { const i = pos(); return concat(b.subarray(0, i), b.subarray(i + rng.range(1, 8))); }
    case 10: // copy a range inside the input
      {
        if (n < 2) return b;
        const from = pos();
        const to = pos();
        const len = rng.range(1, Math.min(16, n - Math.max(from, to)));
        b.copyWithin(to, from, from + len);
        return b;
      }
    default: { // length-field tampering
      if (o.ber && rng.chance(0.7)) return tamperBer(rng, b);
      const fields = o.lengthFields?.(b) ?? [];
      const off = fields.length ? rng.pick(fields) : pos();
      const cur = off + 1 < n ? (b[off]! << 8) | b[off + 1]! : 0;
      put16(b, off, rng.pick([0, 1, 2, 3, 4, 0xffff, 0x7fff, 0x8000, n, n - off, n + 1, n - 1, cur + 1, cur - 1, cur + 4, cur - 4, cur * 2, 16, 24, 44, 48, 54, 64]) & 0xffff);
      return b;
    }
  }
}

/** One to four stacked byte mutations, bounded in size. */
export function mutateBytes(rng: Rng, input: Uint8Array, seeds: readonly Uint8Array[], o: ByteMutateOptions): Uint8Array {
  let b = input;
  for (let k = rng.chance(0.6) ? 1 : rng.range(2, 4); k > 0; k--) b = mutateBytesOnce(rng, b, seeds, o);
  return b.length > o.maxLen ? b.subarray(0, o.maxLen) : b;
}

// ------------------------------------------------------------------------------------------- text

export const INTERESTING_NUMBERS = [
  '0', '-0', '1', '-1', '00', '2', '9', '10', '12', '13', '23', '24', '31', '32', '59', '60', '61', '99', '100', '127', '128', '255', '256',
  '360', '65535', '65536', '999999', '2147483647', '2147483648', '-2147483649', '4294967295', '4294967296', '9007199254740991',
  '9007199254740993', '18446744073709551616', '1e308', '1e309', '-1e309', '1e-400', '0.5', '.5', '5.', '-.0', '0x10', '1_000', '3.4028236e38',
  '123456789012345678901234567890', '000000000000000000000001', '8960.0000', '18000.0000', '9000.0000', '235960', '240000', '000000.999999999',
];

const TOKEN = /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|[A-Za-z_]+|\s+|./gs;

export function tokens(s: string): string[] {
  return s.match(TOKEN) ?? [];
}

/** Extra vocabulary a text target knows (JSON keys, YAML values, NMEA sentence names...). */
export interface TextMutateOptions {
  maxLen: number;
  words?: readonly string[];
  /** Characters worth inserting (separators of the format). */
  separators?: readonly string[];
}

export function mutateTextOnce(rng: Rng, s: string, seeds: readonly string[], o: TextMutateOptions): string {
  const t = tokens(s);
  const n = t.length;
  const ti = () => rng.below(Math.max(1, n));
  const numIdx = () => {
    const idx = t.map((x, i) => (/^-?\d/.test(x) ? i : -1)).filter((i) => i >= 0);
    return idx.length ? rng.pick(idx) : -1;
  };
  const seps = o.separators ?? [',', '.', ':', '-', '*', '$'];
  switch (rng.below(12)) {
    case 0: case 1: { // a number replaced by an interesting one, or nudged
      const i = numIdx();
      if (i < 0) break;
      const v = Number(t[i]);
      t[i] = rng.chance(0.7) ? rng.pick(INTERESTING_NUMBERS) : String(Number.isFinite(v) ? v + rng.pick([-1, 1, -60, 60, 1e6]) : 0);
      return t.join('');
    }
    case 2: { // a separator inserted, dropped or doubled
      const sepIdx = t.map((x, i) => (seps.includes(x) ? i : -1)).filter((i) => i >= 0);
      if (sepIdx.length && rng.chance(0.6)) {
        const i = rng.pick(sepIdx);
        t[i] = rng.pick(['', t[i]! + t[i]!, rng.pick(seps)]);
      } else t.splice(ti(), 0, rng.pick(seps));
      return t.join('');
    }
    case 3: // a token dropped
      t.splice(ti(), 1);
      return t.join('');
    case 4: { // a token repeated
      const i = ti();
      t.splice(i, 0, ...Array.from({ length: rng.pick([1, 2, 10, 100]) }, () => t[i] ?? ''));
      return t.join('');
    }
    case 5: { // two tokens swapped
      const i = ti();
      const j = ti();
      [t[i], t[j]] = [t[j]!, t[i]!];
      return t.join('');
    }
    case 6: // a word of the format
      if (o.words?.length) {
        const i = ti();
        if (rng.chance(0.5)) t[i] = rng.pick(o.words);
        else t.splice(i, 0, rng.pick(o.words));
        return t.join('');
      }
      break;
    case 7: { // a token spliced from another seed
      const other = tokens(rng.pick(seeds));
      if (!other.length) break;
      const cut = ti();
      const from = rng.below(other.length);
      return [...t.slice(0, cut), ...other.slice(from, from + rng.range(1, 40))].join('');
    }
    case 8: { // one character: control, high, or printable
      const i = rng.below(s.length + 1);
      const c = String.fromCharCode(rng.pick([0, 9, 10, 13, 0x1b, 0x7f, 0x80, 0xff, rng.range(0x20, 0x7e), rng.range(0x20, 0x7e)]));
      return s.slice(0, i) + c + s.slice(rng.chance(0.5) ? i : i + 1);
    }
    case 9: // truncation
      return s.slice(0, rng.below(s.length + 1));
    case 10: { // a digit run made long
      const i = numIdx();
      if (i < 0) break;
      t[i] = t[i]!.replace(/\d/, (d) => d.repeat(rng.pick([2, 20, 300])));
      return t.join('');
    }
    default:
      break;
  }
  // Byte-level, on the latin1 view, as a last resort.
  const other = seeds.length ? [Buffer.from(rng.pick(seeds), 'latin1')] : [Buffer.alloc(0)];
  const b = mutateBytesOnce(rng, Buffer.from(s, 'latin1'), other, { maxLen: o.maxLen });
  return Buffer.from(b).toString('latin1');
}

export function mutateText(rng: Rng, s: string, seeds: readonly string[], o: TextMutateOptions): string {
  let out = s;
  for (let k = rng.chance(0.6) ? 1 : rng.range(2, 4); k > 0; k--) out = mutateTextOnce(rng, out, seeds, o);
  return out.length > o.maxLen ? out.slice(0, o.maxLen) : out;
}
