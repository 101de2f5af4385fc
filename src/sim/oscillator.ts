/**
 * The simulated local oscillator: the clock of the machine the agent runs on, as it drifts from true
 * time. Its phase error starts at `initialOffsetNs`, its frequency error at `frequencyPpm`, and the
 * frequency wanders as a random walk of `wanderPpbPerSqrtS` (one step a second). Between steps the
 * phase grows linearly, so reading it at any instant is exact for the model.
 *
 * A Raspberry Pi's uncompensated crystal sits tens of ppm off and wanders with temperature; 0.5 ppb per
 * root second (about 30 ppb over an hour) is the default here.
 */
import type { Clock, Nanos } from '../time/index.ts';
import { DerivedClock } from '../time/derived-clock.ts';
import { NS_PER_S } from '../time/index.ts';
import { Rng } from './random.ts';

export interface OscillatorOptions {
  initialOffsetNs: number;
  frequencyPpm: number;
  wanderPpbPerSqrtS: number;
  seed: number;
}

export class Oscillator {
  private rng: Rng;
  /** Start of the current one-second step, in true time. */
  private stepT: Nanos;
  /** Phase error (local - true) at stepT, ns (float). */
  private phase: number;
  /** Frequency error during the step, ns per s (= ppb... times 1000 for ppm). */
  private freqNsPerS: number;

  constructor(private readonly opts: OscillatorOptions, start: Nanos) {
    this.rng = new Rng(opts.seed ^ 0x05c111a7);
    this.stepT = start;
    this.phase = opts.initialOffsetNs;
    this.freqNsPerS = opts.frequencyPpm * 1000;
  }

  private advanceTo(t: Nanos): void {
    while (t - this.stepT >= NS_PER_S) {
      this.phase += this.freqNsPerS;
      this.stepT += NS_PER_S;
      this.freqNsPerS += this.opts.wanderPpbPerSqrtS * this.rng.normal();
    }
  }

  /** Phase error (local - true) at true time t, in ns. t must not go backwards by more than a step. */
  phaseAt(t: Nanos): number {
    this.advanceTo(t);
    return this.phase + this.freqNsPerS * (Number(t - this.stepT) / 1e9);
  }

  /** The local clock's reading at true time t. */
  localAt(t: Nanos): Nanos {
    return t + BigInt(Math.round(this.phaseAt(t)));
  }

  /** Current frequency error in ppm. */
  get frequencyPpm(): number {
    return this.freqNsPerS / 1000;
  }

  /** Changes the phase by a step (a time step of the host clock). */
  step(ns: number): void {
    this.phase += ns;
  }
}

/** A Clock that reads the oscillator: what the agent sees as "the system clock" under simulation.
 * Timers run on the base (true-time) clock: the few ppm between them do not matter for timers. */
export class OscillatorClock extends DerivedClock {
  constructor(base: Clock, readonly oscillator: Oscillator) {
    super(base, (t) => oscillator.localAt(t));
  }
}
