/**
 * Pairing (pure): gives each PPS edge its UTC second. The receiver labels a second with sentences that
 * arrive some time after the edge that marks it (about 0.5 s for an MTK3339), so a label received at
 * local time rx belongs to the edge e with rx - e inside [delay - window, delay + window]; rounding to
 * the nearest second would be wrong. A label is trusted only after `trustAfter` consecutive good ones
 * that agree with each other and with the edges: each must advance by as many seconds as its edge
 * advanced. The delay actually seen is measured and reported, so a user can calibrate it.
 */
import type { Nanos } from '../time/index.ts';

export interface PairingOptions {
  nmeaDelayS: number;
  windowS: number;
  trustAfter: number;
}

export interface Label {
  /** Continuous (TAI-like) count of the labelled second, ns: see leap.ts labelToTai. */
  tai: Nanos;
  /** POSIX time of the label and whether it is 23:59:60. */
  utc: Nanos;
  leapSecond: boolean;
  /** The receiver had a valid fix when it sent this label. */
  fixValid: boolean;
}

export type PairRejection = 'no-fix' | 'no-edge' | 'early' | 'late' | 'ambiguous' | 'contradiction' | 'untrusted';

export type PairResult =
  | { kind: 'paired'; edge: Nanos; label: Label }
  | { kind: 'rejected'; reason: PairRejection };

export interface PairingStats {
  paired: number;
  rejected: Partial<Record<PairRejection, number>>;
  /** Median of the measured label delay over the last 64 pairs, seconds. */
  nmeaDelayS: number | undefined;
  trusted: boolean;
  consecutiveGood: number;
}

export class Pairer {
  private edges: Nanos[] = [];
  private last: { edge: Nanos; tai: Nanos } | undefined;
  private good = 0;
  /** Labels that contradict the trusted chain but agree among themselves: a new chain, adopted once
   * it is as long as the trust threshold (a receiver that really jumped; the servo then decides). */
  private candidate: { edge: Nanos; tai: Nanos; count: number } | undefined;
  private delays: number[] = [];
  private s = { paired: 0, rejected: {} as Partial<Record<PairRejection, number>> };

  constructor(private readonly o: PairingOptions) {}

  onEdge(edge: Nanos): void {
    this.edges.push(edge);
    if (this.edges.length > 8) this.edges.shift();
  }

  /** Forgets the chain of agreeing labels (fix lost, receiver reconnected). */
  distrust(): void {
    this.good = 0;
    this.last = undefined;
  }

  onLabel(label: Label, rx: Nanos): PairResult {
    const reject = (reason: PairRejection): PairResult => {
      this.s.rejected[reason] = (this.s.rejected[reason] ?? 0) + 1;
      // A lone bad label does not break the chain of good ones; losing the fix does.
      if (reason === 'no-fix') {
        this.good = 0;
        this.last = undefined;
        this.candidate = undefined;
      }
      return { kind: 'rejected', reason };
    };
    if (!label.fixValid) return reject('no-fix');
    const lo = this.o.nmeaDelayS - this.o.windowS;
    const hi = this.o.nmeaDelayS + this.o.windowS;
    const inWindow = this.edges.filter((e) => {
      const d = Number(rx - e) / 1e9;
      return d >= lo && d <= hi;
    });
    if (inWindow.length > 1) return reject('ambiguous');
    if (inWindow.length === 0) {
      const newest = this.edges.at(-1);
      if (newest === undefined) return reject('no-edge');
      const d = Number(rx - newest) / 1e9;
      return reject(d < lo ? 'early' : d > hi + 1 - 2 * this.o.windowS ? 'no-edge' : 'late');
    }
    const edge = inWindow[0]!;
    // The label must advance as the edges do: a whole number of seconds, the same number.
    const agrees = (ref: { edge: Nanos; tai: Nanos }) => {
      const dEdge = Math.round(Number(edge - ref.edge) / 1e9);
      return dEdge > 0 && Number(label.tai - ref.tai) / 1e9 === dEdge;
    };
    if (this.last && !agrees(this.last)) {
      this.candidate = this.candidate && agrees(this.candidate)
        ? { edge, tai: label.tai, count: this.candidate.count + 1 }
        : { edge, tai: label.tai, count: 1 };
      this.edges = this.edges.filter((e) => e !== edge);
      if (this.candidate.count < this.o.trustAfter) return reject('contradiction');
      // The receiver has said the new thing trustAfter times in a row: it becomes the chain.
      this.good = this.candidate.count - 1;
    }
    this.candidate = undefined;
    this.last = { edge, tai: label.tai };
    this.delays.push(Number(rx - edge) / 1e9);
    if (this.delays.length > 64) this.delays.shift();
    this.good++;
    // The edge is consumed: a second label cannot claim it.
    this.edges = this.edges.filter((e) => e !== edge);
    if (this.good < this.o.trustAfter) return reject('untrusted');
    this.s.paired++;
    return { kind: 'paired', edge, label };
  }

  stats(): PairingStats {
    const d = [...this.delays].sort((a, b) => a - b);
    return {
      paired: this.s.paired, rejected: { ...this.s.rejected },
      nmeaDelayS: d.length ? d[Math.floor(d.length / 2)] : undefined,
      trusted: this.good >= this.o.trustAfter, consecutiveGood: this.good,
    };
  }
}

