/**
 * The discipline (pure): pairs PPS edges with their UTC seconds, runs the servo, keeps the state
 * machine (FREERUN, ACQUIRING, LOCKED, HOLDOVER) with hysteresis, and derives once the quality figures
 * every exporter reads: time error estimate, stratum, leap indicator, reference id, root dispersion,
 * PTP clockClass and clockAccuracy. It owns the disciplined clock's correction. Time comes in as
 * arguments (local-clock nanoseconds).
 */
import { type Nanos, NS_PER_S, toIso } from '../time/index.ts';
import type { AgentEvent } from '../status/events.ts';
import { Pairer, type Label, type PairingOptions, type PairingStats } from './pairing.ts';
import type { Servo } from './servo.ts';
import { Slewer } from './slew.ts';
import { type LeapTable, labelToTai, leapIndicator, nextLeap, taiUtcAt, isExpired } from './leap.ts';

export type DisciplineState = 'FREERUN' | 'ACQUIRING' | 'LOCKED' | 'HOLDOVER';

export interface DisciplineOptions {
  pairing: PairingOptions;
  /** Accepted samples in a row, and an error estimate under lockErrorNs, before LOCKED. */
  lockMinSamples: number;
  lockErrorNs: number;
  /** LOCKED also needs the frequency known this well (one sigma, ppb): what holdover will live on. */
  lockFreqSigmaPpb: number;
  /** No accepted sample for this long: LOCKED becomes HOLDOVER (ACQUIRING falls back to FREERUN). */
  holdoverAfterS: number;
  /** Accepted samples in a row to leave HOLDOVER for LOCKED. */
  relockAfter: number;
  /** HOLDOVER ends (FREERUN) when the time error estimate passes this. */
  holdoverBudgetNs: number;
  /** clockClass once the holdover budget is spent: 52 (degradation A) or 187 (degradation B). */
  outOfBudgetClockClass: 52 | 187;
  /** Error of time stamping, added to the clock's own error for the accuracy we claim (software
   * timestamps: tens of microseconds). */
  timestampingErrorNs: number;
  /** Measurement noise when the PPS monitor has no jitter figure yet, and the floor under it. */
  defaultJitterNs: number;
  minJitterNs: number;
  /** Coverage factor of the error estimate: 2.576 sigma bounds a Gaussian error 99 % of the time. */
  errorK: number;
  /** The integrity gate: while LOCKED or in HOLDOVER, a sample whose offset from the served clock's
   * prediction exceeds both the time error estimate and this (ns) is a jump, and is not believed just
   * because it repeats. */
  jumpThresholdNs: number;
  /** A jump that persists this long (s) is believed and the clock steps to it; undefined: never (a
   * jump is then believed only once the holdover budget is spent and the clock is FREERUN again). */
  acceptJumpAfterS: number | undefined;
  /** Accept a jump once the upstream servers' majority agrees with the receiver's new time. */
  acceptJumpWithUpstream: boolean;
  /** The receiver disagreeing with the upstream majority's interval by more than this (ns) is a
   * falseticker: its samples are refused. */
  upstreamThresholdNs: number;
}

/** The upstream majority, as the integrity part hands it in: the interval (server - served clock, ns)
 * the agreeing servers share, and how many agree. */
export interface UpstreamMajority {
  lowNs: number;
  highNs: number;
  members: number;
}

export interface DisciplineSnapshot {
  state: DisciplineState;
  stateSince: Nanos;
  everLocked: boolean;
  servo: string;
  /** Estimated local - true now (ns): the undisciplined oscillator's offset, what the correction
   * removes (Status calls it localOffsetNs); and its frequency error (ppb). */
  offsetNs: number | undefined;
  freqPpb: number | undefined;
  freqSigmaPpb: number | undefined;
  /** The correction applied to the base clock now (ns): the disciplined clock is base - correction. */
  correctionNs: number;
  /** The honest bound on the disciplined clock's error now: errorK sigma plus any slew still to do. */
  timeErrorEstimateNs: number | undefined;
  /** The servo's one-sigma uncertainty of its phase estimate now. Not timeErrorEstimateNs / errorK:
   * while the clock slews, the estimate also holds the slew still to do. */
  sigmaNs: number | undefined;
  holdoverElapsedS: number | undefined;
  lastSampleAgeS: number | undefined;
  /** Local time of the last accepted sample (the reference time NTP reports). */
  lastUpdate: Nanos | undefined;
  lastInnovationNs: number | undefined;
  /** RMS of the served clock's offset at the last 64 accepted samples (chronyc tracking's RMS offset). */
  rmsOffsetNs: number | undefined;
  samples: { accepted: number; rejected: number; steps: number };
  pairing: PairingStats;
  /** LOCKED, or HOLDOVER with the error estimate within the holdover budget: the one rule that stratum,
   * leap indicator, reference id, clockClass and PTP's traceability all follow. */
  synchronized: boolean;
  stratum: number;
  leapIndicator: 0 | 1 | 2 | 3;
  refId: string;
  rootDispersionS: number;
  clockClass: number;
  clockAccuracy: number;
  clockAccuracyNs: number | undefined;
  taiUtcS: number | undefined;
  leapTableExpired: boolean | undefined;
  nextLeap: { at: Nanos; delta: 1 | -1 } | undefined;
  /** A jump the integrity gate is refusing now: its size (label - served clock, ns) and since when. */
  jump: { jumpNs: number; since: Nanos; refusedSamples: number } | undefined;
  /** Samples refused by the integrity gate since start. */
  samplesRefused: number;
  /** The receiver against the upstream majority: the last label's offset from the middle of the
   * majority's interval (ns), the interval's half-width, and whether the receiver is a falseticker now.
   * Undefined while no majority is known and the receiver is not refused. */
  upstream: { receiverMinusMajorityNs: number | undefined; halfWidthNs: number; members: number; falseticker: boolean; since: Nanos | undefined } | undefined;
  /** Times the receiver has been judged a falseticker since start. */
  falsetickerEpisodes: number;
}

/** IEEE 1588 clockAccuracy codes and the bound each stands for, ns. */
const ACCURACY: [number, number][] = [
  [0x20, 25], [0x21, 100], [0x22, 250], [0x23, 1e3], [0x24, 2.5e3], [0x25, 1e4], [0x26, 2.5e4], [0x27, 1e5],
  [0x28, 2.5e5], [0x29, 1e6], [0x2a, 2.5e6], [0x2b, 1e7], [0x2c, 2.5e7], [0x2d, 1e8], [0x2e, 2.5e8], [0x2f, 1e9],
  [0x30, 1e10],
];

export function clockAccuracyCode(ns: number | undefined): number {
  if (ns === undefined || !Number.isFinite(ns)) return 0xfe;
  for (const [code, bound] of ACCURACY) if (ns <= bound) return code;
  return 0x31;
}

/** A PPS edge paired with its trusted label that the integrity gate let through (the servo may still
 * call it an outlier): what a downstream reference such as chronyd's SOCK refclock is fed. */
export interface PairedSample {
  /** The edge on the local clock, ns. */
  edge: Nanos;
  /** The label: the POSIX time of the second the edge starts, and whether it is 23:59:60. */
  utc: Nanos;
  leapSecond: boolean;
  /** The servo's measurement: local clock minus the label's time at the edge, ns. */
  offsetNs: number;
}

/**
 * The kernel clock's bookkeeping, when the system-clock actuator steers it (system-actuator.ts): the
 * times the discipline receives are readings of that steered clock, and this maps them back onto the
 * oscillator's own continuous scale, which is what the servo models (phase and frequency of a free
 * oscillator). kAt(r) is how far the steering has moved the clock: oscillator minus kernel clock, ns.
 */
export interface KernelTrack {
  toLocal(r: Nanos): Nanos;
  kAt(r: Nanos): number;
}

/** How many accepted samples the RMS offset is taken over. */
const RMS_SAMPLES = 64;

export class Discipline {
  readonly pairer: Pairer;
  /** Hears every paired sample the integrity gate lets through (set by the timing path). */
  onSample: ((s: PairedSample) => void) | undefined;
  private state: DisciplineState = 'FREERUN';
  private since: Nanos;
  private everLocked = false;
  private slewer = new Slewer();
  private acceptedRun = 0;
  private lastAccepted: Nanos | undefined;
  private lastInnovation: number | undefined;
  private holdoverStart: Nanos | undefined;
  private counts = { accepted: 0, rejected: 0, steps: 0 };
  private jitterNs: number | undefined;
  private announced: Nanos | undefined;
  /** TAI-UTC when the discipline began: the servo works in "UTC as of then", continuous through leaps. */
  private refTaiUtc: number | undefined;
  private jump: { jumpNs: number; since: Nanos; refusedSamples: number } | undefined;
  private refused = 0;
  private upstream: UpstreamMajority | undefined;
  /** The last label's offset from the served clock (label - served, ns) and the cross-check's verdict. */
  private lastLabelOffset: number | undefined;
  private falseticker: { since: Nanos } | undefined;
  private falsetickerEpisodes = 0;
  /** Set when the system-clock actuator steers the clock these times are read on. */
  private track: KernelTrack | undefined;
  /** Samples dropped because they fell on a leap second the kernel was inserting or deleting. */
  private leapDropped = 0;
  /** The served clock's offsets at the last accepted samples (innovations), newest last: chronyc
   * tracking's "RMS offset" is the RMS of these. */
  private recent: number[] = [];

  constructor(
    private readonly o: DisciplineOptions,
    readonly servo: Servo,
    private readonly leapTable: LeapTable | undefined,
    private readonly emit: (e: AgentEvent) => void,
    start: Nanos,
  ) {
    this.pairer = new Pairer(o.pairing);
    this.since = start;
  }

  /** Hands the discipline the actuator's bookkeeping: from now on the times it receives are readings
   * of the steered kernel clock, and the clock served is that clock itself (correctionAt is then what
   * is left for the kernel to remove). */
  useKernelTrack(t: KernelTrack): void {
    this.track = t;
  }

  /** The oscillator's reading at time t (t itself unless the actuator steers the clock). */
  private loc(t: Nanos): Nanos {
    return this.track ? this.track.toLocal(t) : t;
  }

  private kAt(t: Nanos): number {
    return this.track ? this.track.kAt(t) : 0;
  }

  /** The PPS monitor's current jitter figure: the measurement noise the servo assumes. */
  setJitter(ns: number | undefined): void {
    this.jitterNs = ns;
  }

  /** The upstream servers' majority (or undefined: none configured, or no majority now). */
  setUpstream(m: UpstreamMajority | undefined): void {
    this.upstream = m;
  }

  onEdge(edge: Nanos): void {
    this.pairer.onEdge(edge);
  }

  /** A new second label from the receiver, first seen at local time rx. */
  onLabel(utc: Nanos, leapSecond: boolean, fixValid: boolean, rx: Nanos): void {
    const tai = labelToTai(this.leapTable, utc, leapSecond);
    const label: Label = { tai, utc, leapSecond, fixValid };
    const r = this.pairer.onLabel(label, rx);
    if (r.kind !== 'paired') return;
    this.refTaiUtc ??= this.leapTable ? taiUtcAt(this.leapTable, utc) : 0;
    // With the kernel inserting or deleting a leap second, its clock reads one second twice (or skips
    // one): edges near it cannot be placed on the oscillator's scale with certainty. Dropped, as
    // chronyd drops its reference samples around a leap.
    if (this.track && this.leapTable && this.nearLeap(utc)) {
      this.leapDropped++;
      return;
    }
    // The true time of the edge on the servo's continuous scale, and the measured offset: of the clock
    // the edge was read on (the served one, with the actuator), and of the oscillator (what the servo
    // models: the same unless the actuator has moved the clock).
    const trueCont = tai - BigInt(this.refTaiUtc) * NS_PER_S;
    const offset = Number(r.edge - trueCont);
    const offsetL = offset + this.kAt(r.edge);
    const edgeL = this.loc(r.edge);
    const sigma = Math.max(this.o.minJitterNs, this.jitterNs ?? this.o.defaultJitterNs);
    if (!this.gate(offset, offsetL, r.edge, utc, rx)) return;
    this.onSample?.({ edge: r.edge, utc, leapSecond, offsetNs: offset });
    const u = this.servo.update(edgeL, offsetL, sigma);
    this.lastInnovation = u.innovationNs;
    if (!u.accepted) {
      this.counts.rejected++;
      this.acceptedRun = 0;
      return;
    }
    this.counts.accepted++;
    this.acceptedRun++;
    this.recent.push(u.innovationNs);
    if (this.recent.length > RMS_SAMPLES) this.recent.shift();
    this.lastAccepted = r.edge;
    const p = this.servo.predict(edgeL);
    const step = this.slewer.steer(edgeL, p.offsetNs, p.freqPpb, u.stepped);
    if (u.stepped) {
      this.counts.steps++;
      this.emit({ type: 'clockStepped', at: rx, stepNs: step });
    }
    this.evaluate(rx);
  }

  /** Re-evaluates the state on the passage of time (call every 250 ms or so). */
  tick(now: Nanos): void {
    this.evaluate(now);
    if (this.jump && this.state !== 'LOCKED' && this.state !== 'HOLDOVER') this.endJump(now, 'unlocked');
    this.announceLeap(now);
  }

  /**
   * The integrity gate. While the clock serves time it can vouch for (LOCKED, HOLDOVER), a sample that
   * disagrees with its prediction by more than the error estimate (and the threshold) is a jump of the
   * reference, not of the clock: refused, once announced, until the receiver agrees again, the policy
   * accepts it, or the holdover budget is spent (FREERUN: nothing left to vouch for). Returns whether
   * the sample may reach the servo.
   */
  private gate(offset: number, offsetL: number, edge: Nanos, utc: Nanos, rx: Nanos): boolean {
    // The label's time minus the served clock's at the same edge (the servo's offset is local - label,
    // the served clock is local - correction; with the actuator, the served clock is the kernel clock
    // the edge was read on, so only the leap seconds since the start separate the two scales).
    const labelMinusServed = this.track ? -offset - this.leapPartAt(edge) : this.slewer.at(edge) - offset;
    this.lastLabelOffset = labelMinusServed;
    const cross = this.crossCheck(labelMinusServed, rx);
    const vouching = this.servo.initialized && (this.state === 'LOCKED' || this.state === 'HOLDOVER');
    if (!vouching) return cross === 'disagrees' ? this.refuse(undefined) : true;
    const disagreement = offsetL - this.servo.predict(this.loc(edge)).offsetNs;
    const bound = Math.max(this.o.jumpThresholdNs, this.errorEstimate(edge) ?? 0);
    if (Math.abs(disagreement) <= bound) {
      if (this.jump) this.endJump(rx, 'agreed');
      return cross === 'disagrees' ? this.refuse(disagreement) : true;
    }
    // offset is local - label; the label's jump relative to the served clock is its negative.
    const jumpNs = Math.round(-disagreement);
    if (!this.jump) {
      this.jump = { jumpNs, since: rx, refusedSamples: 0 };
      this.emit({ type: 'timeJumpRefused', at: rx, jumpNs, label: toIso(utc) });
    }
    this.jump.jumpNs = jumpNs;
    const persistedS = Number(rx - this.jump.since) / 1e9;
    const byTime = this.o.acceptJumpAfterS !== undefined && persistedS >= this.o.acceptJumpAfterS && cross !== 'disagrees';
    // The majority must vouch for the new time and contradict the old one (the served clock, 0 here):
    // a jump the servers cannot tell from no jump (tens of milliseconds) is no jump to them.
    const byUpstream = this.o.acceptJumpWithUpstream && cross === 'agrees' && this.upstreamContradicts(0);
    if (byTime || byUpstream) {
      this.endJump(rx, 'accepted');
      this.servo.reacquire(); // the next update sets the phase from this sample: a step, reported
      return true;
    }
    this.jump.refusedSamples++;
    return this.refuse(disagreement);
  }

  /** Whether the upstream majority's interval (widened by the threshold) excludes this offset from the
   * served clock. */
  private upstreamContradicts(offsetNs: number): boolean {
    const u = this.upstream;
    if (!u) return false;
    const thr = this.o.upstreamThresholdNs;
    return offsetNs < u.lowNs - thr || offsetNs > u.highNs + thr;
  }

  private refuse(disagreement: number | undefined): false {
    this.refused++;
    if (disagreement !== undefined) this.lastInnovation = disagreement;
    this.acceptedRun = 0;
    return false;
  }

  /**
   * The receiver against the upstream majority: it agrees when its label lies within the interval the
   * majority shares, widened by the threshold. A change of verdict is announced once ('upstream' check).
   */
  private crossCheck(labelMinusServed: number, rx: Nanos): 'agrees' | 'disagrees' | 'unknown' {
    const u = this.upstream;
    // Without a majority nothing new is learned; a receiver caught outside one stays refused until a
    // majority vouches for it again (never serve a second nobody can confirm).
    if (!u) return this.falseticker ? 'disagrees' : 'unknown';
    const thr = this.o.upstreamThresholdNs;
    const mid = (u.lowNs + u.highNs) / 2;
    const off = labelMinusServed - mid;
    const bad = this.upstreamContradicts(labelMinusServed);
    if (bad && !this.falseticker) {
      this.falseticker = { since: rx };
      this.falsetickerEpisodes++;
      this.emit({
        type: 'integrityCheckFailed', at: rx, check: 'upstream', value: off / 1e9, threshold: thr / 1e9,
        detail: `the receiver's time is ${fmtS(off)} from the ${u.members} upstream servers that agree: it is refused as a falseticker`,
      });
    } else if (!bad && this.falseticker) {
      const durationS = Number(rx - this.falseticker.since) / 1e9;
      this.falseticker = undefined;
      this.emit({ type: 'integrityCheckPassed', at: rx, check: 'upstream', value: off / 1e9, durationS });
    }
    return bad ? 'disagrees' : 'agrees';
  }

  private endJump(at: Nanos, outcome: 'agreed' | 'accepted' | 'unlocked'): void {
    const j = this.jump!;
    this.jump = undefined;
    this.emit({ type: 'timeJumpEnded', at, outcome, jumpNs: j.jumpNs, refusedSamples: j.refusedSamples, durationS: Number(at - j.since) / 1e9 });
  }

  private errorEstimate(now: Nanos): number | undefined {
    if (!this.servo.initialized) return undefined;
    const l = this.loc(now);
    const p = this.servo.predict(l);
    // With the actuator the clock served is the kernel's: its distance from the servo's estimate
    // (the slew the kernel has still to do) is part of the error, wherever the correction plan is.
    if (this.track) return this.o.errorK * p.sigmaNs + Math.abs(p.offsetNs + this.leapPartAt(now) - this.kAt(now));
    return this.o.errorK * p.sigmaNs + Math.abs(this.slewer.lag(l, p.offsetNs));
  }

  /** Whether a UTC label lies within two seconds of a leap second of the table. */
  private nearLeap(utc: Nanos): boolean {
    for (const e of this.leapTable!.entries) {
      const d = utc - e.at;
      if (d > -2n * NS_PER_S && d < 2n * NS_PER_S) return true;
    }
    return false;
  }

  /** Leap seconds applied since the discipline began, ns (TAI-UTC now minus at the start), judged on
   * the continuous scale at time t: what turns the servo's continuous time into UTC. */
  private leapPartAt(t: Nanos): number {
    if (!this.leapTable || this.refTaiUtc === undefined) return 0;
    const l = this.loc(t);
    const approx = l - BigInt(Math.round(this.slewer.at(l)));
    return (taiUtcAt(this.leapTable, approx) - this.refTaiUtc) * 1e9;
  }

  private setState(to: DisciplineState, now: Nanos, reason: string): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    this.since = now;
    this.emit({ type: 'lockStateChanged', at: now, from, to, reason });
    if (to === 'HOLDOVER') {
      this.holdoverStart = now;
      this.emit({ type: 'holdoverEntered', at: now, reason });
    }
    if (from === 'HOLDOVER') {
      const s = this.holdoverStart !== undefined ? Number(now - this.holdoverStart) / 1e9 : 0;
      this.emit({ type: 'holdoverExited', at: now, to, durationS: s });
      this.holdoverStart = undefined;
    }
  }

  private evaluate(now: Nanos): void {
    const silentS = this.lastAccepted === undefined ? Infinity : Number(now - this.lastAccepted) / 1e9;
    const err = this.errorEstimate(now);
    switch (this.state) {
      case 'FREERUN':
        if (this.acceptedRun > 0 && silentS < this.o.holdoverAfterS) this.setState('ACQUIRING', now, 'samples arriving');
        break;
      case 'ACQUIRING':
        if (silentS >= this.o.holdoverAfterS) {
          this.acceptedRun = 0;
          this.setState('FREERUN', now, `no samples for ${this.o.holdoverAfterS} s before lock`);
        } else if (this.acceptedRun >= this.o.lockMinSamples && err !== undefined && err <= this.o.lockErrorNs &&
          this.servo.predict(this.loc(now)).freqSigmaPpb <= this.o.lockFreqSigmaPpb) {
          this.everLocked = true;
          this.setState('LOCKED', now, `${this.acceptedRun} samples, error estimate ${Math.round(err)} ns`);
        }
        break;
      case 'LOCKED':
        if (silentS >= this.o.holdoverAfterS) {
          this.acceptedRun = 0;
          this.setState('HOLDOVER', now, `no samples for ${this.o.holdoverAfterS} s`);
        }
        break;
      case 'HOLDOVER':
        if (this.acceptedRun >= this.o.relockAfter && silentS < this.o.holdoverAfterS) {
          this.setState('LOCKED', now, `${this.acceptedRun} good samples`);
        } else if (err !== undefined && err > this.o.holdoverBudgetNs) {
          this.acceptedRun = 0;
          this.setState('FREERUN', now, `holdover budget of ${this.o.holdoverBudgetNs} ns spent`);
        }
        break;
    }
  }

  private announceLeap(now: Nanos): void {
    if (!this.leapTable) return;
    const li = leapIndicator(this.leapTable, now);
    const n = nextLeap(this.leapTable, now);
    if (li !== 0 && n && this.announced !== n.at) {
      this.announced = n.at;
      this.emit({ type: 'leapSecondAnnounced', at: now, leapAt: n.at, delta: n.delta });
    }
  }

  /** The correction to subtract from the base clock at local time t (ns), including leap seconds
   * applied since the discipline began, so the result is UTC (POSIX). */
  correctionAt(t: Nanos): number {
    // base - c is on the continuous scale; UTC = continuous - (TAI-UTC now - TAI-UTC at start). With
    // the actuator, the kernel clock has already been moved by kAt (its own leap seconds included):
    // what is left is the kernel's remaining error, which the actuator steers to zero.
    return this.slewer.at(this.loc(t)) + this.leapPartAt(t) - this.kAt(t);
  }

  /** How fast the correction plan moves at time t, ns per second of the oscillator (ppb), leap
   * seconds aside: the frequency the actuator gives the kernel, before its phase term. */
  correctionRatePpb(t: Nanos): number {
    const l = this.loc(t);
    const h = 250_000_000n;
    return (this.slewer.at(l + h) - this.slewer.at(l)) / 0.25;
  }

  /** Samples dropped around leap seconds while the actuator steers the kernel clock. */
  get leapSamplesDropped(): number {
    return this.leapDropped;
  }

  snapshot(now: Nanos): DisciplineSnapshot {
    const init = this.servo.initialized;
    const p = init ? this.servo.predict(this.loc(now)) : undefined;
    const err = this.errorEstimate(now);
    const st = this.state;
    const inBudget = err !== undefined && err <= this.o.holdoverBudgetNs;
    const synced = st === 'LOCKED' || (st === 'HOLDOVER' && inBudget);
    const stratum = synced ? 1 : 16;
    const li: 0 | 1 | 2 | 3 = synced ? leapIndicator(this.leapTable, now) : 3;
    let clockClass = 248;
    if (st === 'LOCKED') clockClass = 6;
    else if (st === 'HOLDOVER') clockClass = inBudget ? 7 : this.o.outOfBudgetClockClass;
    else if (this.everLocked) clockClass = this.o.outOfBudgetClockClass;
    const accuracyNs = err === undefined ? undefined : err + this.o.timestampingErrorNs;
    return {
      state: st, stateSince: this.since, everLocked: this.everLocked, servo: this.servo.name,
      offsetNs: p?.offsetNs, freqPpb: p?.freqPpb, freqSigmaPpb: p?.freqSigmaPpb,
      correctionNs: this.correctionAt(now),
      timeErrorEstimateNs: err,
      sigmaNs: p?.sigmaNs,
      holdoverElapsedS: this.holdoverStart !== undefined ? Number(now - this.holdoverStart) / 1e9 : undefined,
      lastSampleAgeS: this.lastAccepted !== undefined ? Number(now - this.lastAccepted) / 1e9 : undefined,
      lastUpdate: this.lastAccepted,
      lastInnovationNs: this.lastInnovation,
      rmsOffsetNs: this.recent.length ? Math.sqrt(this.recent.reduce((a, b) => a + b * b, 0) / this.recent.length) : undefined,
      samples: { ...this.counts },
      pairing: this.pairer.stats(),
      // The reference id names the source while we are synchronized to it; before the first lock (or
      // once the holdover budget is spent) it says INIT, as ntpd does before its first update.
      synchronized: synced, stratum, leapIndicator: li, refId: synced ? 'GPS' : 'INIT',
      rootDispersionS: err === undefined ? 16 : (err + this.o.timestampingErrorNs) / 1e9,
      clockClass,
      clockAccuracy: synced ? clockAccuracyCode(accuracyNs) : 0xfe,
      clockAccuracyNs: accuracyNs,
      taiUtcS: this.leapTable ? taiUtcAt(this.leapTable, now) : undefined,
      leapTableExpired: this.leapTable ? isExpired(this.leapTable, now) : undefined,
      nextLeap: this.leapTable ? nextLeap(this.leapTable, now) : undefined,
      jump: this.jump && { ...this.jump },
      samplesRefused: this.refused,
      falsetickerEpisodes: this.falsetickerEpisodes,
      upstream: this.upstream || this.falseticker ? {
        receiverMinusMajorityNs: this.lastLabelOffset === undefined || !this.upstream ? undefined : this.lastLabelOffset - (this.upstream.lowNs + this.upstream.highNs) / 2,
        halfWidthNs: this.upstream ? (this.upstream.highNs - this.upstream.lowNs) / 2 : 0, members: this.upstream?.members ?? 0,
        falseticker: this.falseticker !== undefined, since: this.falseticker?.since,
      } : undefined,
    };
  }

  get currentState(): DisciplineState {
    return this.state;
  }
}

function fmtS(ns: number): string {
  const a = Math.abs(ns);
  const sign = ns < 0 ? '-' : '+';
  if (a >= 1e9) return `${sign}${(a / 1e9).toFixed(3)} s`;
  if (a >= 1e6) return `${sign}${(a / 1e6).toFixed(3)} ms`;
  return `${sign}${(a / 1e3).toFixed(1)} us`;
}
