/**
 * SystemClock: CLOCK_REALTIME with sub-microsecond resolution.
 *
 * Node offers CLOCK_REALTIME only through Date.now() (1 ms resolution) and CLOCK_MONOTONIC through
 * process.hrtime.bigint() (1 ns resolution). On Linux both are disciplined by the same adjtimex()
 * frequency, so they advance at the same rate and differ only by steps of the realtime clock. This
 * clock reads the monotonic counter and adds the realtime-minus-monotonic offset, which it measures by
 * watching Date.now() change from one millisecond to the next: the edge is located to within one loop
 * iteration (typically 50-200 ns here). A step of the system clock (settimeofday, chronyd's makestep) is
 * noticed on the next read that disagrees with Date.now() by more than 1.5 ms, and by a periodic
 * re-calibration that also catches smaller steps.
 *
 * With the project's native addon built (the usual case), none of that is needed: now() is
 * clock_gettime(CLOCK_REALTIME) itself, exact and without the periodic busy-wait of a re-calibration.
 * Measured here, the calibrated clock could sit 1 to 20 us off CLOCK_REALTIME for a minute at a time,
 * which every NTP and PTP timestamp inherited.
 */
import type { Clock, Timer } from './clock.ts';
import { NS_PER_MS, type Nanos } from './timestamp.ts';
import { addon } from '../native/addon.ts';

export interface Calibration {
  offsetNs: bigint;
  /** Width of the window the millisecond edge was found in. */
  uncertaintyNs: bigint;
}

function hr(): bigint {
  return process.hrtime.bigint();
}

/** Measures realtime - monotonic by locating `edges` millisecond edges of Date.now() and keeping the
 * one found in the narrowest window. Busy-waits at most about `edges` milliseconds. */
export function calibrateRealtimeOffset(edges = 3): Calibration {
  let best: Calibration | undefined;
  for (let e = 0; e < edges; e++) {
    let prevT0 = hr();
    let prev = Date.now();
    for (;;) {
      const t0 = hr();
      const d = Date.now();
      const t1 = hr();
      if (d !== prev) {
        // The millisecond turned after the previous Date.now() read began and before this one ended.
        const lo = prevT0;
        const mid = (lo + t1) / 2n;
        const cal = { offsetNs: BigInt(d) * NS_PER_MS - mid, uncertaintyNs: t1 - lo };
        if (!best || cal.uncertaintyNs < best.uncertaintyNs) best = cal;
        break;
      }
      prev = d;
      prevT0 = t0;
    }
  }
  return best!;
}

export class SystemClock implements Clock {
  private cal: Calibration;
  private readonly stepThresholdNs = 1_500_000n;
  private recalTimer: NodeJS.Timeout | undefined;
  /** How many times a step of the system clock was detected. */
  steps = 0;

  /** 'clock_gettime' with the native addon, 'calibrated' without. */
  readonly source: 'clock_gettime' | 'calibrated';

  constructor(opts: { recalibrateEveryMs?: number; native?: boolean } = {}) {
    this.source = addon && opts.native !== false ? 'clock_gettime' : 'calibrated';
    this.cal = this.source === 'clock_gettime' ? { offsetNs: addon!.realtimeNs() - hr(), uncertaintyNs: 0n } : calibrateRealtimeOffset();
    const every = opts.recalibrateEveryMs ?? 60_000;
    if (every > 0 && this.source === 'calibrated') {
      this.recalTimer = setInterval(() => this.recalibrate(), every);
      this.recalTimer.unref();
    }
  }

  get calibration(): Calibration {
    return this.cal;
  }

  recalibrate(): void {
    const next = calibrateRealtimeOffset(2);
    const diff = next.offsetNs - this.cal.offsetNs;
    if (diff > 1_000_000n || diff < -1_000_000n) this.steps++;
    this.cal = next;
  }

  /** This clock is CLOCK_REALTIME (exactly with the addon, calibrated to it without). */
  fromRealtime(ns: Nanos): Nanos {
    return ns;
  }

  now(): Nanos {
    if (this.source === 'clock_gettime') return addon!.realtimeNs();
    const t = hr() + this.cal.offsetNs;
    const coarse = BigInt(Date.now()) * NS_PER_MS;
    const d = t - coarse;
    // Date.now() floors to the millisecond, so a healthy t lies in [coarse, coarse + 1 ms).
    if (d > this.stepThresholdNs || d < -this.stepThresholdNs + NS_PER_MS) {
      this.steps++;
      this.cal = calibrateRealtimeOffset(1);
      return hr() + this.cal.offsetNs;
    }
    return t;
  }

  monotonic(): Nanos {
    return hr();
  }

  setTimeout(fn: () => void, delayMs: number): Timer {
    const h = setTimeout(fn, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(h) };
  }

  setInterval(fn: () => void, intervalMs: number): Timer {
    const h = setInterval(fn, Math.max(1, intervalMs));
    return { cancel: () => clearInterval(h) };
  }

  stop(): void {
    if (this.recalTimer) clearInterval(this.recalTimer);
  }
}

/** The clock's precision as NTP states it: log2 of the smallest step seen between consecutive distinct
 * readings (rounded up), measured now. */
export function measurePrecisionLog2(read: () => bigint, samples = 2000): number {
  let best = Infinity;
  let prev = read();
  for (let i = 0; i < samples; i++) {
    const t = read();
    if (t > prev) best = Math.min(best, Number(t - prev));
    prev = t;
  }
  if (!Number.isFinite(best)) return -10;
  return Math.max(-30, Math.ceil(Math.log2(best / 1e9)));
}
