/**
 * GNSS plausibility (pure): is what the receiver says physically believable? A spoofer, a jammer or a
 * receiver fault all leave traces that need no second source of time to see. Five checks, each raised
 * as integrityCheckFailed once when it starts failing and integrityCheckPassed once when it stops:
 *
 * - position: the antenna does not move. The mean of the first `positionLearnS` seconds of 3D fixes
 *   becomes the reference (then it follows a slow EWMA, a day's time constant, so it settles to the
 *   long-run mean); a fix further than `positionFenceM` from it fails, and the check passes again
 *   inside 0.8 of the fence (hysteresis: noise at the fence does not flap). While failing, fixes are
 *   not folded in, so a spoofer walking the position off cannot drag the reference with it. A walk
 *   slower than fence / 1 day (about a millimetre a second for 100 m) is followed and never seen: the
 *   price of a reference that can settle at all. An antenna really moved fails until a restart.
 * - jamming: C/N0 falls on every satellite at once. Each sky view gives the mean C/N0 of its strongest
 *   four satellites tracked; the baseline is the long-run mean of that figure (running mean for the
 *   first five minutes of views, then an EWMA with an hour's time constant), the current value the mean
 *   over the last 30 s of views. A current value `cn0DropDb` under the baseline fails; back within 0.6
 *   of that passes. Why the strongest four and not every satellite: a jammer pushes the weak
 *   satellites under the tracking threshold, and a mean over the survivors hides part of the loss
 *   (15 dB of jamming can read as 10); the strongest few survive and fall by the full amount, and they
 *   change less as satellites rise and set. A view with no satellite tracked at all is no evidence either way (an antenna that is
 *   gone is the antennaFault alarm's, not jamming): it is skipped, and the state holds. While failing,
 *   views are not folded into the baseline.
 * - satellites: a sudden fall in satellites used (a jammer, a spoofer replacing the sky, an obstructed
 *   antenna). The baseline is an EWMA of the count (10-minute time constant, learned over two minutes
 *   of fixes); `satellitesDropRatio` of it (rounded up to a whole satellite: half of a baseline of 9.2
 *   is 5, so 10 falling to 5 fails while the baseline still catches up with the tenth) or fewer for five fix epochs in a row fails (one odd epoch does not), more passes. It is
 *   judged only with a baseline of four or more, and only on epochs with a fix: losing the fix
 *   altogether is fixLost's alarm (and a fix reporting none used is a count not known yet: skipped).
 *   Satellites setting one by one over an hour are followed by the baseline and never fail it. While
 *   failing, the baseline learns nothing, so a lasting drop keeps failing until the sky comes back.
 * - pps_count: the receiver must count seconds as its pulses do. Each label is one second (23:59:60
 *   included: a leap second is a real second) and each PPS edge is one second (two when the interval
 *   between edges is two seconds: one pulse missing is inferred, not a break). From an anchor (a label
 *   with its own pulse), the labels must advance exactly as the pulses counted since; the offset
 *   (label minus the label the count predicts, whole seconds) nonzero for `ppsCountAfter` labels in a
 *   row fails, and `ppsCountAfter` labels in a row back on the count pass. A label is judged only with
 *   its own pulse (the last edge under 1.2 s before it: labels follow their edge by about half a
 *   second); a label without one is skipped and the count carries on. The anchor is dropped (no
 *   verdict, the state holds, the next judged label re-anchors) when a label has no fix, or when the
 *   pulse train broke (an interval that is not one or two seconds: more than one pulse missing, or a
 *   stray edge). A receiver that skipped one second's sentences is fine: its label advances by two over
 *   two pulses. Across a midnight where a leap second can be (one in the table; without a table, the
 *   end of any month), labels one second short (a 23:59:60 whose sentences were lost, or a receiver
 *   that shows the leap by repeating 23:59:59) or long (a deleted 23:59:59) are not a miscount: whether
 *   that leap second should have been there is the leap check's question.
 *   A failure is judged against the count from before it: it passes when the labels come back to
 *   that count (a one-off wrong label, or the end of a jump: one failure, one pass), or when the
 *   discipline believes the receiver's new time (`acceptLabels`: the clock stepped to it), after which
 *   the labels are counted from as they are. A receiver whose labels jumped and stay there therefore
 *   fails until the clock follows it or it comes back: that is the state an operator must see, and
 *   one excursion is one failure, not two (in and out). A pulse train that breaks while failing keeps
 *   the offset counted so far and counts on from the next label.
 * - leap: the receiver and the leap table must agree about leap seconds. Across each midnight UTC (and
 *   at any 23:59:60) the seconds the receiver's labels span are compared, by the PPS count when there is
 *   one, with the seconds the table puts between those labels: a 23:59:60 the table does not have, or
 *   a table insertion the receiver went through without a 23:59:60 (59 then 00 over one pulse; over two
 *   pulses it only skipped a sentence), fails with the disagreement in seconds (+1: the receiver has a
 *   second the table does not, -1: the table has one the receiver did not insert). Disagreements of
 *   more than a second are jumps, pps_count's business. It passes after an hour without disagreement:
 *   a leap second is a one-off event, so the check is an alarm held long enough to be seen, not a state
 *   (the second the clocks now differ by is the discipline's to handle). Without a table, or beyond the
 *   table's expiry date (it cannot know leap seconds announced after it), it is not armed.
 *
 * `armed` says whether a check has what it needs (a learned reference or baseline, an anchor, a
 * table). Time is always an argument (local clock nanoseconds, as the receive and edge times are); all
 * state is bounded (the only buffer is a capped ring).
 */
import { type Nanos, NS_PER_S, NS_PER_MS, floorDiv, toIso, toIsoLabel } from '../time/index.ts';
import type { AgentEvent, IntegrityCheck } from '../status/events.ts';
import { FixMode, type Epoch, type SatelliteView } from '../gnss/receiver.ts';
import { type LeapTable, isExpired, labelToTai } from '../discipline/leap.ts';

export type PlausibilityCheck = Exclude<IntegrityCheck, 'upstream'>;
export const PLAUSIBILITY_CHECKS: readonly PlausibilityCheck[] = ['position', 'jamming', 'satellites', 'pps_count', 'leap'];

export interface PlausibilityOptions {
  /** Radius (m) around the long-run average position; 0 disables the check. */
  positionFenceM: number;
  /** Seconds of 3D fixes averaged before the fence is armed. */
  positionLearnS: number;
  /** Mean C/N0 (of the strongest four satellites tracked) this many dB under its long-run baseline:
   * jamming. 0 disables. */
  cn0DropDb: number;
  /** Satellites used falling to this fraction of their recent baseline or below: a sudden drop. 0 disables. */
  satellitesDropRatio: number;
  /** A label inconsistent with the PPS count (labels seconds ≠ PPS intervals counted) for this many
   * labels in a row fails pps_count. 0 disables. */
  ppsCountAfter: number;
}

/** What the checks are meant to run with (the configuration's defaults). */
export const DEFAULT_PLAUSIBILITY: Readonly<PlausibilityOptions> = {
  positionFenceM: 100, positionLearnS: 600, cn0DropDb: 10, satellitesDropRatio: 0.5, ppsCountAfter: 3,
};

export interface CheckSnapshot {
  failing: boolean;
  armed: boolean;
  /** When the current failure began (undefined while passing). */
  since: Nanos | undefined;
  /** The figure judged, latest (m, dB, satellites, s, s). */
  value: number | undefined;
  threshold: number;
  detail: string;
  /** Failures since start. */
  failures: number;
}

export interface PlausibilitySnapshot {
  checks: Record<PlausibilityCheck, CheckSnapshot>;
  referencePosition: { lat: number; lon: number; altM: number; samples: number } | undefined;
  /** The current fix's horizontal distance from the reference. */
  positionDistanceM: number | undefined;
  /** Mean C/N0 of the strongest satellites tracked over the last 30 s, and its long-run baseline. */
  cn0MeanDb: number | undefined;
  cn0BaselineDb: number | undefined;
  satellitesUsed: number | undefined;
  satellitesBaseline: number | undefined;
  /** Receiver label minus the label the PPS count predicts, seconds. */
  labelPpsOffsetS: number | undefined;
}

/** Mean Earth radius (m): equirectangular and haversine distances at fence scales. */
const EARTH_R_M = 6_371_000;
const RAD = Math.PI / 180;
/** Longest gap (s) one input counts for, in learning time and EWMA weights: a silence is not learning. */
const MAX_STEP_S = 2;

const POSITION_TAU_S = 86_400;
const POSITION_PASS = 0.8;

const CN0_STRONGEST = 4;
const CN0_LEARN_S = 300;
const CN0_TAU_S = 3600;
const CN0_WINDOW_S = 30;
const CN0_WINDOW_CAP = 64;
const CN0_PASS = 0.6;

const SAT_LEARN_S = 120;
const SAT_TAU_S = 600;
const SAT_MIN_BASELINE = 4;
const SAT_HOLD_EPOCHS = 5;

const PPS_LABEL_MAX_AGE_NS = 1_200_000_000n;
const PPS_TOLERANCE_S = 0.25;

const LEAP_CLEAR_S = 3600;
const DAY_NS = 86_400n * NS_PER_S;

const secondsBetween = (a: Nanos, b: Nanos) => Number(b - a) / 1e9;
const clampStep = (s: number) => Math.min(MAX_STEP_S, Math.max(0, s));
const wrap180 = (deg: number) => ((((deg + 180) % 360) + 360) % 360) - 180;
const r1 = (x: number) => Math.round(x * 10) / 10;

function haversineM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = wrap180(lon2 - lon1) * RAD;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_R_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** One check's state: failing or not, since when, the latest figure, and the transitions as events. */
class Check {
  failing = false;
  since: Nanos | undefined;
  value: number | undefined;
  detail: string;
  failures = 0;

  constructor(readonly name: PlausibilityCheck, public threshold: number, detail: string, private readonly emit: (e: AgentEvent) => void) {
    this.detail = detail;
  }

  /** The latest figure, and its description while the check passes (a failure keeps its own). */
  note(value: number | undefined, detail?: string): void {
    this.value = value;
    if (!this.failing && detail !== undefined) this.detail = detail;
  }

  fail(at: Nanos, value: number, threshold: number, detail: string): void {
    this.value = value;
    if (this.failing) return;
    this.failing = true;
    this.since = at;
    this.failures++;
    this.threshold = threshold;
    this.detail = detail;
    this.emit({ type: 'integrityCheckFailed', at, check: this.name, value, threshold, detail });
  }

  pass(at: Nanos, value: number, detail: string): void {
    this.value = value;
    this.detail = detail;
    if (!this.failing) return;
    this.failing = false;
    const durationS = this.since === undefined ? 0 : secondsBetween(this.since, at);
    this.since = undefined;
    this.emit({ type: 'integrityCheckPassed', at, check: this.name, value, durationS });
  }

  snapshot(armed: boolean): CheckSnapshot {
    return {
      failing: this.failing, armed, since: this.since, value: this.value, threshold: this.threshold,
      detail: this.detail, failures: this.failures,
    };
  }
}

/** The last views' C/N0 figures, at most `cap` of them (the oldest give way). */
class TimedRing {
  private at: Nanos[] = [];
  private v: number[] = [];
  private head = 0;
  private len = 0;
  constructor(private readonly cap: number) {}

  push(at: Nanos, v: number): void {
    const i = (this.head + this.len) % this.cap;
    this.at[i] = at;
    this.v[i] = v;
    if (this.len < this.cap) this.len++;
    else this.head = (this.head + 1) % this.cap;
  }

  /** Forgets entries older than `from`. */
  prune(from: Nanos): void {
    while (this.len > 0 && this.at[this.head]! < from) {
      this.head = (this.head + 1) % this.cap;
      this.len--;
    }
  }

  /** Mean of the entries at or after `from` (undefined if none). */
  mean(from: Nanos): number | undefined {
    let sum = 0;
    let n = 0;
    for (let k = 0; k < this.len; k++) {
      const i = (this.head + k) % this.cap;
      if (this.at[i]! >= from) {
        sum += this.v[i]!;
        n++;
      }
    }
    return n ? sum / n : undefined;
  }
}

/** A mean that is a running mean until `learnS` seconds of samples, then an EWMA of time constant tauS. */
class Baseline {
  value: number | undefined;
  learnedS = 0;
  samples = 0;
  private lastAt: Nanos | undefined;
  constructor(private readonly learnS: number, private readonly tauS: number) {}

  get learned(): boolean {
    return this.learnedS >= this.learnS;
  }

  /** Seconds this sample stands for (the gap since the last, capped; a first sample counts one). */
  step(at: Nanos): number {
    const dt = this.lastAt === undefined ? 1 : clampStep(secondsBetween(this.lastAt, at));
    this.lastAt = at;
    return dt;
  }

  fold(x: number, dt: number): void {
    this.samples++;
    if (this.value === undefined) this.value = x;
    else if (!this.learned) this.value += (x - this.value) / this.samples;
    else this.value += (1 - Math.exp(-dt / this.tauS)) * (x - this.value);
    this.learnedS += dt;
  }
}

/** A label as the pulse count sees it: the running PPS second of its own pulse (undefined without
 * one), the pulse train it belongs to, and whether it came with a fix. */
interface LabelMark {
  utc: Nanos;
  leap: boolean;
  fix: boolean;
  pps: number | undefined;
  train: number;
}

export class Plausibility {
  private readonly position: Check;
  private readonly jamming: Check;
  private readonly satellites: Check;
  private readonly ppsCount: Check;
  private readonly leap: Check;

  // position: a local frame (metres north/east of the first 3D fix) so means are plain averages.
  private origin: { lat: number; lon: number } | undefined;
  private posN: Baseline;
  private posE: Baseline;
  private posU: Baseline;
  private lastFixAt: Nanos | undefined;
  private distanceM: number | undefined;

  // jamming
  private cn0 = new Baseline(CN0_LEARN_S, CN0_TAU_S);
  private cn0Window = new TimedRing(CN0_WINDOW_CAP);
  private cn0Current: number | undefined;

  // satellites
  private sats = new Baseline(SAT_LEARN_S, SAT_TAU_S);
  private satsUsed: number | undefined;
  private satsLowRun = 0;

  // pulses and labels
  private lastEdge: Nanos | undefined;
  private ppsSec = 0;
  private train = 0;
  private prevLabel: LabelMark | undefined;
  /** The last judged label (the anchor the count runs from), and the label seconds since it. */
  private judged: LabelMark | undefined;
  private labelSecondsSinceJudged = 0;
  /** Leap seconds that may hide between the labels since the anchor (see leapBetween). */
  private hiddenInsertions = 0;
  private hiddenDeletions = 0;
  private ppsOffset = 0;
  /** Offset the labels kept through re-anchors during the current failure. */
  private ppsKept = 0;
  private ppsBadRun = 0;
  private ppsGoodRun = 0;
  private lastLeapDisagreement: Nanos | undefined;

  constructor(
    private readonly o: PlausibilityOptions,
    private readonly leapTable: LeapTable | undefined,
    emit: (e: AgentEvent) => void,
  ) {
    this.position = new Check('position', o.positionFenceM, o.positionFenceM > 0 ? 'learning the position' : 'off', emit);
    this.jamming = new Check('jamming', o.cn0DropDb, o.cn0DropDb > 0 ? 'learning the C/N0 baseline' : 'off', emit);
    this.satellites = new Check('satellites', 0, o.satellitesDropRatio > 0 ? 'learning the satellites baseline' : 'off', emit);
    this.ppsCount = new Check('pps_count', 1, o.ppsCountAfter > 0 ? 'no labels with pulses yet' : 'off', emit);
    this.leap = new Check('leap', 1, leapTable ? 'no leap second seen' : 'no leap table', emit);
    this.posN = new Baseline(o.positionLearnS, POSITION_TAU_S);
    this.posE = new Baseline(o.positionLearnS, POSITION_TAU_S);
    this.posU = new Baseline(o.positionLearnS, POSITION_TAU_S);
  }

  // -------------------------------------------------------------------------------------- inputs

  /** Each completed receiver epoch: position and satellites used. */
  onEpoch(epoch: Epoch, rx: Nanos): void {
    this.onPosition(epoch, rx);
    this.onSatellitesUsed(epoch, rx);
  }

  /** Each new sky view: the C/N0 of the satellites tracked. */
  onSky(satellites: SatelliteView[], rx: Nanos): void {
    if (this.o.cn0DropDb <= 0) return;
    const snrs = satellites.map((s) => s.snr).filter((v): v is number => v !== undefined && v > 0).sort((a, b) => b - a);
    if (snrs.length === 0) return; // nothing tracked: an antenna matter, no evidence of jamming
    const top = snrs.slice(0, CN0_STRONGEST);
    const v = top.reduce((a, b) => a + b, 0) / top.length;
    const dt = this.cn0.step(rx);
    this.cn0Window.push(rx, v);
    this.cn0Window.prune(rx - BigInt(CN0_WINDOW_S) * NS_PER_S);
    this.cn0Current = this.cn0Window.mean(rx - BigInt(CN0_WINDOW_S) * NS_PER_S);
    this.judgeJamming(rx);
    if (!this.jamming.failing) this.cn0.fold(v, dt);
  }

  /** Each accepted PPS edge (local time of the assert edge). */
  onEdge(assert: Nanos): void {
    if (this.lastEdge !== undefined) {
      const d = secondsBetween(this.lastEdge, assert);
      const n = Math.round(d);
      if (n >= 1 && n <= 2 && Math.abs(d - n) <= PPS_TOLERANCE_S) this.ppsSec += n;
      else this.train++; // a gap of more than one pulse, or a stray edge: the count starts again
    }
    this.lastEdge = assert;
  }

  /** Each new second label (where it is first seen), as the GNSS monitor reports it. */
  onLabel(utc: Nanos, leapSecond: boolean, fixValid: boolean, rx: Nanos): void {
    const fresh = this.lastEdge !== undefined && rx >= this.lastEdge && rx - this.lastEdge < PPS_LABEL_MAX_AGE_NS;
    const mark: LabelMark = { utc, leap: leapSecond, fix: fixValid, pps: fresh ? this.ppsSec : undefined, train: this.train };
    const prev = this.prevLabel;
    const step = prev ? labelStep(prev, mark) : 0;
    this.judgeLeap(prev, mark, step, rx);
    this.judgeCount(mark, step, prev ? this.leapBetween(prev, mark) : undefined, rx);
    this.prevLabel = mark;
  }

  /** Once a second or so: lets windows age and one-off alarms clear when nothing arrives. */
  tick(now: Nanos): void {
    this.cn0Window.prune(now - BigInt(CN0_WINDOW_S) * NS_PER_S);
    this.cn0Current = this.cn0Window.mean(now - BigInt(CN0_WINDOW_S) * NS_PER_S);
    this.clearLeap(now);
  }

  // -------------------------------------------------------------------------------------- position

  private onPosition(epoch: Epoch, rx: Nanos): void {
    if (this.o.positionFenceM <= 0 || epoch.mode !== FixMode.Fix3D || epoch.lat === undefined || epoch.lon === undefined) return;
    const dt = this.lastFixAt === undefined ? 1 : clampStep(secondsBetween(this.lastFixAt, rx));
    this.lastFixAt = rx;
    this.origin ??= { lat: epoch.lat, lon: epoch.lon };
    const n = (epoch.lat - this.origin.lat) * RAD * EARTH_R_M;
    const e = wrap180(epoch.lon - this.origin.lon) * RAD * EARTH_R_M * Math.cos(this.origin.lat * RAD);
    const fence = this.o.positionFenceM;
    if (this.posN.learned) {
      const ref = this.reference()!;
      const d = haversineM(ref.lat, ref.lon, epoch.lat, epoch.lon);
      this.distanceM = d;
      if (this.position.failing) {
        if (d <= POSITION_PASS * fence) this.position.pass(rx, d, this.positionDetail(d));
        else this.position.note(d);
      } else if (d > fence) {
        this.position.fail(rx, d, fence, `the position is ${r1(d)} m from where the antenna has been (${ref.lat.toFixed(6)}, ${ref.lon.toFixed(6)}): beyond the ${fence} m fence`);
      } else {
        this.position.note(d, this.positionDetail(d));
      }
    }
    if (this.position.failing) return; // a spoofer must not drag the reference along
    this.posN.fold(n, dt);
    this.posE.fold(e, dt);
    if (epoch.altMsl !== undefined) this.posU.fold(epoch.altMsl, dt);
    if (!this.posN.learned) this.position.note(undefined, `learning the position: ${Math.floor(this.posN.learnedS)} of ${this.o.positionLearnS} s`);
  }

  private positionDetail(d: number): string {
    return `${r1(d)} m from the reference position (fence ${this.o.positionFenceM} m)`;
  }

  private reference(): { lat: number; lon: number; altM: number; samples: number } | undefined {
    if (!this.origin || this.posN.value === undefined || this.posE.value === undefined) return undefined;
    const lat = this.origin.lat + this.posN.value / EARTH_R_M / RAD;
    const lon = wrap180(this.origin.lon + this.posE.value / (EARTH_R_M * Math.cos(this.origin.lat * RAD)) / RAD);
    return { lat, lon, altM: this.posU.value ?? NaN, samples: this.posN.samples };
  }

  // -------------------------------------------------------------------------------------- jamming

  private judgeJamming(at: Nanos): void {
    const th = this.o.cn0DropDb;
    const base = this.cn0.value;
    const cur = this.cn0Current;
    if (!this.cn0.learned || base === undefined || cur === undefined) {
      if (!this.cn0.learned) this.jamming.note(undefined, `learning the C/N0 baseline: ${Math.floor(this.cn0.learnedS)} of ${CN0_LEARN_S} s`);
      return;
    }
    const drop = base - cur;
    const words = `C/N0 of the strongest satellites ${r1(cur)} dB-Hz, ${r1(drop)} dB under its baseline of ${r1(base)} dB-Hz`;
    if (this.jamming.failing) {
      if (drop < CN0_PASS * th) this.jamming.pass(at, drop, words);
      else this.jamming.note(drop);
    } else if (drop >= th) {
      this.jamming.fail(at, drop, th, `${words}: jamming?`);
    } else {
      this.jamming.note(drop, words);
    }
  }

  // -------------------------------------------------------------------------------------- satellites

  private onSatellitesUsed(epoch: Epoch, rx: Nanos): void {
    if (this.o.satellitesDropRatio <= 0) return;
    const dt = this.sats.step(rx);
    if (epoch.mode < FixMode.Fix2D) {
      this.satsLowRun = 0; // no fix: fixLost's business; neither a verdict nor learning
      return;
    }
    // A fix needs three satellites at least: none used means not known yet (no sky view so far).
    if (epoch.satellitesUsed === 0) return;
    const used = epoch.satellitesUsed;
    this.satsUsed = used;
    const base = this.sats.value;
    if (this.sats.learned && base !== undefined && base >= SAT_MIN_BASELINE) {
      // A fraction of the usual count, rounded up to a whole satellite: counts are whole, and a baseline
      // still catching up with the last satellite that rose (9.2 for a usual 10) must not hide a halving.
      const level = Math.ceil(this.o.satellitesDropRatio * base - 1e-9);
      const words = `${used} satellites used, baseline ${r1(base)}`;
      if (used <= level) {
        this.satsLowRun++;
        if (this.satsLowRun >= SAT_HOLD_EPOCHS) {
          this.satellites.fail(rx, used, level, `${words}: a sudden drop to ${this.o.satellitesDropRatio} of the baseline or under (${r1(level)})`);
        } else {
          this.satellites.note(used);
        }
      } else {
        this.satsLowRun = 0;
        if (this.satellites.failing) this.satellites.pass(rx, used, words);
        else {
          this.satellites.threshold = level;
          this.satellites.note(used, words);
        }
      }
    } else {
      this.satsLowRun = 0;
      this.satellites.note(used, !this.sats.learned
        ? `learning the satellites baseline: ${Math.floor(this.sats.learnedS)} of ${SAT_LEARN_S} s`
        : `baseline ${r1(base ?? 0)} satellites: too few to judge a drop`);
    }
    if (!this.satellites.failing && this.satsLowRun === 0) this.sats.fold(used, dt);
  }

  // -------------------------------------------------------------------------------------- pps_count

  private judgeCount(mark: LabelMark, step: number, hidden: { insert: boolean; delete: boolean } | undefined, rx: Nanos): void {
    if (this.o.ppsCountAfter <= 0) return;
    this.labelSecondsSinceJudged += step;
    if (hidden?.insert) this.hiddenInsertions++;
    if (hidden?.delete) this.hiddenDeletions++;
    if (!mark.fix) {
      this.reanchor(undefined, 'labels without a fix: not judged');
      return;
    }
    if (mark.pps === undefined) {
      // A label without its own pulse: skipped; the count runs on to the next label that has one.
      if (this.judged && this.judged.train !== this.train) this.reanchor(undefined, 'the pulse train broke: counting again');
      return;
    }
    const anchor = this.judged;
    if (!anchor || anchor.train !== mark.train || anchor.pps === undefined) {
      this.reanchor(mark, 'counting from this label');
      return;
    }
    let delta = this.labelSecondsSinceJudged - (mark.pps - anchor.pps);
    // One second short across an insertion the labels did not show, or long across a deletion: the
    // leap check's question, not a miscount.
    if ((delta < 0 && -delta <= this.hiddenInsertions) || (delta > 0 && delta <= this.hiddenDeletions)) delta = 0;
    this.ppsOffset += delta;
    this.judged = mark;
    this.restartCount();
    const after = this.o.ppsCountAfter;
    // The offset from the count as it ran before any failure (offsets kept across breaks included).
    const shown = this.ppsKept + this.ppsOffset;
    if (shown === 0) {
      this.ppsBadRun = 0;
      this.ppsGoodRun++;
      if (this.ppsCount.failing) {
        if (this.ppsGoodRun >= after) {
          this.ppsCount.pass(rx, 0, 'labels agree with the PPS count again');
          this.ppsKept = 0;
        } else this.ppsCount.note(shown);
      } else this.ppsCount.note(0, `labels agree with the PPS count (${toIsoLabel(mark.utc, mark.leap)})`);
      return;
    }
    this.ppsGoodRun = 0;
    this.ppsBadRun++;
    const words = `the receiver labelled ${toIsoLabel(mark.utc, mark.leap)}, ${shown > 0 ? '+' : ''}${shown} s from the label the PPS count predicts`;
    if (!this.ppsCount.failing) {
      if (this.ppsBadRun >= after) this.ppsCount.fail(rx, shown, 1, `${words} (${this.ppsBadRun} labels in a row)`);
      else this.ppsCount.note(shown);
      return;
    }
    this.ppsCount.note(shown, words);
  }

  /**
   * The discipline believed the receiver's time as it is now (its clock stepped to it): the labels are
   * counted from as they are, and a pps_count failure ends.
   */
  acceptLabels(at: Nanos): void {
    const shown = this.ppsKept + this.ppsOffset;
    if (this.ppsCount.failing) this.ppsCount.pass(at, shown, `the clock stepped to the receiver's time, ${shown > 0 ? '+' : ''}${shown} s from the count before`);
    this.ppsKept = 0;
    this.reanchor(undefined, 'the discipline took the receiver\'s time: counting from its labels as they are');
  }

  private restartCount(): void {
    this.labelSecondsSinceJudged = 0;
    this.hiddenInsertions = 0;
    this.hiddenDeletions = 0;
  }

  /**
   * Which leap seconds can hide between two consecutive labels that do not show one: an insertion (the
   * 23:59:60 was not labelled: its sentences were lost, or the receiver repeats 23:59:59) or a deletion
   * (no 23:59:59 labelled). Where one can be is the table's to say; without a table (or past its
   * expiry) any midnight that ends a month may hold either.
   */
  private leapBetween(a: LabelMark, b: LabelMark): { insert: boolean; delete: boolean } {
    const none = { insert: false, delete: false };
    if (a.leap || b.leap) return none;
    const m = floorDiv(b.utc, DAY_NS) * DAY_NS;
    if (m <= a.utc || b.utc - a.utc > DAY_NS) return none;
    const table = this.leapTable;
    const known = table !== undefined && !isExpired(table, m);
    const change = known ? tableChangeAt(table, m) : 0;
    const monthEnd = !known && new Date(Number(m / NS_PER_MS)).getUTCDate() === 1;
    return {
      insert: change === 1 || monthEnd,
      delete: (change === -1 || monthEnd) && a.utc <= m - 2n * NS_PER_S, // 23:59:59 labelled: nothing deleted
    };
  }

  /** Counts from `mark` (undefined: from the next label judged); a failure keeps the offset so far. */
  private reanchor(mark: LabelMark | undefined, detail: string): void {
    if (this.ppsCount.failing) this.ppsKept += this.ppsOffset;
    this.judged = mark;
    this.restartCount();
    this.ppsOffset = 0;
    this.ppsBadRun = 0;
    this.ppsGoodRun = 0;
    this.ppsCount.note(this.ppsCount.failing ? this.ppsKept : mark ? 0 : undefined, detail);
  }

  // -------------------------------------------------------------------------------------- leap

  private leapArmed(t: Nanos): boolean {
    return this.leapTable !== undefined && !isExpired(this.leapTable, t);
  }

  private judgeLeap(prev: LabelMark | undefined, cur: LabelMark, step: number, rx: Nanos): void {
    const table = this.leapTable;
    if (!table || !cur.fix || isExpired(table, cur.utc)) return;
    if (cur.leap && tableChangeAt(table, cur.utc) !== 1) {
      this.disagree(rx, 1, `the receiver labelled ${toIsoLabel(cur.utc, true)}: a leap second the table does not have`);
      return;
    }
    if (!prev || !prev.fix || !spansMidnight(prev, cur) || step < 0 || step > 10) {
      this.clearLeap(rx);
      return;
    }
    // Seconds that really passed: the pulse count if both labels have their pulse, else the labels' own.
    const counted = prev.pps !== undefined && cur.pps !== undefined && prev.train === cur.train ? cur.pps - prev.pps : step <= 1 ? step : undefined;
    if (counted === undefined) return;
    const inTable = Number(labelToTai(table, cur.utc, cur.leap) - labelToTai(table, prev.utc, prev.leap)) / 1e9;
    const d = counted - inTable;
    const midnight = toIso(floorDiv(cur.utc, DAY_NS) * DAY_NS); // the 00:00:00 the labels crossed (or 23:59:60 precedes)
    if (d === 1) {
      this.disagree(rx, 1, `the receiver's labels count one second more than the leap table across ${midnight}: a leap second the table does not have`);
    } else if (d === -1) {
      this.disagree(rx, -1, `the receiver's labels count one second less than the leap table across ${midnight}: the table has a leap second the receiver did not insert (${toIsoLabel(prev.utc, prev.leap)} then ${toIsoLabel(cur.utc, cur.leap)})`);
    } else {
      this.leap.note(this.leap.failing ? this.leap.value : 0, `the receiver and the table agree across ${midnight}`);
      this.clearLeap(rx);
    }
  }

  private disagree(at: Nanos, seconds: number, detail: string): void {
    this.lastLeapDisagreement = at;
    this.leap.fail(at, seconds, 1, detail);
  }

  private clearLeap(now: Nanos): void {
    if (this.leap.failing && this.lastLeapDisagreement !== undefined && secondsBetween(this.lastLeapDisagreement, now) >= LEAP_CLEAR_S) {
      this.leap.pass(now, 0, `no disagreement with the leap table for ${LEAP_CLEAR_S / 3600} h`);
    }
  }

  // -------------------------------------------------------------------------------------- snapshot

  snapshot(now: Nanos): PlausibilitySnapshot {
    const ref = this.reference();
    const cn0Now = this.cn0Window.mean(now - BigInt(CN0_WINDOW_S) * NS_PER_S);
    const satBase = this.sats.value;
    return {
      checks: {
        position: this.position.snapshot(this.o.positionFenceM > 0 && this.posN.learned),
        jamming: this.jamming.snapshot(this.o.cn0DropDb > 0 && this.cn0.learned),
        satellites: this.satellites.snapshot(this.o.satellitesDropRatio > 0 && this.sats.learned && (satBase ?? 0) >= SAT_MIN_BASELINE),
        pps_count: this.ppsCount.snapshot(this.o.ppsCountAfter > 0 && this.judged !== undefined),
        leap: this.leap.snapshot(this.leapArmed(now)),
      },
      referencePosition: ref,
      positionDistanceM: this.distanceM,
      cn0MeanDb: cn0Now,
      cn0BaselineDb: this.cn0.value,
      satellitesUsed: this.satsUsed,
      satellitesBaseline: satBase,
      labelPpsOffsetS: this.judged !== undefined || this.ppsCount.failing ? this.ppsKept + this.ppsOffset : undefined,
    };
  }
}

/** Seconds from one label to the next as the receiver counts them: 23:59:60 shares its POSIX time with
 * the 00:00:00 after it, and is a second of its own. */
function labelStep(a: LabelMark, b: LabelMark): number {
  return Math.round(Number(b.utc - a.utc) / 1e9) + (a.leap && !b.leap ? 1 : 0);
}

/** The UTC day a label belongs to (23:59:60 belongs to the day it ends). */
const dayOf = (m: LabelMark) => floorDiv(m.utc - (m.leap ? NS_PER_S : 0n), DAY_NS);

function spansMidnight(a: LabelMark, b: LabelMark): boolean {
  return a.leap || b.leap || dayOf(a) !== dayOf(b);
}

/** What the table does at POSIX time t (00:00:00 after a leap): +1 an insertion, -1 a deletion, 0 nothing. */
function tableChangeAt(table: LeapTable, t: Nanos): 1 | -1 | 0 {
  for (let i = 1; i < table.entries.length; i++) {
    const e = table.entries[i]!;
    if (e.at === t) return e.taiUtc > table.entries[i - 1]!.taiUtc ? 1 : -1;
    if (e.at > t) break;
  }
  return 0;
}
