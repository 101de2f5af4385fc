/**
 * The system-clock actuator (`discipline.actuator: system`): makes the kernel's CLOCK_REALTIME the
 * disciplined clock, through clock_adjtime (kernel.ts), so that the clock NTP and PTP serve, and every
 * log, certificate and timer of the box, is the kernel clock itself.
 *
 * How it steers (docs/DISCIPLINE.md says why and what it measured): the servo goes on modelling the
 * free oscillator, as it does without the actuator; this module keeps the books of every change it
 * makes to the kernel clock (frequency segments, steps, the kernel's own leap seconds), so that a
 * reading of the steered clock maps back onto the oscillator's scale (toLocal, kAt). The kernel's
 * frequency is then set, at each update, to follow the discipline's correction plan:
 *
 *     kernel frequency = -(rate of the plan) - (kernel clock - estimated true time) / tau
 *
 * ADJ_FREQUENCY alone, not the kernel's PLL: our servo already estimates phase and frequency, and a
 * second loop in the kernel (with its own time constant, fed offsets it would filter again) would only
 * add lag. One step (ADJ_SETOFFSET) when the error exceeds the step threshold within the first
 * `stepLimit` updates, as chronyd's makestep; later errors are slewed (at most 500 ppm).
 *
 * The kernel is told the truth: STA_UNSYNC is cleared only while the discipline is synchronised
 * (LOCKED, or HOLDOVER within budget); maxerror and esterror come from the error estimate; STA_INS or
 * STA_DEL on the day a leap second ends. At stop, STA_UNSYNC is set again and the frequency left as it
 * is (the kernel keeps the last frequency: a holdover of its own).
 */
import type { Clock, Nanos } from '../time/index.ts';
import { NS_PER_S } from '../time/index.ts';
import type { Discipline, KernelTrack } from './discipline.ts';
import {
  type KernelClockApi, type TimexOut, ADJ_ESTERROR, ADJ_FREQUENCY, ADJ_MAXERROR, ADJ_NANO, ADJ_SETOFFSET, ADJ_STATUS,
  EPERM, MAXERROR_LIMIT_US, MAXFREQ_SCALED, STA_DEL, STA_FLL, STA_FREQHOLD, STA_INS, STA_PLL, STA_PPSFREQ, STA_PPSTIME,
  STA_UNSYNC, STATE_NAMES, TIME_OOP, TIME_WAIT, ppbFromScaledPpm, scaledPpmFromPpb, statusBits,
} from './kernel.ts';

export interface SystemActuatorOptions {
  /** Step (rather than slew) an error larger than this, ns... */
  stepThresholdNs: number;
  /** ...within this many accepted samples of the start (-1: at any time). */
  stepLimit: number;
  /** Time constant of the phase term, s. */
  tauS: number;
}

export interface ActuatorSnapshot {
  kind: 'system';
  /** The kernel clock minus the discipline's estimate of true time now, ns: what is left to steer. */
  residualNs: number | undefined;
  /** The frequency the kernel runs at now (ppb, relative to the free oscillator), as it reported it. */
  kernelFreqPpb: number;
  kernelStatus: string[];
  kernelState: string;
  maxerrorUs: number;
  esterrorUs: number;
  steps: number;
  lastStepNs: number | undefined;
  frequencyUpdates: number;
  /** Leap seconds the kernel inserted (+1) or deleted (-1) while we steered. */
  leapSeconds: number;
  /** The last refusal of the kernel (clock_adjtime's errno), if any since start. */
  lastError: string | undefined;
  errors: number;
}

const DAY_NS = 86_400n * NS_PER_S;
/** The kernel status bits we own and set ourselves (the PLL and PPS discipline bits, cleared). */
const OURS = STA_PLL | STA_PPSFREQ | STA_PPSTIME | STA_FLL | STA_INS | STA_DEL | STA_UNSYNC | STA_FREQHOLD;

export class ActuatorStartError extends Error {}

interface Segment { r0: Nanos; l0: Nanos; rate: number }

export class SystemActuator implements KernelTrack {
  readonly name = 'system';
  private segs: Segment[] = [];
  private freqScaled = 0;
  private statusWord = 0;
  private lastOut: TimexOut | undefined;
  private steps = 0;
  private lastStep: number | undefined;
  private freqUpdates = 0;
  private leapSeconds = 0;
  private errors = 0;
  private lastError: string | undefined;
  private lastErrorLogged = false;
  /** The leap armed in the kernel: the midnight (kernel clock) it ends at, and its sign. */
  private armed: { at: Nanos; delta: 1 | -1 } | undefined;
  /** The midnight of the last leap the kernel made: during an inserted second the clock reads the
   * second before midnight again, and the leap must not be armed (or booked) a second time. */
  private leapDoneAt: Nanos | undefined;
  private lastStatusWrite: Nanos | undefined;
  private residual: number | undefined;

  constructor(private readonly api: KernelClockApi, private readonly clock: Clock, private readonly o: SystemActuatorOptions,
    private readonly log: (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void = () => {}) {}

  /**
   * Takes the kernel clock: reads its state, clears the PLL and PPS bits and marks it unsynchronised
   * until the discipline vouches for it. Throws ActuatorStartError with a sentence for the operator when
   * the kernel refuses (EPERM: no CAP_SYS_TIME).
   */
  start(): void {
    const cur = this.api.adjtime({ modes: 0 });
    if (cur.state < 0) throw new ActuatorStartError(`clock_adjtime cannot read the system clock's state (errno ${-cur.state})`);
    if (cur.status & (STA_PLL | STA_FLL | STA_PPSFREQ | STA_PPSTIME)) {
      throw new ActuatorStartError(`discipline.actuator is system, but the kernel's own PLL is in use (status ${statusBits(cur.status).join(' ')}): ` +
        'another time daemon (ntpd, systemd-timesyncd) steers the clock, or did and left it so. Stop it, or set discipline.actuator: none');
    }
    const status = (cur.status & ~OURS) | STA_UNSYNC;
    const w = this.api.adjtime({ modes: ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR, status, maxerror: MAXERROR_LIMIT_US, esterror: MAXERROR_LIMIT_US });
    if (w.state === -EPERM) {
      throw new ActuatorStartError('discipline.actuator is system, but the kernel refused to let the agent adjust the system clock (EPERM): ' +
        'the agent needs CAP_SYS_TIME (the systemd unit of mode (a) grants it: docs/DEPLOYMENT.md), or set discipline.actuator: none');
    }
    if (w.state < 0) throw new ActuatorStartError(`clock_adjtime refused to set the system clock's status (errno ${-w.state})`);
    this.lastOut = w;
    this.freqScaled = w.freq;
    this.statusWord = w.status;
    const r = this.clock.now();
    // The oscillator's scale is the kernel clock as it would run at frequency 0: anchored here.
    this.segs = [{ r0: r, l0: r, rate: this.freqScaled / 65536e6 }];
    this.log('info', 'steering the system clock', { kernelFreqPpb: round3(ppbFromScaledPpm(this.freqScaled)), status: statusBits(w.status).join(' ') });
  }

  private segAt(r: Nanos): Segment {
    for (let i = this.segs.length - 1; i > 0; i--) if (r >= this.segs[i]!.r0) return this.segs[i]!;
    return this.segs[0]!;
  }

  toLocal(r: Nanos): Nanos {
    if (this.segs.length === 0) return r;
    const s = this.segAt(r);
    return s.l0 + BigInt(Math.round(Number(r - s.r0) / (1 + s.rate)));
  }

  kAt(r: Nanos): number {
    return Number(this.toLocal(r) - r);
  }

  private push(s: Segment): void {
    this.segs.push(s);
    if (this.segs.length > 64) this.segs.splice(0, this.segs.length - 64);
  }

  private failed(what: string, out: TimexOut): void {
    this.errors++;
    this.lastError = `${what}: errno ${-out.state}${out.state === -EPERM ? ' (EPERM: CAP_SYS_TIME lost)' : ''}`;
    if (!this.lastErrorLogged) {
      this.lastErrorLogged = true;
      this.log('warn', 'the kernel refused a clock adjustment', { what, errno: -out.state });
    }
  }

  /** Looks for the leap second the kernel was armed for: once done, its step goes into the books. */
  private noteLeap(out: TimexOut): void {
    const a = this.armed;
    if (!a) return;
    if (out.state === TIME_OOP || out.state === TIME_WAIT || (this.lastOut && out.tai !== this.lastOut.tai && out.state >= 0)) {
      // Inserted: the clock reached midnight and went back to 23:59:59. Deleted: it went from
      // 23:59:59 straight to midnight.
      const seg = this.segAt(a.delta === 1 ? a.at - 1n : a.at - NS_PER_S - 1n);
      const from = a.delta === 1 ? a.at : a.at - NS_PER_S;
      const lAt = seg.l0 + BigInt(Math.round(Number(from - seg.r0) / (1 + seg.rate)));
      this.push({ r0: a.delta === 1 ? a.at - NS_PER_S : a.at, l0: lAt, rate: seg.rate });
      this.leapSeconds += a.delta;
      this.leapDoneAt = a.at;
      this.armed = undefined;
      this.log('info', a.delta === 1 ? 'the kernel inserted a leap second' : 'the kernel deleted a leap second', {});
    }
  }

  /** One update (every tick of the timing path, and after each sample): frequency, step, status. */
  steerFrom(now: Nanos, d: Discipline): void {
    if (this.segs.length === 0) return;
    const rd = this.api.adjtime({ modes: 0 });
    if (rd.state < 0) return this.failed('read', rd);
    this.noteLeap(rd);
    this.lastOut = rd;
    this.statusWord = rd.status;
    const snap = d.snapshot(now);
    if (!d.servo.initialized) {
      this.residual = undefined;
      this.writeStatus(now, snap.synchronized, snap.leapIndicator, snap.timeErrorEstimateNs, snap.sigmaNs);
      return;
    }
    const e = d.correctionAt(now);
    const mayStep = this.o.stepLimit < 0 || snap.samples.accepted <= this.o.stepLimit;
    if (Math.abs(e) > this.o.stepThresholdNs && mayStep) {
      const r1 = this.clock.now();
      const l1 = this.toLocal(r1);
      const out = this.api.adjtime({ modes: ADJ_SETOFFSET | ADJ_NANO, setOffsetNs: -e });
      if (out.state < 0) return this.failed('step', out);
      this.push({ r0: r1 - BigInt(Math.round(e)), l0: l1, rate: this.segAt(r1).rate });
      this.steps++;
      this.lastStep = -e;
      this.log('info', 'stepped the system clock', { stepNs: Math.round(-e) });
    } else {
      const wantPpb = -d.correctionRatePpb(now) - e / this.o.tauS;
      const scaled = Math.max(-MAXFREQ_SCALED, Math.min(MAXFREQ_SCALED, scaledPpmFromPpb(wantPpb)));
      if (scaled !== this.freqScaled) {
        const r1 = this.clock.now();
        const l1 = this.toLocal(r1);
        const out = this.api.adjtime({ modes: ADJ_FREQUENCY, freq: scaled });
        if (out.state < 0) return this.failed('frequency', out);
        this.freqScaled = out.freq;
        this.push({ r0: r1, l0: l1, rate: out.freq / 65536e6 });
        this.freqUpdates++;
      }
    }
    this.residual = d.correctionAt(now);
    this.writeStatus(now, snap.synchronized, snap.leapIndicator, snap.timeErrorEstimateNs, snap.sigmaNs);
  }

  /** STA_UNSYNC, STA_INS/STA_DEL, maxerror and esterror: written when the bits change, and each second
   * (the kernel adds 500 us to maxerror every second on its own). */
  private writeStatus(now: Nanos, synced: boolean, li: number, errNs: number | undefined, sigmaNs: number | undefined): void {
    const leapBits = synced && li === 1 ? STA_INS : synced && li === 2 ? STA_DEL : 0;
    const want = (this.statusWord & ~OURS) | (synced ? 0 : STA_UNSYNC) | leapBits;
    const due = this.lastStatusWrite === undefined || now - this.lastStatusWrite >= NS_PER_S || now < this.lastStatusWrite;
    if (want === this.statusWord && !due) return;
    const maxerror = synced && errNs !== undefined ? Math.min(MAXERROR_LIMIT_US, Math.ceil(errNs / 1000)) : MAXERROR_LIMIT_US;
    const esterror = synced && sigmaNs !== undefined ? Math.min(MAXERROR_LIMIT_US, Math.ceil(sigmaNs / 1000)) : MAXERROR_LIMIT_US;
    const out = this.api.adjtime({ modes: ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR, status: want, maxerror, esterror });
    if (out.state < 0) return this.failed('status', out);
    this.lastOut = out;
    this.statusWord = out.status;
    this.lastStatusWrite = now;
    if (leapBits && !this.armed) {
      const at = (this.clock.now() / DAY_NS + 1n) * DAY_NS;
      if (at !== this.leapDoneAt) this.armed = { at, delta: leapBits === STA_INS ? 1 : -1 };
    } else if (!leapBits && this.armed) {
      this.armed = undefined;
    }
  }

  /** Hands the clock back: unsynchronised, no leap armed, the frequency kept. */
  stop(): void {
    if (this.segs.length === 0) return;
    const out = this.api.adjtime({ modes: ADJ_STATUS | ADJ_MAXERROR, status: (this.statusWord & ~OURS) | STA_UNSYNC, maxerror: MAXERROR_LIMIT_US });
    if (out.state < 0) this.failed('status at stop', out);
    this.segs = [];
  }

  snapshot(): ActuatorSnapshot {
    const o = this.lastOut;
    return {
      kind: 'system', residualNs: this.residual, kernelFreqPpb: round3(ppbFromScaledPpm(this.freqScaled)),
      kernelStatus: statusBits(this.statusWord), kernelState: o ? (STATE_NAMES[o.state] ?? String(o.state)) : 'unknown',
      maxerrorUs: o?.maxerror ?? MAXERROR_LIMIT_US, esterrorUs: o?.esterror ?? MAXERROR_LIMIT_US,
      steps: this.steps, lastStepNs: this.lastStep, frequencyUpdates: this.freqUpdates, leapSeconds: this.leapSeconds,
      lastError: this.lastError, errors: this.errors,
    };
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
