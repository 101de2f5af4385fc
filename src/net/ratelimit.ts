/**
 * Per-client rate limiting with bounded memory: a fixed table of token buckets keyed by the client's
 * address (IPv6 by its /64), found by hashing; a new client takes the slot of the least recently seen
 * of a few candidates. Memory is the table, whatever the number of clients (ntpd's MRU list and
 * chrony's client log are bounded the same way).
 */

export interface RateLimitOptions {
  /** Average interval a client may sustain, seconds (2: one request every 2 s). */
  intervalS: number;
  /** Requests a client may send in a burst above that. */
  burst: number;
  /** Table slots (a power of two). */
  slots: number;
}

const WAYS = 4;

/** FNV-1a over a string: fast, good enough to spread addresses over the table. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The key that identifies a client: the IPv4 address, or the first four groups (/64) of an IPv6 one. */
export function clientKey(address: string): string {
  if (!address.includes(':')) return address;
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  const [head, tail] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const groups = tail !== undefined ? [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t] : h;
  return groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':') + '::/64';
}

export class RateLimiter {
  private keys: (string | undefined)[];
  private tokens: Float64Array;
  private last: Float64Array;
  private readonly mask: number;
  evictions = 0;

  constructor(private readonly o: RateLimitOptions) {
    const n = 1 << Math.ceil(Math.log2(Math.max(WAYS, o.slots)));
    this.keys = new Array<string | undefined>(n);
    this.tokens = new Float64Array(n);
    this.last = new Float64Array(n);
    this.mask = n - 1;
  }

  get capacity(): number {
    return this.keys.length;
  }

  /** True if the client (by key) may be answered at time nowS (seconds, monotonic). */
  allow(key: string, nowS: number): boolean {
    const h = fnv1a(key);
    let found = -1;
    let empty = -1;
    let lru = -1;
    for (let w = 0; w < WAYS; w++) {
      const i = (h + Math.imul(w, 0x9e3779b1)) & this.mask;
      const k = this.keys[i];
      if (k === key) {
        found = i;
        break;
      }
      if (k === undefined) {
        if (empty < 0) empty = i;
      } else if (lru < 0 || this.last[i]! < this.last[lru]!) {
        lru = i;
      }
    }
    let slot = found;
    if (slot < 0) {
      slot = empty >= 0 ? empty : lru;
      if (empty < 0) this.evictions++;
      this.keys[slot] = key;
      this.tokens[slot] = this.o.burst;
      this.last[slot] = nowS;
    }
    const refill = (nowS - this.last[slot]!) / this.o.intervalS;
    const t = Math.min(this.o.burst, this.tokens[slot]! + Math.max(0, refill));
    this.last[slot] = nowS;
    if (t < 1) {
      this.tokens[slot] = t;
      return false;
    }
    this.tokens[slot] = t - 1;
    return true;
  }
}

/**
 * An overall cap: at most `perSecond` events in each one-second window, whoever causes them. The
 * per-client limiter above bounds each source; this bounds the total when the sources are spoofed and
 * each one is new (reflection and amplification toward many addresses, or to a whole segment).
 */
export class PerSecondCap {
  private startNs = 0n;
  private count = 0;
  dropped = 0;

  constructor(private readonly perSecond: number) {}

  /** Whether one more may go at `nowNs` (any nanosecond timescale that only moves forward, mostly). */
  allow(nowNs: bigint): boolean {
    if (nowNs - this.startNs >= 1_000_000_000n || nowNs < this.startNs) {
      this.startNs = nowNs;
      this.count = 0;
    }
    if (++this.count <= this.perSecond) return true;
    this.dropped++;
    return false;
  }
}

/** HyperLogLog with 2^10 registers: distinct clients in 1 KB, about 3 % standard error. */
export class DistinctCounter {
  private reg = new Uint8Array(1024);

  add(key: string): void {
    // A second, differently seeded hash so register choice and rank are independent of the table's.
    let h = 0x811c9dc5 ^ 0x5bd1e995;
    for (let i = 0; i < key.length; i++) {
      h ^= key.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
      h ^= h >>> 13;
    }
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
    const idx = h >>> 22;
    const w = (h << 10) >>> 0;
    const rank = w === 0 ? 23 : Math.clz32(w) + 1;
    if (rank > this.reg[idx]!) this.reg[idx] = rank;
  }

  estimate(): number {
    const m = 1024;
    let sum = 0;
    let zeros = 0;
    for (const r of this.reg) {
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const alpha = 0.7213 / (1 + 1.079 / m);
    const e = (alpha * m * m) / sum;
    if (e <= 2.5 * m && zeros > 0) return Math.round(m * Math.log(m / zeros));
    return Math.round(e);
  }
}
