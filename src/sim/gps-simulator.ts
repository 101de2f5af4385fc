/**
 * The built-in GPS: an MTK3339 and its PPS output, driven by a true-time clock. Each true second it
 * (1) raises a PPS edge, timestamped on the simulated local clock with Gaussian jitter, and (2) about
 * `nmeaDelayMs` later starts the sentences that label that second (RMC, GGA, GSA, ZDA every second,
 * GSV every fifth, PGTOP antenna status), each delivered at the moment its last byte would arrive at
 * 9600 baud. Faults run on a schedule. Everything comes from a seeded generator: the same seed, the
 * same bytes.
 *
 * Like the real MT3339, the simulated module gives a PPS pulse only while it has a fix.
 *
 * The reported position is never exact: it wanders around the true one as a first-order Gauss-Markov
 * process (about 3 m horizontally and 5 m vertically, correlated over a minute), as a real receiver's
 * fix does, so a clean day is not trivially noise-free for the plausibility checks. That noise comes
 * from a second generator seeded from the same seed, so every draw of the original stream (PPS
 * jitter, NMEA delays, C/N0) is what it was before the noise existed: the same seed, the same run.
 *
 * Two faults attack the signal rather than the module: `position_walk` drags the reported position
 * away (north-east) at `value` m/s from the fault's start, as a spoofer walking the victim off, and
 * snaps back when it ends; `jamming` lowers every satellite's C/N0 by `value` dB, and a satellite
 * pushed under the tracking threshold (16 dB-Hz) is lost: no C/N0 in GSV, not in the solution, so the
 * count of satellites used follows.
 */
import type { Clock, Nanos, Timer } from '../time/index.ts';
import { NS_PER_S, floorDiv } from '../time/index.ts';
import * as enc from '../gnss/encode.ts';
import type { PpsEdge } from '../pps/edge.ts';
import { Rng } from './random.ts';
import type { Oscillator } from './oscillator.ts';
import type { LeapTable } from '../discipline/leap.ts';

export type FaultKind = 'antenna_unplugged' | 'antenna_short' | 'pps_lost' | 'satellites_drop' | 'time_jump' | 'garbage' | 'silence' | 'position_walk' | 'jamming' | 'pps_offset';

export interface Fault {
  at_s: number;
  kind: FaultKind;
  duration_s: number;
  value: number;
}

export interface GpsSimulatorOptions {
  seed: number;
  ppsJitterNs: number;
  nmeaDelayMs: number;
  nmeaJitterMs: number;
  satellites: number;
  latitude: number;
  longitude: number;
  altitudeM: number;
  baud: number;
  faults: Fault[];
  /** Leap seconds the receiver applies: the true clock runs on without them, the labels follow UTC. */
  leapTable?: LeapTable | undefined;
}

export interface GpsSimulatorSinks {
  /** Bytes as the serial port delivers them, with the local receive time. */
  bytes(chunk: string, rxLocal: Nanos): void;
  /** A PPS edge as the kernel would timestamp it (local clock). */
  edge(e: PpsEdge): void;
}

/** Metres per degree of latitude (mean Earth radius 6371 km): plenty for offsets of metres to km. */
const M_PER_DEG = (Math.PI / 180) * 6_371_000;
/** Position noise: one-sigma per horizontal axis and vertical (m), correlation time (s). */
const NOISE_H_M = 3;
const NOISE_V_M = 5;
const NOISE_TAU_S = 60;
/** Weakest C/N0 (dB-Hz) the simulated module keeps tracking. */
const TRACK_MIN_DBHZ = 16;

interface Sat {
  prn: number;
  elevation: number;
  azimuth: number;
  baseSnr: number;
  elevationRate: number;
}

export class GpsSimulator {
  private rng: Rng;
  /** The position noise's own generator (see the header: the main stream stays as it was). */
  private posRng: Rng;
  /** Position noise now, metres north, east and up of the true position. */
  private noise = { n: 0, e: 0, u: 0 };
  private sats: Sat[] = [];
  private timer: Timer | undefined;
  private startT: Nanos | undefined;
  private ppsSeq = 0;
  private pending: Timer[] = [];
  /** Seconds the module has had a fix (a cold module needs a few seconds to acquire). */
  private fixRun = 0;
  readonly stats = { edges: 0, sentences: 0, bytes: 0, garbageBytes: 0 };

  constructor(
    private readonly clock: Clock,
    private readonly osc: Pick<Oscillator, 'localAt'>,
    private readonly opts: GpsSimulatorOptions,
    private readonly sinks: GpsSimulatorSinks,
  ) {
    this.rng = new Rng(opts.seed);
    const prns = [...Array(32).keys()].map((i) => i + 1);
    for (let i = 0; i < Math.min(opts.satellites, 32); i++) {
      const k = this.rng.int(0, prns.length - 1);
      const prn = prns.splice(k, 1)[0]!;
      this.sats.push({
        prn, elevation: this.rng.uniform(5, 88), azimuth: this.rng.uniform(0, 359),
        baseSnr: this.rng.uniform(22, 46), elevationRate: this.rng.uniform(-0.004, 0.004),
      });
    }
    this.sats.sort((a, b) => b.elevation - a.elevation);
    this.posRng = new Rng((opts.seed ^ 0x51ae7e55) >>> 0);
    this.noise = { n: NOISE_H_M * this.posRng.normal(), e: NOISE_H_M * this.posRng.normal(), u: NOISE_V_M * this.posRng.normal() };
  }

  /** Starts at the next true second. */
  start(): void {
    const now = this.clock.now();
    this.startT = now;
    const next = (floorDiv(now, NS_PER_S) + 1n) * NS_PER_S;
    this.timer = this.clock.setTimeout(() => {
      this.second(next);
      this.timer = this.clock.setInterval(() => {
        // The interval timer fires on true seconds in virtual time; in real time it may run late:
        // always label the second that has most recently begun.
        this.second(floorDiv(this.clock.now(), NS_PER_S) * NS_PER_S);
      }, 1000);
    }, Number(next - now) / 1e6);
  }

  stop(): void {
    this.timer?.cancel();
    for (const t of this.pending) t.cancel();
    this.pending = [];
  }

  private active(kind: FaultKind, t: Nanos): Fault | undefined {
    if (this.startT === undefined) return undefined;
    const s = Number(t - this.startT) / 1e9;
    return this.opts.faults.find((f) => f.kind === kind && s >= f.at_s && s < f.at_s + Math.max(f.duration_s, 1));
  }

  /** Satellites the module tracks: above 10 degrees and, under jamming, still above the tracking
   * threshold. Without jamming: every satellite above 10 degrees, as before jamming existed. */
  private tracked(t: Nanos): Sat[] {
    const jam = this.active('jamming', t);
    return this.sats.filter((s) => s.elevation > 10 && (!jam || s.baseSnr - jam.value >= TRACK_MIN_DBHZ));
  }

  private usedCount(t: Nanos): number {
    if (this.active('antenna_unplugged', t) || this.active('antenna_short', t)) return 0;
    const drop = this.active('satellites_drop', t);
    const visible = this.tracked(t).length;
    // A value under 1 is a share of those tracked (0.5: half of them), as many as a blocked sky leaves.
    const left = drop ? (drop.value < 1 ? Math.floor(Math.min(visible, 12) * drop.value) : drop.value) : visible;
    return Math.min(left, visible, 12);
  }

  /** One second of the position noise (exact discretisation of a Gauss-Markov process). */
  private stepNoise(): void {
    const a = Math.exp(-1 / NOISE_TAU_S);
    const b = Math.sqrt(1 - a * a);
    this.noise.n = a * this.noise.n + NOISE_H_M * b * this.posRng.normal();
    this.noise.e = a * this.noise.e + NOISE_H_M * b * this.posRng.normal();
    this.noise.u = a * this.noise.u + NOISE_V_M * b * this.posRng.normal();
  }

  /** The position the module reports at true time t: the true one, its noise, and a spoofer's walk. */
  private reportedPosition(t: Nanos): { lat: number; lon: number; altMsl: number } {
    let { n, e } = this.noise;
    const walk = this.active('position_walk', t);
    if (walk && this.startT !== undefined) {
      const d = walk.value * (Number(t - this.startT) / 1e9 - walk.at_s);
      n += d / Math.SQRT2;
      e += d / Math.SQRT2;
    }
    const lat = this.opts.latitude + n / M_PER_DEG;
    const lon = this.opts.longitude + e / (M_PER_DEG * Math.cos((this.opts.latitude * Math.PI) / 180));
    return { lat: Math.max(-90, Math.min(90, lat)), lon: ((lon + 540) % 360) - 180, altMsl: this.opts.altitudeM + this.noise.u };
  }

  private second(t: Nanos): void {
    for (const s of this.sats) {
      s.elevation = Math.min(89, Math.max(1, s.elevation + s.elevationRate));
      s.azimuth = (s.azimuth + 0.004 + 360) % 360;
    }
    this.stepNoise();
    const used = this.usedCount(t);
    const fixMode: 1 | 2 | 3 = used >= 4 ? 3 : used === 3 ? 2 : 1;
    this.fixRun = fixMode > 1 ? this.fixRun + 1 : 0;
    const hasFix = fixMode > 1 && this.fixRun >= 2;
    const silent = this.active('silence', t) !== undefined;

    // PPS: only with a fix, and not while the PPS line is broken.
    if (hasFix && !this.active('pps_lost', t)) {
      // A receiver whose time runs `value` ms ahead (a subtle spoof) marks each second that much early.
      const ahead = BigInt(Math.round((this.active('pps_offset', t)?.value ?? 0) * 1e6));
      const local = this.osc.localAt(t - ahead) + BigInt(Math.round(this.rng.normal() * this.opts.ppsJitterNs));
      this.ppsSeq++;
      this.stats.edges++;
      this.sinks.edge({ assert: local, sequence: this.ppsSeq });
    }

    const garbage = this.active('garbage', t);
    if (garbage) this.sendGarbage(t, garbage.value);
    if (silent) return;

    const jump = this.active('time_jump', t);
    const { posix, leap } = this.label(t);
    const label = posix + (jump ? BigInt(Math.round(jump.value)) * NS_PER_S : 0n);
    const u = leap ? { ...enc.utcParts(label - NS_PER_S), second: 60 } : enc.utcParts(label);
    const sec = Number(floorDiv(t, NS_PER_S));
    const unplugged = this.active('antenna_unplugged', t) !== undefined;
    const shorted = this.active('antenna_short', t) !== undefined;
    const usedSats = this.tracked(t).slice(0, used);
    const hdop = used > 0 ? 0.8 + 6 / (used + 1) : 99;
    const pos = this.reportedPosition(t);
    const f: enc.FixValues = {
      time: u, valid: hasFix, lat: pos.lat, lon: pos.lon, altMsl: pos.altMsl,
      satellitesUsed: used, hdop, pdop: hdop * 1.4, vdop: hdop * 1.1, mode: hasFix ? fixMode : 1,
    };
    const burst: string[] = [enc.rmc(f), enc.gga(f), enc.gsa(f.mode, hasFix ? usedSats.map((s) => s.prn) : [], f.pdop, f.hdop, f.vdop)];
    if (sec % 5 === 0) {
      const jam = this.active('jamming', t)?.value ?? 0;
      const sky = unplugged || shorted ? [] : this.sats.map((s) => {
        // One draw per satellite above 10 degrees, jammed or not, so the stream does not shift.
        const snr = s.elevation > 10 ? s.baseSnr - jam + this.rng.normal() : undefined;
        const lost = jam > 0 && s.baseSnr - jam < TRACK_MIN_DBHZ;
        return { prn: s.prn, elevation: s.elevation, azimuth: s.azimuth, snr: lost ? undefined : snr };
      });
      burst.push(...enc.gsv(sky));
    }
    burst.push(enc.zda(u));
    burst.push(enc.pgtop(shorted ? 1 : unplugged ? 2 : 3));

    // Deliver each sentence when its last byte arrives.
    const delayMs = this.opts.nmeaDelayMs + this.rng.uniform(-this.opts.nmeaJitterMs, this.opts.nmeaJitterMs);
    const bytesPerMs = this.opts.baud / 10 / 1000;
    let at = delayMs;
    for (const s of burst) {
      at += s.length / bytesPerMs;
      const due = t + BigInt(Math.round(at * 1e6));
      this.deliver(due, s);
      this.stats.sentences++;
    }
  }

  /**
   * The UTC label of true (continuous) time t. The true clock started at UTC and runs on through leap
   * seconds; the receiver's labels insert 23:59:60 (or skip 23:59:59) as the table says.
   */
  label(t: Nanos): { posix: Nanos; leap: boolean } {
    const table = this.opts.leapTable;
    if (!table || this.startT === undefined) return { posix: t, leap: false };
    let shift = 0n;
    for (let i = 1; i < table.entries.length; i++) {
      const e = table.entries[i]!;
      if (e.at <= this.startT) continue;
      const inserted = e.taiUtc > table.entries[i - 1]!.taiUtc;
      if (inserted) {
        const at = e.at + shift; // true time at which 23:59:60 begins
        if (t < at) break;
        if (t < at + NS_PER_S) return { posix: e.at + (t - at), leap: true };
        shift += NS_PER_S;
      } else {
        const at = e.at - NS_PER_S + shift; // 23:59:59 never happens
        if (t < at) break;
        shift -= NS_PER_S;
      }
    }
    return { posix: t - shift, leap: false };
  }

  private deliver(dueTrue: Nanos, chunk: string): void {
    const delay = Number(dueTrue - this.clock.now()) / 1e6;
    const h = this.clock.setTimeout(() => {
      this.pending = this.pending.filter((x) => x !== h);
      this.stats.bytes += chunk.length;
      this.sinks.bytes(chunk, this.osc.localAt(this.clock.now()));
    }, Math.max(0, delay));
    this.pending.push(h);
  }

  private sendGarbage(t: Nanos, bytesPerSecond: number): void {
    const n = Math.max(1, Math.round(bytesPerSecond || 64));
    let s = '';
    for (let i = 0; i < n; i++) {
      const r = this.rng.next();
      // Mostly binary noise, with the odd '$' and line end to tempt the framer.
      s += r < 0.03 ? '$' : r < 0.05 ? '\n' : String.fromCharCode(this.rng.int(0, 255));
    }
    this.stats.garbageBytes += n;
    this.deliver(t + 100_000_000n, s);
  }
}
