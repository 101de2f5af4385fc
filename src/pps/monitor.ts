/**
 * The PPS monitor (pure): gates each edge (the interval since the previous one must be within
 * [min, max] seconds, or a whole number of seconds when pulses were missed), counts missing and extra
 * pulses, measures the edge jitter, and decides when the pulse is lost (no good edge for lostAfterS)
 * and restored. Each transition is an event, once.
 */
import type { Nanos } from '../time/index.ts';
import type { AgentEvent } from '../status/events.ts';
import type { PpsEdge } from './edge.ts';

export interface PpsMonitorOptions {
  minIntervalS: number;
  maxIntervalS: number;
  lostAfterS: number;
}

export type EdgeVerdict = 'first' | 'ok' | 'after-gap' | 'extra' | 'out-of-window' | 'duplicate';

export interface PpsSnapshot {
  present: boolean;
  pulses: number;
  accepted: number;
  missed: number;
  extra: number;
  outOfWindow: number;
  lastEdge: Nanos | undefined;
  lastEdgeAgeS: number | undefined;
  lastIntervalS: number | undefined;
  /** RMS edge jitter estimated from interval-to-interval changes (removes the oscillator's constant
   * frequency error), over the last 64 intervals; undefined until there are 8. */
  jitterNs: number | undefined;
  outages: number;
}

const WINDOW = 64;

export class PpsMonitor {
  private last: PpsEdge | undefined;
  /** Sequence number of the last edge seen, good or not. */
  private lastSeq: number | undefined;
  private lastGoodAt: Nanos | undefined;
  private present = false;
  private lostAt: Nanos | undefined;
  private intervals: number[] = [];
  private s = { pulses: 0, accepted: 0, missed: 0, extra: 0, outOfWindow: 0, outages: 0 };
  private lastIntervalS: number | undefined;
  /** `accepted`: each accepted edge, fixed at construction (the timing path wires it to the discipline). */
  constructor(private readonly opts: PpsMonitorOptions, private readonly emit: (e: AgentEvent) => void,
    private readonly edges: { accepted?(e: PpsEdge, verdict: EdgeVerdict): void } = {}) {}

  onEdge(edge: PpsEdge, now: Nanos): EdgeVerdict {
    const prev = this.last;
    let verdict: EdgeVerdict;
    if (prev && edge.sequence === prev.sequence && edge.assert === prev.assert) return 'duplicate';
    this.s.pulses++;
    const seqStep = this.lastSeq === undefined ? 1 : edge.sequence - this.lastSeq;
    this.lastSeq = edge.sequence;
    if (!prev) {
      verdict = 'first';
    } else {
      const dt = Number(edge.assert - prev.assert) / 1e9;
      const n = Math.round(dt);
      if (dt >= this.opts.minIntervalS && dt <= this.opts.maxIntervalS) {
        verdict = 'ok';
        // The kernel counted more edges than seconds passed: an extra pulse between our reads.
        if (seqStep > 1) this.s.extra += seqStep - 1;
      } else if (n >= 2 && Math.abs(dt - n) <= this.opts.maxIntervalS - 1) {
        // A whole number of seconds later. If the kernel's sequence advanced by the same number, we
        // merely read too slowly; if not, the pulses never came.
        verdict = 'after-gap';
        const unseen = Math.max(0, seqStep - 1);
        this.s.missed += Math.max(0, n - 1 - unseen);
      } else if (dt < this.opts.minIntervalS) {
        verdict = 'extra';
        this.s.extra++;
      } else {
        verdict = 'out-of-window';
        this.s.outOfWindow++;
      }
      if (verdict === 'ok') {
        this.lastIntervalS = dt;
        this.intervals.push(dt);
        if (this.intervals.length > WINDOW) this.intervals.shift();
      } else if (verdict !== 'extra') {
        this.intervals = [];
      }
    }
    if (verdict === 'extra') return verdict; // keep the previous edge as the reference
    this.last = edge;
    if (verdict !== 'out-of-window') {
      this.s.accepted++;
      this.lastGoodAt = now;
      if (!this.present && (verdict === 'ok' || verdict === 'after-gap' || (verdict === 'first' && this.s.pulses === 1))) {
        this.present = true;
        if (this.lostAt !== undefined) {
          this.emit({ type: 'ppsRestored', at: now, outageS: Number(now - this.lostAt) / 1e9 });
        }
      }
      this.edges.accepted?.(edge, verdict);
    }
    return verdict;
  }

  tick(now: Nanos): void {
    if (this.present && this.lastGoodAt !== undefined && now - this.lastGoodAt >= BigInt(Math.round(this.opts.lostAfterS * 1e9))) {
      this.present = false;
      this.lostAt = now;
      this.s.outages++;
      this.intervals = [];
      this.emit({ type: 'ppsLost', at: now, lastEdge: this.last?.assert });
    }
  }

  snapshot(now: Nanos): PpsSnapshot {
    let jitterNs: number | undefined;
    if (this.intervals.length >= 8) {
      let sum = 0;
      for (let i = 1; i < this.intervals.length; i++) {
        const d = this.intervals[i]! - this.intervals[i - 1]!;
        sum += d * d;
      }
      // Each interval difference carries the jitter of three edges (e2 - 2 e1 + e0): variance 6 sigma^2.
      jitterNs = Math.sqrt(sum / (this.intervals.length - 1) / 6) * 1e9;
    }
    return {
      present: this.present, ...this.s, lastEdge: this.last?.assert,
      lastEdgeAgeS: this.last ? Number(now - this.last.assert) / 1e9 : undefined,
      lastIntervalS: this.lastIntervalS, jitterNs,
    };
  }
}

