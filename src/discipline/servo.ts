/**
 * Servos: estimators of the local clock's phase and frequency error from paired samples, behind one
 * interface so the algorithm can be swapped (config `discipline.servo`). Offsets are local - true, in
 * nanoseconds (float); frequency in ppb (ns per second); time in local-clock nanoseconds.
 *
 * KalmanServo (default) is a two-state Kalman filter (phase, frequency) with the noise model of an
 * oscillator: random-walk frequency (the wander, q in ppb^2/s) plus white phase measurement noise (the
 * PPS timestamp jitter). It gives the optimal estimate for that model and, from its covariance, an
 * error estimate that keeps growing honestly in holdover. PiServo is linuxptp's PI servo for
 * comparison. See docs/DISCIPLINE.md for the choice.
 */
import type { Nanos } from '../time/index.ts';

export interface Prediction {
  /** Estimated local - true at the asked time, ns. */
  offsetNs: number;
  /** Estimated frequency error, ppb. */
  freqPpb: number;
  /** One-sigma uncertainty of offsetNs. */
  sigmaNs: number;
  /** One-sigma uncertainty of freqPpb. */
  freqSigmaPpb: number;
}

export interface UpdateResult {
  accepted: boolean;
  /** Measurement minus prediction, ns. */
  innovationNs: number;
  /** The first sample (or a re-acquisition) set the phase directly. */
  stepped: boolean;
}

export interface Servo {
  readonly name: string;
  readonly initialized: boolean;
  update(t: Nanos, offsetNs: number, measurementSigmaNs: number): UpdateResult;
  predict(t: Nanos): Prediction;
  /** Start from a known frequency (a saved drift value), with its uncertainty. */
  seedFrequency(freqPpb: number, sigmaPpb: number): void;
  reset(): void;
  /** Forget the phase, keep the frequency: the next update sets the phase (a step). */
  reacquire(): void;
  /** Consecutive rejected samples (outliers) since the last accepted one. */
  readonly rejectStreak: number;
}

export interface KalmanOptions {
  /** Random-walk FM intensity: frequency wander, ppb per root second. */
  wanderPpbPerSqrtS: number;
  /** Prior uncertainty of the frequency with no saved value, ppb (100 ppm covers any crystal). */
  initialFreqSigmaPpb: number;
  /** Innovations beyond this many sigma are outliers. */
  outlierSigma: number;
  /** After this many outliers in a row the phase is re-acquired (a real step, not noise). */
  reacquireAfter: number;
}

export class KalmanServo implements Servo {
  readonly name = 'kalman';
  private t: Nanos | undefined;
  private x = 0; // ns
  private y = 0; // ppb = ns/s
  private pxx = 0;
  private pxy = 0;
  private pyy = 0;
  private seedY = 0;
  private seedSigma: number;
  private streak = 0;
  /** The first outlier of the current streak: when, and its innovation. */
  private firstOutlier: { t: Nanos; innov: number } | undefined;

  constructor(private readonly o: KalmanOptions) {
    this.seedSigma = o.initialFreqSigmaPpb;
  }

  get initialized(): boolean {
    return this.t !== undefined;
  }

  get rejectStreak(): number {
    return this.streak;
  }

  seedFrequency(freqPpb: number, sigmaPpb: number): void {
    this.seedY = freqPpb;
    this.seedSigma = sigmaPpb;
    if (!this.initialized) this.y = freqPpb;
  }

  reset(): void {
    this.t = undefined;
    this.streak = 0;
  }

  reacquire(): void {
    const pyy = Math.max(this.pyy, 100);
    this.seedY = this.y;
    this.seedSigma = Math.sqrt(pyy);
    this.t = undefined;
    this.streak = 0;
    this.firstOutlier = undefined;
  }

  /** State and covariance propagated dt seconds ahead. */
  private propagate(dt: number) {
    const q = this.o.wanderPpbPerSqrtS ** 2;
    const x = this.x + this.y * dt;
    const pxx = this.pxx + 2 * dt * this.pxy + dt * dt * this.pyy + (q * dt ** 3) / 3;
    const pxy = this.pxy + dt * this.pyy + (q * dt * dt) / 2;
    const pyy = this.pyy + q * dt;
    return { x, y: this.y, pxx, pxy, pyy };
  }

  update(t: Nanos, z: number, r: number): UpdateResult {
    const R = r * r;
    if (this.t === undefined) {
      this.t = t;
      this.x = z;
      this.y = this.seedY;
      this.pxx = R;
      this.pxy = 0;
      this.pyy = this.seedSigma ** 2;
      this.streak = 0;
      return { accepted: true, innovationNs: 0, stepped: true };
    }
    const dt = Number(t - this.t) / 1e9;
    const p = this.propagate(dt);
    const innov = z - p.x;
    const S = p.pxx + R;
    if (Math.abs(innov) > this.o.outlierSigma * Math.sqrt(S)) {
      this.streak++;
      if (this.streak === 1) this.firstOutlier = { t, innov };
      if (this.streak >= this.o.reacquireAfter) {
        // Persistent disagreement: the clock or the reference really moved. Start again from here.
        // Innovations that grew steadily through the streak say the frequency was wrong (a saved
        // frequency from another board, or a confident filter after a temperature change): their slope
        // corrects it, and widens its uncertainty so the filter can learn again. Innovations that held
        // still say the phase stepped: the frequency is kept.
        const f = this.firstOutlier!;
        const span = Number(t - f.t) / 1e9;
        const slope = span > 0 ? (innov - f.innov) / span : 0;
        this.reacquire();
        this.seedY += slope;
        this.seedSigma = Math.max(this.seedSigma, Math.abs(slope));
        const r2 = this.update(t, z, r);
        return { ...r2, innovationNs: innov };
      }
      return { accepted: false, innovationNs: innov, stepped: false };
    }
    this.streak = 0;
    this.firstOutlier = undefined;
    const k0 = p.pxx / S;
    const k1 = p.pxy / S;
    this.t = t;
    this.x = p.x + k0 * innov;
    this.y = p.y + k1 * innov;
    this.pxx = (1 - k0) * p.pxx;
    this.pxy = (1 - k0) * p.pxy;
    this.pyy = p.pyy - k1 * p.pxy;
    return { accepted: true, innovationNs: innov, stepped: false };
  }

  predict(t: Nanos): Prediction {
    if (this.t === undefined) return { offsetNs: 0, freqPpb: this.seedY, sigmaNs: Infinity, freqSigmaPpb: this.seedSigma };
    const p = this.propagate(Number(t - this.t) / 1e9);
    return { offsetNs: p.x, freqPpb: p.y, sigmaNs: Math.sqrt(Math.max(p.pxx, 0)), freqSigmaPpb: Math.sqrt(Math.max(p.pyy, 0)) };
  }
}

export interface PiOptions {
  /** linuxptp's defaults for a 1 s sync interval: kp 0.7, ki 0.3. */
  kp: number;
  ki: number;
  outlierNs: number;
  reacquireAfter: number;
}

/**
 * linuxptp's PI servo (pi.c), as a phase and frequency estimator: the first sample steps the phase;
 * the second measures the frequency from the two; after that the frequency integrates ki * offset and
 * the phase estimate follows kp * offset each second. It has no model of its own error: the sigma it
 * reports is the RMS of recent residuals, and in holdover it does not grow (one reason it is not the
 * default here).
 */
export class PiServo implements Servo {
  readonly name = 'pi';
  private t: Nanos | undefined;
  private x = 0;
  private y = 0;
  private first: { t: Nanos; z: number } | undefined;
  private resid: number[] = [];
  private streak = 0;
  private seedY = 0;

  constructor(private readonly o: PiOptions) {}

  get initialized(): boolean {
    return this.t !== undefined;
  }

  get rejectStreak(): number {
    return this.streak;
  }

  seedFrequency(freqPpb: number): void {
    this.seedY = freqPpb;
    if (!this.initialized) this.y = freqPpb;
  }

  reset(): void {
    this.t = undefined;
    this.first = undefined;
    this.resid = [];
    this.streak = 0;
  }

  reacquire(): void {
    const y = this.y;
    this.reset();
    this.seedY = y;
  }

  update(t: Nanos, z: number, _r: number): UpdateResult {
    if (this.t === undefined) {
      this.t = t;
      this.x = z;
      this.y = this.seedY;
      this.first = { t, z };
      return { accepted: true, innovationNs: 0, stepped: true };
    }
    const dt = Number(t - this.t) / 1e9;
    const pred = this.x + this.y * dt;
    const e = z - pred;
    if (this.first && this.seedY === 0) {
      // Second sample: frequency from the two, as pi.c does in its first two states.
      const span = Number(t - this.first.t) / 1e9;
      this.y = (z - this.first.z) / span;
      this.first = undefined;
      this.t = t;
      this.x = z;
      return { accepted: true, innovationNs: e, stepped: false };
    }
    this.first = undefined;
    if (Math.abs(e) > this.o.outlierNs) {
      this.streak++;
      if (this.streak >= this.o.reacquireAfter) {
        this.reacquire();
        return { ...this.update(t, z, _r), innovationNs: e };
      }
      return { accepted: false, innovationNs: e, stepped: false };
    }
    this.streak = 0;
    this.t = t;
    this.y += this.o.ki * e / Math.max(dt, 1e-3);
    this.x = pred + this.o.kp * e;
    this.resid.push(e);
    if (this.resid.length > 64) this.resid.shift();
    return { accepted: true, innovationNs: e, stepped: false };
  }

  predict(t: Nanos): Prediction {
    if (this.t === undefined) return { offsetNs: 0, freqPpb: this.y, sigmaNs: Infinity, freqSigmaPpb: Infinity };
    const dt = Number(t - this.t) / 1e9;
    const n = this.resid.length;
    const rms = n ? Math.sqrt(this.resid.reduce((a, b) => a + b * b, 0) / n) : Infinity;
    // No model of its own: the frequency uncertainty a least-squares fit over the same residuals would
    // have (sqrt(12) sigma / n^1.5), a heuristic for the lock test, not a claim.
    return { offsetNs: this.x + this.y * dt, freqPpb: this.y, sigmaNs: rms, freqSigmaPpb: n > 2 ? (Math.sqrt(12) * rms) / n ** 1.5 : Infinity };
  }
}
