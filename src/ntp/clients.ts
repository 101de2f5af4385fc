/**
 * Who uses the server (pure): requests per client over the last minute, hour and day, as the LANTIME
 * appliances count them, for `stratum1 clients` and the control endpoint's /clients.
 *
 * Bounded: at most `max` clients are kept; a new client beyond that evicts the one seen least recently
 * (a Map kept in order of last use), and evictions are counted. Each client holds 60 one-minute and 24
 * one-hour buckets (about 350 bytes), so 1000 clients take well under a megabyte, whatever arrives.
 * The hour and the day are exact to the bucket; "the last minute" is the current minute's count plus
 * the previous minute's, weighted by how much of it still lies within the last 60 s (an estimate, said
 * so where it is shown).
 */

const MINUTE = 60;
/** A bucket's slot: the remainder, never negative (readings before the epoch of the monotonic clock). */
const mod = (k: number, n: number) => ((k % n) + n) % n;
const HOUR = 3600;

class ClientCounts {
  total = 0;
  readonly minutes = new Uint32Array(60);
  readonly hours = new Uint32Array(24);
  /** Absolute minute and hour numbers of the last request. */
  lastMin = -1;
  lastHour = -1;
  constructor(readonly firstS: number, public lastS: number) {}

  add(nowS: number): void {
    const m = Math.floor(nowS / MINUTE);
    const h = Math.floor(nowS / HOUR);
    if (m !== this.lastMin) {
      // Clear the buckets of the minutes passed since (at most all 60).
      for (let k = Math.max(this.lastMin + 1, m - 59); k <= m; k++) this.minutes[mod(k, 60)] = 0;
      this.lastMin = m;
    }
    if (h !== this.lastHour) {
      for (let k = Math.max(this.lastHour + 1, h - 23); k <= h; k++) this.hours[mod(k, 24)] = 0;
      this.lastHour = h;
    }
    this.minutes[mod(m, 60)]!++;
    this.hours[mod(h, 24)]!++;
    this.total++;
    this.lastS = nowS;
  }

  /** Requests in the minutes m0..m1 (absolute, inclusive) still held. */
  private sumMinutes(m0: number, m1: number): number {
    let s = 0;
    for (let k = Math.max(m0, this.lastMin - 59); k <= Math.min(m1, this.lastMin); k++) s += this.minutes[mod(k, 60)]!;
    return s;
  }

  windows(nowS: number): { lastMinute: number; lastHour: number; lastDay: number } {
    const m = Math.floor(nowS / MINUTE);
    const h = Math.floor(nowS / HOUR);
    const cur = this.sumMinutes(m, m);
    const prev = this.sumMinutes(m - 1, m - 1);
    const left = 1 - (nowS - m * MINUTE) / MINUTE;
    let day = 0;
    for (let k = Math.max(h - 23, this.lastHour - 23); k <= Math.min(h, this.lastHour); k++) day += this.hours[mod(k, 24)]!;
    return { lastMinute: Math.round(cur + prev * left), lastHour: this.sumMinutes(m - 59, m), lastDay: day };
  }
}

export interface ClientRow {
  address: string;
  total: number;
  lastMinute: number;
  lastHour: number;
  lastDay: number;
  firstSeenAgeS: number;
  lastSeenAgeS: number;
}

export type ClientOrder = 'minute' | 'hour' | 'day' | 'total';

export class ClientTable {
  private readonly clients = new Map<string, ClientCounts>();
  private readonly all = new ClientCounts(0, 0);
  evicted = 0;

  constructor(readonly max: number) {}

  /** One request from `address` at `nowS` (a monotonic reading in seconds). */
  record(address: string, nowS: number): void {
    this.all.add(nowS);
    if (this.max <= 0) return;
    let c = this.clients.get(address);
    if (c) {
      this.clients.delete(address); // to the end: most recently seen
    } else {
      if (this.clients.size >= this.max) {
        const oldest = this.clients.keys().next().value as string;
        this.clients.delete(oldest);
        this.evicted++;
      }
      c = new ClientCounts(nowS, nowS);
    }
    c.add(nowS);
    this.clients.set(address, c);
  }

  get size(): number {
    return this.clients.size;
  }

  /** Every request, all clients together (evicted ones included). */
  totals(nowS: number): { total: number; lastMinute: number; lastHour: number; lastDay: number } {
    return { total: this.all.total, ...this.all.windows(nowS) };
  }

  /** The `n` busiest clients by the given window (ties: the most recently seen first). */
  top(n: number, nowS: number, by: ClientOrder = 'day'): ClientRow[] {
    const rows: ClientRow[] = [];
    for (const [address, c] of this.clients) {
      rows.push({ address, total: c.total, ...c.windows(nowS), firstSeenAgeS: nowS - c.firstS, lastSeenAgeS: nowS - c.lastS });
    }
    const key = (r: ClientRow) => (by === 'minute' ? r.lastMinute : by === 'hour' ? r.lastHour : by === 'day' ? r.lastDay : r.total);
    rows.sort((a, b) => key(b) - key(a) || a.lastSeenAgeS - b.lastSeenAgeS);
    return rows.slice(0, Math.max(0, n));
  }
}
