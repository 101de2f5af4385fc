/**
 * SimClock: virtual time with deterministic timers. Nothing happens until the owner advances it;
 * timers fire in time order (ties in the order they were set), so a test can run a day in a second
 * and get the same result every time.
 */
import type { Clock, Timer } from './clock.ts';
import type { Nanos } from './timestamp.ts';

interface Entry {
  at: Nanos;
  seq: number;
  fn: () => void;
  intervalNs: bigint | undefined;
  cancelled: boolean;
}

/** A binary min-heap ordered by (at, seq). */
class TimerHeap {
  private items: Entry[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): Entry | undefined {
    return this.items[0];
  }
  private less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
  push(e: Entry): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Entry | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function msToNs(ms: number): bigint {
  return BigInt(Math.round(ms * 1e6));
}

export class SimClock implements Clock {
  private t: Nanos;
  private seq = 0;
  private heap = new TimerHeap();

  constructor(start: Nanos) {
    this.t = start;
  }

  now(): Nanos {
    return this.t;
  }

  monotonic(): Nanos {
    return this.t;
  }

  setTimeout(fn: () => void, delayMs: number): Timer {
    return this.add(fn, msToNs(Math.max(0, delayMs)), undefined);
  }

  setInterval(fn: () => void, intervalMs: number): Timer {
    const iv = msToNs(Math.max(0.001, intervalMs));
    return this.add(fn, iv, iv);
  }

  /** Schedules fn at an absolute virtual time (not before now). */
  at(t: Nanos, fn: () => void): Timer {
    return this.add(fn, t > this.t ? t - this.t : 0n, undefined);
  }

  private add(fn: () => void, delayNs: bigint, intervalNs: bigint | undefined): Timer {
    const e: Entry = { at: this.t + delayNs, seq: this.seq++, fn, intervalNs, cancelled: false };
    this.heap.push(e);
    return { cancel: () => { e.cancelled = true; } };
  }

  /** Runs every timer due up to and including `target`, then leaves the clock at `target`. */
  runUntil(target: Nanos): void {
    for (;;) {
      const e = this.heap.peek();
      if (!e || e.at > target) break;
      this.heap.pop();
      if (e.cancelled) continue;
      this.t = e.at;
      if (e.intervalNs !== undefined) {
        e.at += e.intervalNs;
        e.seq = this.seq++;
        this.heap.push(e);
      }
      e.fn();
    }
    if (target > this.t) this.t = target;
  }

  advance(ms: number): void {
    this.runUntil(this.t + msToNs(ms));
  }

  advanceNs(ns: bigint): void {
    this.runUntil(this.t + ns);
  }

  /** Number of timers still scheduled (cancelled ones may be counted until they come due). */
  get pending(): number {
    return this.heap.size;
  }
}

