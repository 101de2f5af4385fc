/**
 * The kernel clock's interface, adjtimex (clock_adjtime on CLOCK_REALTIME), as the system-clock actuator
 * uses it, and a model of it for virtual time. The real one is the native addon's clockAdjtime; the
 * model steers a simulated oscillator with the same semantics, so the actuator cannot tell them apart.
 *
 * Units, as the kernel has them: freq in "scaled ppm" (ppm * 2^16, at most +/-500 ppm), maxerror and
 * esterror in microseconds, the step of ADJ_SETOFFSET in nanoseconds (ADJ_NANO). The return value is
 * the clock state: TIME_OK, TIME_INS, TIME_DEL, TIME_OOP, TIME_WAIT, or TIME_ERROR while STA_UNSYNC is
 * set; a negative value is -errno (EPERM without CAP_SYS_TIME).
 */
import type { Clock, Nanos, Timer } from '../time/index.ts';
import { NS_PER_S } from '../time/index.ts';

export const ADJ_OFFSET = 0x0001;
export const ADJ_FREQUENCY = 0x0002;
export const ADJ_MAXERROR = 0x0004;
export const ADJ_ESTERROR = 0x0008;
export const ADJ_STATUS = 0x0010;
export const ADJ_TIMECONST = 0x0020;
export const ADJ_TAI = 0x0080;
export const ADJ_SETOFFSET = 0x0100;
export const ADJ_NANO = 0x2000;

export const STA_PLL = 0x0001;
export const STA_PPSFREQ = 0x0002;
export const STA_PPSTIME = 0x0004;
export const STA_FLL = 0x0008;
export const STA_INS = 0x0010;
export const STA_DEL = 0x0020;
export const STA_UNSYNC = 0x0040;
export const STA_FREQHOLD = 0x0080;
export const STA_NANO = 0x2000;
/** The read-only bits (PPS signal and errors, STA_NANO, STA_MODE, STA_CLK): ADJ_STATUS keeps them. */
export const STA_RONLY = 0x0100 | 0x0200 | 0x0400 | 0x0800 | 0x1000 | 0x2000 | 0x4000 | 0x8000;

export const TIME_OK = 0;
export const TIME_INS = 1;
export const TIME_DEL = 2;
export const TIME_OOP = 3;
export const TIME_WAIT = 4;
export const TIME_ERROR = 5;

/** +/-500 ppm in scaled ppm: the kernel's MAXFREQ_SCALED. */
export const MAXFREQ_SCALED = 500 * 65536;
/** The kernel's NTP_PHASE_LIMIT in microseconds (16 s): maxerror beyond it means unsynchronised. */
export const MAXERROR_LIMIT_US = 16_000_000;
/** Growth of maxerror the kernel adds every second (MAXFREQ: 500 ppm), microseconds. */
const MAXERROR_GROWTH_US = 500;

export const EPERM = 1;
export const EINVAL = 22;

/** What the actuator may set. Absent fields are not changed (modes says which are read). */
export interface TimexIn {
  modes: number;
  freq?: number;
  offset?: number;
  status?: number;
  maxerror?: number;
  esterror?: number;
  constant?: number;
  /** With ADJ_SETOFFSET | ADJ_NANO: the step, ns (positive moves the clock forward). */
  setOffsetNs?: number;
}

export interface TimexOut {
  /** The clock state (>= 0), or -errno. */
  state: number;
  freq: number;
  offset: number;
  status: number;
  maxerror: number;
  esterror: number;
  constant: number;
  tick: number;
  tai: number;
}

/** clock_adjtime(CLOCK_REALTIME, ...) or a model of it. */
export interface KernelClockApi {
  adjtime(tx: TimexIn): TimexOut;
}

export const STATE_NAMES = ['TIME_OK', 'TIME_INS', 'TIME_DEL', 'TIME_OOP', 'TIME_WAIT', 'TIME_ERROR'] as const;

/** The status bits by name, for Status and the logs. */
export function statusBits(status: number): string[] {
  const names: [number, string][] = [
    [STA_PLL, 'PLL'], [STA_PPSFREQ, 'PPSFREQ'], [STA_PPSTIME, 'PPSTIME'], [STA_FLL, 'FLL'], [STA_INS, 'INS'], [STA_DEL, 'DEL'],
    [STA_UNSYNC, 'UNSYNC'], [STA_FREQHOLD, 'FREQHOLD'], [STA_NANO, 'NANO'],
  ];
  return names.filter(([b]) => (status & b) !== 0).map(([, n]) => n);
}

export function scaledPpmFromPpb(ppb: number): number {
  return Math.round(ppb * 65.536);
}

export function ppbFromScaledPpm(scaled: number): number {
  return scaled / 65.536;
}

const DAY_NS = 86_400n * NS_PER_S;

interface Segment {
  /** The oscillator's reading where the segment starts, and the kernel clock's then. */
  l0: Nanos;
  r0: Nanos;
  /** The kernel's frequency offset over the segment, as a fraction (scaled ppm / 2^16 / 1e6). */
  rate: number;
}

/**
 * A model of the kernel clock on top of an oscillator (in the simulator, the simulated oscillator; in a
 * test, any clock): CLOCK_REALTIME = the oscillator advanced at the kernel's frequency, plus the steps
 * it was told to make, plus the leap seconds it inserted or deleted itself at midnight UTC.
 * Implemented from the kernel's documented behaviour (adjtimex(2), kernel/time/ntp.c): frequency clamped
 * to +/-500 ppm; ADJ_STATUS keeps the read-only bits; maxerror grows by 500 us per second and
 * STA_UNSYNC is set when it passes 16 s; STA_INS arms an insertion at the next midnight (the clock
 * reads 23:59:59 twice), STA_DEL a deletion (23:59:59 is skipped); the state is TIME_ERROR while
 * STA_UNSYNC is set. The kernel's PLL (ADJ_OFFSET) is not modelled: the actuator does not use it, and
 * the model refuses it rather than pretend.
 *
 * It is also a Clock: what the agent reads as the system clock, and what the simulated receiver
 * timestamps its PPS edges with.
 */
export class KernelClockModel implements Clock, KernelClockApi {
  private segs: Segment[];
  private freq = 0;
  private status = STA_UNSYNC;
  private maxerrorUs = MAXERROR_LIMIT_US;
  private maxerrorAt: Nanos;
  private esterrorUs = MAXERROR_LIMIT_US;
  private constant = 2;
  private tai = 0;
  private timeState = TIME_OK;
  /** Midnight (kernel clock) of the day the armed leap ends: set when STA_INS or STA_DEL arms it. */
  private leapAt: Nanos = 0n;
  /** Every call, for tests and the bench: what the kernel received. */
  readonly calls: { at: Nanos; tx: TimexIn; out: TimexOut }[] = [];
  /** Keep at most this many calls in `calls` (the oldest go). */
  private readonly keepCalls: number;
  /** Whether writes are allowed (false: EPERM, as without CAP_SYS_TIME). */
  permitted = true;

  constructor(private readonly osc: Clock, opts: { keepCalls?: number; freqScaled?: number } = {}) {
    const l = osc.now();
    this.freq = opts.freqScaled ?? 0;
    this.segs = [{ l0: l, r0: l, rate: this.freq / 65536e6 }];
    this.maxerrorAt = l;
    this.keepCalls = opts.keepCalls ?? 10_000;
  }

  /** The kernel clock's reading at oscillator reading l (leap seconds the kernel has armed included). */
  realAt(l: Nanos): Nanos {
    let s = this.segs[this.segs.length - 1]!;
    for (let i = this.segs.length - 1; i > 0 && l < s.l0; i--) s = this.segs[i - 1]!;
    let r = s.r0 + BigInt(Math.round(Number(l - s.l0) * (1 + s.rate)));
    // An armed leap applies to every reading past midnight, even one asked for ahead of time.
    if (s === this.segs[this.segs.length - 1] && (this.timeState === TIME_INS || this.timeState === TIME_DEL)) {
      const m = this.leapAt;
      if (this.timeState === TIME_INS && r >= m) r -= NS_PER_S;
      if (this.timeState === TIME_DEL && r >= m - NS_PER_S) r += NS_PER_S;
    }
    return r;
  }

  private nextMidnight(r: Nanos): Nanos {
    return (r / DAY_NS + 1n) * DAY_NS;
  }

  /** Brings the kernel's own bookkeeping (leap state machine, maxerror) up to the oscillator's now. */
  private advance(l: Nanos): void {
    const s = this.segs[this.segs.length - 1]!;
    const raw = s.r0 + BigInt(Math.round(Number(l - s.l0) * (1 + s.rate)));
    if (this.timeState === TIME_INS || this.timeState === TIME_DEL) {
      const m = this.leapAt;
      const at = this.timeState === TIME_INS ? m : m - NS_PER_S;
      if (raw >= at) {
        // The kernel's step, at the moment the clock reached it: a new segment from there.
        const lAt = s.l0 + BigInt(Math.round(Number(at - s.r0) / (1 + s.rate)));
        const ins = this.timeState === TIME_INS;
        this.segs.push({ l0: lAt, r0: ins ? at - NS_PER_S : at + NS_PER_S, rate: s.rate });
        this.trim();
        this.tai += ins ? 1 : -1;
        this.timeState = ins ? TIME_OOP : TIME_WAIT;
      }
    }
    const r = this.realAt(l);
    if (this.timeState === TIME_OOP && r >= this.segs[this.segs.length - 1]!.r0 + NS_PER_S) this.timeState = TIME_WAIT;
    if (this.timeState === TIME_WAIT && !(this.status & (STA_INS | STA_DEL))) this.timeState = TIME_OK;
    if (this.timeState === TIME_OK && (this.status & (STA_INS | STA_DEL))) {
      this.timeState = this.status & STA_INS ? TIME_INS : TIME_DEL;
      this.leapAt = this.nextMidnight(r);
    }
    if (this.timeState === TIME_INS && !(this.status & STA_INS)) this.timeState = TIME_OK;
    if (this.timeState === TIME_DEL && !(this.status & STA_DEL)) this.timeState = TIME_OK;
    // maxerror grows 500 us for each second that passed; beyond 16 s the clock is unsynchronised.
    const secs = (l - this.maxerrorAt) / NS_PER_S;
    if (secs > 0n) {
      this.maxerrorUs = Math.min(MAXERROR_LIMIT_US, this.maxerrorUs + Number(secs) * MAXERROR_GROWTH_US);
      this.maxerrorAt += secs * NS_PER_S;
      if (this.maxerrorUs >= MAXERROR_LIMIT_US) this.status |= STA_UNSYNC;
    }
  }

  private newSegment(l: Nanos, r: Nanos): void {
    this.segs.push({ l0: l, r0: r, rate: this.freq / 65536e6 });
    this.trim();
  }

  private trim(): void {
    if (this.segs.length > 256) this.segs.splice(0, this.segs.length - 256);
  }

  adjtime(tx: TimexIn): TimexOut {
    const l = this.osc.now();
    this.advance(l);
    const out = (state: number): TimexOut => {
      const o = {
        state, freq: this.freq, offset: 0, status: this.status, maxerror: this.maxerrorUs, esterror: this.esterrorUs,
        constant: this.constant, tick: 10_000, tai: this.tai,
      };
      this.calls.push({ at: l, tx: { ...tx }, out: o });
      if (this.calls.length > this.keepCalls) this.calls.splice(0, this.calls.length - this.keepCalls);
      return o;
    };
    const m = tx.modes;
    if (m !== 0 && !this.permitted) return out(-EPERM);
    if (m & ADJ_OFFSET) return out(-EINVAL); // the PLL is not modelled (see above)
    if (m & ADJ_SETOFFSET) {
      if (!(m & ADJ_NANO) || tx.setOffsetNs === undefined || !Number.isFinite(tx.setOffsetNs)) return out(-EINVAL);
      const r = this.realAt(l);
      this.newSegment(l, r + BigInt(Math.round(tx.setOffsetNs)));
    }
    if (m & ADJ_FREQUENCY) {
      const r = this.realAt(l);
      this.freq = Math.max(-MAXFREQ_SCALED, Math.min(MAXFREQ_SCALED, Math.trunc(tx.freq ?? 0)));
      this.newSegment(l, r);
    }
    if (m & ADJ_MAXERROR) {
      this.maxerrorUs = Math.max(0, Math.min(MAXERROR_LIMIT_US, Math.trunc(tx.maxerror ?? 0)));
      this.maxerrorAt = l;
    }
    if (m & ADJ_ESTERROR) this.esterrorUs = Math.max(0, Math.min(MAXERROR_LIMIT_US, Math.trunc(tx.esterror ?? 0)));
    if (m & ADJ_TIMECONST) this.constant = Math.max(0, Math.min(10, Math.trunc(tx.constant ?? 0)));
    if (m & ADJ_STATUS) {
      this.status = (this.status & STA_RONLY) | ((tx.status ?? 0) & ~STA_RONLY);
      if (m & ADJ_NANO) this.status |= STA_NANO;
      this.advance(l);
    }
    const synced = !(this.status & STA_UNSYNC);
    return out(synced ? this.timeState : TIME_ERROR);
  }

  /** The kernel's current frequency, scaled ppm. */
  get frequencyScaled(): number {
    return this.freq;
  }

  now(): Nanos {
    const l = this.osc.now();
    this.advance(l);
    return this.realAt(l);
  }

  monotonic(): Nanos {
    return this.osc.monotonic();
  }

  setTimeout(fn: () => void, delayMs: number): Timer {
    return this.osc.setTimeout(fn, delayMs);
  }

  setInterval(fn: () => void, intervalMs: number): Timer {
    return this.osc.setInterval(fn, intervalMs);
  }
}
