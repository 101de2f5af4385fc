/**
 * The disciplined clock's correction: the servo's phase estimate moves in small jumps at each sample;
 * the correction applied to the base clock follows it continuously, as adjtime() would: it runs at the
 * estimated frequency and removes the remaining phase difference over `tauS` (no faster than
 * `maxSlewPpb`), then runs at the estimated frequency alone, which is what holdover keeps.
 * Only the first lock (and a re-acquisition) steps.
 */
import type { Nanos } from '../time/index.ts';

export class Slewer {
  private c0 = 0;
  private t0: Nanos | undefined;
  private freqPpb = 0;
  /** Phase still to remove (ns) and over how long (s). */
  private e = 0;
  private durS = 0;

  constructor(private readonly tauS = 2, private readonly maxSlewPpb = 500_000) {}

  get started(): boolean {
    return this.t0 !== undefined;
  }

  /** The correction (ns, local - true) at local time t. */
  at(t: Nanos): number {
    if (this.t0 === undefined) return 0;
    const dt = Number(t - this.t0) / 1e9;
    const part = this.durS > 0 ? Math.min(1, Math.max(0, dt / this.durS)) : 1;
    return this.c0 + this.freqPpb * dt + this.e * part;
  }

  /** Re-plans at t toward the estimate (offsetNs, freqPpb); `step` jumps straight to it. Returns the
   * size of the step taken (0 when slewing). */
  steer(t: Nanos, offsetNs: number, freqPpb: number, step: boolean): number {
    const before = this.at(t);
    this.t0 = t;
    this.freqPpb = freqPpb;
    if (step) {
      this.c0 = offsetNs;
      this.e = 0;
      this.durS = 0;
      return offsetNs - before;
    }
    this.c0 = before;
    this.e = offsetNs - before;
    this.durS = Math.max(this.tauS, (Math.abs(this.e) / this.maxSlewPpb));
    return 0;
  }

  /** Phase difference between the correction and the estimate it follows. */
  lag(t: Nanos, offsetNs: number): number {
    return offsetNs - this.at(t);
  }
}
