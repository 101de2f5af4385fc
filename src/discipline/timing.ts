/**
 * The timing path, one object: receiver sentences and PPS edges in, a disciplined clock out.
 *
 *   sources -> GnssMonitor (second labels) -+
 *                                          +-> Discipline (pairing, servo, state machine) -> DisciplinedClock
 *   sources -> PpsMonitor (accepted edges) -+
 *
 * The edges between the rooms are passed as constructor arguments here, once; nothing outside patches
 * them. Observers (a test watching sentences, the MTK setup waiting for acknowledgements) are added
 * with `observe`, beside the discipline, never instead of it. The decisions of this room live here too:
 * the servo's constants, the leap second table and the saved frequency (when to save it, how old it is).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config/config.ts';
import { type Clock, type Nanos, fromDate } from '../time/index.ts';
import type { AgentEvent } from '../status/events.ts';
import { GnssMonitor } from '../gnss/monitor.ts';
import type { Sentence } from '../gnss/nmea.ts';
import type { ReceiverOutput } from '../gnss/receiver.ts';
import { PpsMonitor, type EdgeVerdict } from '../pps/monitor.ts';
import type { PpsEdge } from '../pps/edge.ts';
import { Discipline, type PairedSample } from './discipline.ts';
import { KalmanServo, PiServo, type Servo } from './servo.ts';
import { parseLeapSecondsList, isExpired, type LeapTable } from './leap.ts';
import { loadDrift, saveDrift, agedSigma } from './drift-file.ts';
import { DisciplinedClock } from './clock.ts';
import { hostKernelClock } from './actuator.ts';
import { SystemActuator, ActuatorStartError } from './system-actuator.ts';
import { EINVAL, type KernelClockApi } from './kernel.ts';
import { describeClockOwners, findClockDaemons } from './clock-owner.ts';
import type { Logger } from '../log.ts';

/** What an observer of the timing path may watch. Every member is optional. */
export interface TimingObserver {
  /** A framed line of the receiver's byte stream, as received (the raw NMEA stream). */
  line?(line: string, rx: Nanos): void;
  sentence?(s: Sentence, rx: Nanos): void;
  output?(o: ReceiverOutput, rx: Nanos): void;
  label?(utc: Nanos, leapSecond: boolean, fixValid: boolean, rx: Nanos): void;
  edge?(e: PpsEdge, verdict: EdgeVerdict): void;
  /** A paired sample the integrity gate let through (discipline.ts PairedSample). */
  sample?(s: PairedSample): void;
}

/**
 * The servo's fixed constants. PI: proportional and integral gains per update (1 s), and samples
 * further than 100 PPS jitters from the prediction are outliers. Kalman: the frequency is unknown at
 * start (100 ppm, 1 sigma) unless a saved one seeds it; outliers beyond 5 sigma.
 */
const PI_GAINS = { kp: 0.7, ki: 0.3, outlierJitters: 100 };
const KALMAN = { initialFreqSigmaPpb: 100_000, outlierSigma: 5 };
/** No PPS is better than 100 ns here: the floor of the jitter the error estimate uses. */
const MIN_JITTER_NS = 100;
/** Time constant of the actuator's phase term (s): what the kernel is left to remove after following
 * the plan's rate, which is rounding and the moments between updates. */
const ACTUATOR_TAU_S = 2;

export function servoFromConfig(d: Config['discipline']): Servo {
  return d.servo === 'pi'
    ? new PiServo({ kp: PI_GAINS.kp, ki: PI_GAINS.ki, outlierNs: PI_GAINS.outlierJitters * d.pps_jitter_ns, reacquireAfter: d.reacquire_after })
    : new KalmanServo({ wanderPpbPerSqrtS: d.wander_ppb_per_sqrt_s, initialFreqSigmaPpb: KALMAN.initialFreqSigmaPpb, outlierSigma: KALMAN.outlierSigma, reacquireAfter: d.reacquire_after });
}

export class TimingPath {
  readonly gnss: GnssMonitor;
  readonly pps: PpsMonitor;
  readonly discipline: Discipline;
  /** The clock NTP and PTP serve: the local clock corrected by the discipline. */
  readonly served: DisciplinedClock;
  readonly leapTable: LeapTable | undefined;
  /** The system-clock actuator, when discipline.actuator is system: the served clock is then the
   * kernel clock itself. */
  readonly system: SystemActuator | undefined;
  readonly driftPath: string;
  private readonly observers = new Set<TimingObserver>();
  private readonly notes: { level: 'info' | 'warn'; msg: string; fields: Record<string, unknown> }[] = [];
  private lastDriftSave: Nanos | undefined;
  private kernelProblem: string | undefined;
  private kernelIsModel = false;

  /** `kernel`: the kernel clock the system actuator steers (the simulator's model of it); the host's,
   * through the native addon, when not given. */
  constructor(private readonly cfg: Config, private readonly clock: Clock, emit: (e: AgentEvent) => void, private readonly log: Logger,
    kernel?: KernelClockApi) {
    const startedAt = clock.now();
    const d = cfg.discipline;
    this.driftPath = resolve(cfg.agent.state_dir, d.drift_file);
    this.leapTable = this.loadLeapTable(startedAt);
    const servo = servoFromConfig(d);
    const drift = loadDrift(this.driftPath);
    if (drift.ok) {
      servo.seedFrequency(drift.record.freqPpb, agedSigma(drift.record, startedAt, d.wander_ppb_per_sqrt_s));
      this.notes.push({ level: 'info', msg: 'frequency loaded', fields: { file: this.driftPath, freqPpb: drift.record.freqPpb } });
    } else if (!drift.missing) {
      this.notes.push({ level: 'warn', msg: 'frequency file ignored', fields: { problem: drift.problem } });
    }
    const discipline = new Discipline({
      pairing: { nmeaDelayS: d.nmea_delay_s, windowS: d.window_s, trustAfter: d.trust_after },
      lockMinSamples: d.lock_min_samples, lockErrorNs: d.lock_error_ns, lockFreqSigmaPpb: d.lock_freq_sigma_ppb, holdoverAfterS: d.holdover_after_s,
      relockAfter: d.relock_after, holdoverBudgetNs: d.holdover_budget_us * 1000,
      outOfBudgetClockClass: d.out_of_budget_clock_class === 187 ? 187 : 52,
      timestampingErrorNs: d.timestamping_error_us * 1000, defaultJitterNs: d.pps_jitter_ns, minJitterNs: MIN_JITTER_NS, errorK: d.error_k,
      jumpThresholdNs: cfg.integrity.jump_threshold_ms * 1e6,
      acceptJumpAfterS: cfg.integrity.accept_jump === 'after' ? cfg.integrity.accept_after_s : undefined,
      acceptJumpWithUpstream: cfg.integrity.accept_jump === 'with_upstream',
      upstreamThresholdNs: cfg.integrity.upstream_threshold_ms * 1e6,
    }, servo, this.leapTable, emit, startedAt);
    this.discipline = discipline;
    const each = <K extends keyof TimingObserver>(k: K, ...args: Parameters<NonNullable<TimingObserver[K]>>) => {
      for (const o of this.observers) (o[k] as ((...a: unknown[]) => void) | undefined)?.(...args);
    };
    discipline.onSample = (s) => each('sample', s);
    this.gnss = new GnssMonitor({
      fixLostAfterS: cfg.receiver.fix_lost_after_s, silenceAfterS: cfg.receiver.serial.silence_after_s,
      externalAntenna: cfg.receiver.external_antenna, minValidDate: fromDate(new Date(`${cfg.receiver.min_valid_date}T00:00:00Z`)),
    }, emit, {
      line: (l, rx) => each('line', l, rx),
      sentence: (s, rx) => each('sentence', s, rx),
      output: (o, rx) => each('output', o, rx),
      label: (utc, leap, fixValid, rx) => {
        discipline.onLabel(utc, leap, fixValid, rx);
        // A new sample re-plans the correction: the kernel follows at once, not at the next tick.
        this.system?.steerFrom(this.clock.now(), discipline);
        each('label', utc, leap, fixValid, rx);
      },
    });
    this.pps = new PpsMonitor({
      minIntervalS: cfg.pps.min_interval_s, maxIntervalS: cfg.pps.max_interval_s, lostAfterS: cfg.pps.lost_after_s,
    }, emit, {
      accepted: (e, verdict) => {
        discipline.onEdge(e.assert);
        each('edge', e, verdict);
      },
    });
    if (d.actuator === 'system') {
      const api = kernel ?? hostKernelClock();
      this.kernelIsModel = kernel !== undefined;
      if (typeof api === 'string') this.kernelProblem = api;
      const refuse: KernelClockApi = { adjtime: () => ({ state: -EINVAL, freq: 0, offset: 0, status: 0, maxerror: 0, esterror: 0, constant: 0, tick: 0, tai: 0 }) };
      this.system = new SystemActuator(typeof api === 'string' ? refuse : api, clock, {
        stepThresholdNs: d.step_threshold_ms * 1e6, stepLimit: d.step_limit, tauS: ACTUATOR_TAU_S,
      }, (level, msg, fields) => this.log.log(level, msg, fields));
      // The clock served is the kernel clock itself: no second correction on top of the actuator's.
      this.served = new DisciplinedClock(clock, () => 0);
    } else {
      this.served = new DisciplinedClock(clock, (t) => discipline.correctionAt(t));
    }
  }

  /** Adds an observer; the returned function removes it. */
  observe(o: TimingObserver): () => void {
    this.observers.add(o);
    return () => this.observers.delete(o);
  }

  /** Logs what loading found, and reports a missing or expired leap second table as an event. */
  /** `procRoot`: where running time daemons are looked for before the system actuator starts (/proc
   * when the actuator steers the host's clock). */
  start(emit: (e: AgentEvent) => void, procRoot?: string): void {
    for (const n of this.notes) this.log.log(n.level, n.msg, n.fields);
    if (this.system) {
      // Throws ActuatorStartError (the CLI's exit 2) when the kernel will not let us steer.
      if (this.kernelProblem) throw new ActuatorStartError(this.kernelProblem);
      // The host's clock: nobody else may steer it. (A model of it is the simulator's own, unless a
      // test hands in a process tree to look at.)
      if (!this.kernelIsModel || procRoot !== undefined) {
        const owners = findClockDaemons(procRoot ?? '/proc').filter((x) => x.steers);
        if (owners.length > 0) {
          throw new ActuatorStartError(`discipline.actuator is system, but ${describeClockOwners(owners)}: two programs must not steer one clock. ` +
            'Stop it (or feed it instead: export.chrony_sock, mode (b) of docs/DEPLOYMENT.md), or set discipline.actuator: none');
        }
      }
      this.system.start();
      this.discipline.useKernelTrack(this.system);
    }
    const now = this.clock.now();
    if (this.leapTable === undefined && this.cfg.discipline.leap_seconds_file) {
      emit({ type: 'leapTableProblem', at: now, problem: 'no usable leap second table' });
    } else if (this.leapTable && isExpired(this.leapTable, now)) {
      emit({ type: 'leapTableProblem', at: now, problem: 'leap second table expired' });
    }
  }

  /** The periodic step (every 250 ms): silence, PPS loss, jitter, holdover; the frequency saved while locked. */
  tick(now: Nanos): void {
    this.gnss.tick(now);
    this.pps.tick(now);
    this.discipline.setJitter(this.pps.snapshot(now).jitterNs);
    // The kernel first: a leap second it has just made goes into the books before anything reads them.
    this.system?.steerFrom(now, this.discipline);
    this.discipline.tick(now);
    const every = BigInt(this.cfg.discipline.save_every_s) * 1_000_000_000n;
    if (this.discipline.currentState === 'LOCKED' && (this.lastDriftSave === undefined || now - this.lastDriftSave >= every)) {
      this.saveFrequency();
    }
  }

  /** Hands the kernel clock back (the system actuator marks it unsynchronised and stops steering). */
  stop(): void {
    this.system?.stop();
  }

  /** Saves the learned frequency if the clock is locked (or `force` on stop, if it ever locked). */
  saveFrequency(force = false): void {
    const now = this.clock.now();
    const snap = this.discipline.snapshot(now);
    if (snap.freqPpb === undefined || snap.freqSigmaPpb === undefined || !Number.isFinite(snap.freqSigmaPpb)) return;
    if (!(snap.state === 'LOCKED' || (force && snap.everLocked))) return;
    try {
      saveDrift(this.driftPath, { freqPpb: snap.freqPpb, sigmaPpb: snap.freqSigmaPpb, savedAt: now });
      this.lastDriftSave = now;
    } catch (e) {
      // Tried again after save_every_s like a good save (it was retried at every tick: four warnings a second).
      this.lastDriftSave = now;
      this.log.warn('could not save the frequency', { file: this.driftPath, error: (e as Error).message });
    }
  }

  private loadLeapTable(now: Nanos): LeapTable | undefined {
    const file = this.cfg.discipline.leap_seconds_file;
    if (!file) return undefined;
    try {
      const t = parseLeapSecondsList(readFileSync(file, 'utf8'));
      if (isExpired(t, now)) this.notes.push({ level: 'warn', msg: 'leap second table expired: update tzdata', fields: { file } });
      return t;
    } catch (e) {
      this.notes.push({ level: 'warn', msg: 'no leap second table', fields: { file, problem: (e as Error).message } });
      return undefined;
    }
  }
}
