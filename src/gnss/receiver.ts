/**
 * The receiver state machine (pure): folds parsed sentences into one picture of the receiver: fix
 * mode and quality, satellites in view and used, DOPs, position, UTC time with validity rules, antenna
 * status and the age of each datum. Time is an argument (the local receive time of each sentence), so
 * the same code runs on live input, on a replayed capture and in virtual time.
 *
 * Time policy (the same as gpsd's, which the corpus tests check): ZDA sets the date and time even
 * without a fix; RMC sets them only with status A/D; GGA, GLL and GNS carry only a time of day and
 * set the time only once a date is known. On top of that, a time server refuses a date earlier than
 * `minValidDate` (a GPS week-number rollover makes old receivers report dates 1024 weeks in the past,
 * e.g. 1999-08-22) and flags it.
 */
import { type Nanos, fromUtcFields, NS_PER_S } from '../time/index.ts';
import type { Sentence, TimeOfDay, Constellation, Gsa } from './nmea.ts';
import { talkerConstellation } from './nmea.ts';

export enum FixMode { Unknown = 0, NoFix = 1, Fix2D = 2, Fix3D = 3 }

export type AntennaStatus = 'unknown' | 'external' | 'internal' | 'shorted';

export interface SatelliteView {
  constellation: Constellation;
  prn: number;
  elevation: number | undefined;
  azimuth: number | undefined;
  snr: number | undefined;
  used: boolean;
}

/** What a completed epoch looked like: the receiver's report for one UTC time label. */
export interface Epoch {
  /** POSIX time of the labelled second. A leap second 23:59:60 has the POSIX time of the 00:00:00
   * that follows it, and `leapSecond` set: the two are distinct epochs. */
  time: Nanos;
  leapSecond: boolean;
  mode: FixMode;
  lat: number | undefined;
  lon: number | undefined;
  altMsl: number | undefined;
  satellitesUsed: number;
  satellitesInView: number;
}

export interface ExternalFix {
  mode: FixMode;
  utc: Nanos | undefined;
  lat: number | undefined;
  lon: number | undefined;
  altMsl: number | undefined;
}

export interface SkyReport {
  inView: number;
  used: number;
}

export interface GnssState {
  mode: FixMode;
  /** GGA fix quality (0 invalid, 1 GPS, 2 DGPS, ...) if the receiver sends it. */
  quality: number | undefined;
  /** UTC of the current epoch, as labelled by the receiver; undefined until a valid date and time. */
  utc: Nanos | undefined;
  /** The current label is an inserted leap second (23:59:60). */
  utcLeapSecond: boolean;
  /** Local receive time of the sentence that set `utc`. */
  utcReceivedAt: Nanos | undefined;
  lat: number | undefined;
  lon: number | undefined;
  altMsl: number | undefined;
  geoidSep: number | undefined;
  pdop: number | undefined;
  hdop: number | undefined;
  vdop: number | undefined;
  satellites: SatelliteView[];
  satellitesInView: number;
  satellitesUsed: number;
  /** Per constellation: [in view, used]. */
  byConstellation: Partial<Record<Constellation, { inView: number; used: number }>>;
  antenna: AntennaStatus;
  receiverVersion: string | undefined;
  /** Local receive times of the last update of each datum, so stale data is never shown as current. */
  lastSentenceAt: Nanos | undefined;
  lastFixAt: Nanos | undefined;
  lastTimeAt: Nanos | undefined;
  lastSkyAt: Nanos | undefined;
  lastAntennaAt: Nanos | undefined;
  counters: {
    sentences: number;
    rejectedDates: number;
    timeRegressions: number;
  };
  /** The last date refused as implausible, for reporting. */
  lastRejectedDate: string | undefined;
}

export interface ReceiverOptions {
  /** Dates before this cannot be true (rollover); default 2000-01-01. A live agent sets its build date. */
  minValidDate?: Nanos;
}

export type ReceiverOutput =
  | { kind: 'epoch'; epoch: Epoch }
  | { kind: 'sky'; sky: SkyReport }
  | { kind: 'dateRejected'; date: string }
  | { kind: 'antenna'; status: AntennaStatus }
  | { kind: 'mtkAck'; command: number; flag: number }
  | { kind: 'version'; release: string };

const DEFAULT_MIN_DATE = BigInt(Date.UTC(2000, 0, 1)) * 1_000_000n;

function prnConstellation(prn: number, fallback: Constellation): Constellation {
  if (fallback !== 'combined' && fallback !== 'unknown' && fallback !== 'GPS') return fallback;
  if (prn >= 1 && prn <= 32) return 'GPS';
  if ((prn >= 33 && prn <= 64) || (prn >= 152 && prn <= 158)) return 'SBAS';
  if (prn >= 65 && prn <= 96) return 'GLONASS';
  if (prn >= 193 && prn <= 200) return 'QZSS';
  if ((prn >= 201 && prn <= 264) || (prn >= 401 && prn <= 437)) return 'BeiDou';
  if (prn >= 301 && prn <= 336) return 'Galileo';
  return fallback === 'combined' ? 'unknown' : fallback;
}

/** NMEA 4.1 GNSS system IDs. */
function systemIdConstellation(id: number): Constellation {
  switch (id) {
    case 1: return 'GPS';
    case 2: return 'GLONASS';
    case 3: return 'Galileo';
    case 4: return 'BeiDou';
    case 5: return 'QZSS';
    case 6: return 'NavIC';
    default: return 'unknown';
  }
}

const DAY_MS = 86_400_000;
const todMs = (t: TimeOfDay) => ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 + Math.floor(t.nanos / 1e6);
const epochTodMs = (utc: Nanos) => Number((utc / 1_000_000n) % BigInt(DAY_MS));

const satKey = (c: Constellation, prn: number) => `${c}:${prn}`;

export class Receiver {
  private minValidDate: Nanos;
  private date: { year: number; month: number; day: number } | undefined;
  private epochTime: Nanos | undefined;
  private epochOpen = false;
  private epochLeap = false;
  /** Satellites of the sky cycle being gathered, and of the last complete one. */
  private skyCycle = new Map<string, SatelliteView>();
  private skySetsSeen = new Set<string>();
  private usedCycle = new Set<string>();
  private usedCurrent = new Set<string>();
  private lastType: string | undefined;
  private lastGgaTod: string | undefined;
  private lastGgaTalker: string | undefined;
  /** Time of day (ms of the day) the altitude was labelled with: it belongs to that epoch only. */
  private altTodMs: number | undefined;
  readonly state: GnssState;

  constructor(opts: ReceiverOptions = {}) {
    this.minValidDate = opts.minValidDate ?? DEFAULT_MIN_DATE;
    this.state = {
      mode: FixMode.Unknown, quality: undefined, utc: undefined, utcLeapSecond: false, utcReceivedAt: undefined,
      lat: undefined, lon: undefined, altMsl: undefined, geoidSep: undefined,
      pdop: undefined, hdop: undefined, vdop: undefined,
      satellites: [], satellitesInView: 0, satellitesUsed: 0, byConstellation: {},
      antenna: 'unknown', receiverVersion: undefined,
      lastSentenceAt: undefined, lastFixAt: undefined, lastTimeAt: undefined, lastSkyAt: undefined,
      lastAntennaAt: undefined,
      counters: { sentences: 0, rejectedDates: 0, timeRegressions: 0 },
      lastRejectedDate: undefined,
    };
  }

  /** Applies one sentence received at local time `rx`; returns what it completed or changed. */
  apply(s: Sentence, rx: Nanos): ReceiverOutput[] {
    const out: ReceiverOutput[] = [];
    const st = this.state;
    st.counters.sentences++;
    st.lastSentenceAt = rx;
    switch (s.type) {
      case 'RMC':
        if (s.valid) {
          if (s.date) this.setDate(s.date, out);
          if (s.time && s.date) this.setTime(s.time, rx, out);
          if (s.position) {
            this.setPosition(s.position.lat, s.position.lon, rx);
            if (st.satellitesUsed > 3 || st.altMsl !== undefined) this.setMode(FixMode.Fix3D, rx);
            else if (st.mode !== FixMode.Fix3D) this.setMode(FixMode.Fix2D, rx);
          } else {
            this.setMode(FixMode.NoFix, rx);
          }
        } else {
          this.setMode(FixMode.NoFix, rx);
        }
        break;
      case 'ZDA':
        if (s.date) this.setDate(s.date, out);
        if (s.time && s.date) this.setTime(s.time, rx, out);
        break;
      case 'GGA': {
        if (s.time) this.timeOfDay(s.time, rx, out);
        st.quality = s.quality;
        const sats = s.satellitesUsed ?? 0;
        // A receiver that loses lock and keeps repeating the same GGA timestamp has no fix.
        const todKey = s.time ? `${s.time.hour}:${s.time.minute}:${s.time.second}.${s.time.nanos}` : undefined;
        const latched = todKey !== undefined && todKey === this.lastGgaTod && s.talker === this.lastGgaTalker;
        this.lastGgaTod = todKey;
        this.lastGgaTalker = s.talker;
        if (s.hdop !== undefined && s.hdop < 99) st.hdop = s.hdop;
        if (latched) {
          this.setMode(FixMode.NoFix, rx);
        } else if (s.position) {
          this.setPosition(s.position.lat, s.position.lon, rx);
          let mode = FixMode.Fix2D;
          if (s.altMsl !== undefined) {
            st.altMsl = s.altMsl;
            this.altTodMs = s.time ? todMs(s.time) : undefined;
            if (sats >= 4) mode = FixMode.Fix3D;
          }
          if (s.geoidSep !== undefined) st.geoidSep = s.geoidSep;
          if (sats < 3) mode = FixMode.NoFix;
          this.setMode(mode, rx);
        } else {
          this.setMode(FixMode.NoFix, rx);
        }
        break;
      }
      case 'GLL':
        if (s.time) this.timeOfDay(s.time, rx, out);
        if (s.valid && s.position && s.faaMode !== 'N') {
          this.setPosition(s.position.lat, s.position.lon, rx);
          if (st.altMsl !== undefined || st.satellitesUsed > 3) this.setMode(FixMode.Fix3D, rx);
          else if (st.mode < FixMode.Fix2D) this.setMode(FixMode.Fix2D, rx);
        } else {
          this.setMode(FixMode.NoFix, rx);
        }
        break;
      case 'GNS': {
        if (s.time) this.timeOfDay(s.time, rx, out);
        const lead = s.modes[0];
        if (lead === undefined || lead === 'N') {
          this.setMode(FixMode.NoFix, rx);
          break;
        }
        if (s.navStatus === 'U' || s.navStatus === 'V') break;
        if (s.position) {
          this.setPosition(s.position.lat, s.position.lon, rx);
          let mode = FixMode.Fix2D;
          if (s.altMsl !== undefined) {
            st.altMsl = s.altMsl;
            this.altTodMs = s.time ? todMs(s.time) : undefined;
            if ((s.satellitesUsed ?? 0) > 3) mode = FixMode.Fix3D;
          }
          this.setMode(mode, rx);
        } else {
          this.setMode(FixMode.NoFix, rx);
        }
        if (s.hdop !== undefined) st.hdop = s.hdop;
        break;
      }
      case 'GSA':
        this.applyGsa(s, rx);
        break;
      case 'GSV': {
        const talkerC = talkerConstellation(s.talker);
        const setKey = `${s.talker}/${s.signalId ?? 0}`;
        if (s.index === 1) {
          // A set we have already gathered in this cycle starting again means a new sky cycle.
          if (this.skySetsSeen.has(setKey)) {
            this.skyCycle.clear();
            this.skySetsSeen.clear();
          }
          this.skySetsSeen.add(setKey);
        }
        for (const sat of s.sats) {
          const c = prnConstellation(sat.prn, talkerC);
          const key = satKey(c, sat.prn);
          const prev = this.skyCycle.get(key);
          this.skyCycle.set(key, {
            constellation: c, prn: sat.prn,
            elevation: sat.elevation ?? prev?.elevation, azimuth: sat.azimuth ?? prev?.azimuth,
            snr: sat.snr ?? prev?.snr, used: false,
          });
        }
        if (s.index === s.total) {
          this.publishSky(rx);
          out.push({ kind: 'sky', sky: { inView: st.satellitesInView, used: st.satellitesUsed } });
        }
        break;
      }
      case 'PGTOP': {
        const status: AntennaStatus = s.status === 1 ? 'shorted' : s.status === 2 ? 'internal' : 'external';
        st.lastAntennaAt = rx;
        if (status !== st.antenna) {
          st.antenna = status;
          out.push({ kind: 'antenna', status });
        }
        break;
      }
      case 'PMTK001':
        out.push({ kind: 'mtkAck', command: s.command, flag: s.flag });
        break;
      case 'PMTK705':
        st.receiverVersion = s.release;
        out.push({ kind: 'version', release: s.release });
        break;
      default:
        break;
    }
    this.lastType = s.type;
    return out;
  }

  /** A fix reported by another decoder (gpsd's TPV): time already a full UTC instant. */
  applyFix(f: ExternalFix, rx: Nanos): ReceiverOutput[] {
    const out: ReceiverOutput[] = [];
    const st = this.state;
    st.counters.sentences++;
    st.lastSentenceAt = rx;
    if (f.utc !== undefined) {
      if (f.utc < this.minValidDate) {
        const text = new Date(Number(f.utc / 1_000_000n)).toISOString().slice(0, 10);
        st.counters.rejectedDates++;
        st.lastRejectedDate = text;
        out.push({ kind: 'dateRejected', date: text });
      } else {
        this.openEpoch(f.utc, false, rx, out);
      }
    }
    if (f.mode >= FixMode.Fix2D && f.lat !== undefined && f.lon !== undefined) {
      this.setPosition(f.lat, f.lon, rx);
      if (f.altMsl !== undefined) {
        st.altMsl = f.altMsl;
        this.altTodMs = this.epochTime !== undefined ? epochTodMs(this.epochTime) : undefined;
      }
    }
    this.setMode(f.mode, rx);
    return out;
  }

  /** A sky view reported by another decoder (gpsd's SKY). */
  applySky(sats: SatelliteView[], rx: Nanos, dops: { pdop?: number; hdop?: number; vdop?: number } = {}): ReceiverOutput[] {
    const st = this.state;
    st.satellites = sats.map((x) => ({ ...x }));
    st.lastSkyAt = rx;
    if (dops.pdop !== undefined) st.pdop = dops.pdop;
    if (dops.hdop !== undefined) st.hdop = dops.hdop;
    if (dops.vdop !== undefined) st.vdop = dops.vdop;
    this.count();
    return [{ kind: 'sky', sky: { inView: st.satellitesInView, used: st.satellitesUsed } }];
  }

  /** Closes the epoch in progress (end of input) and returns it. */
  finish(): ReceiverOutput[] {
    const out: ReceiverOutput[] = [];
    this.closeEpoch(out);
    return out;
  }

  private applyGsa(s: Gsa, rx: Nanos): void {
    const st = this.state;
    // Multi-constellation receivers send one GSA per system back to back: together they are one list.
    if (this.lastType !== 'GSA') this.usedCycle = new Set();
    const talkerC = s.systemId !== undefined ? systemIdConstellation(s.systemId) : talkerConstellation(s.talker);
    for (const prn of s.prns) this.usedCycle.add(satKey(prnConstellation(prn, talkerC), prn));
    this.usedCurrent = this.usedCycle;
    if (s.pdop !== undefined) st.pdop = s.pdop;
    if (s.hdop !== undefined) st.hdop = s.hdop;
    if (s.vdop !== undefined) st.vdop = s.vdop;
    if (s.fixType === 1) this.setMode(FixMode.NoFix, rx);
    else if (s.fixType === 2 || s.fixType === 3) {
      // Some receivers send a separate GSA per system and mark the ones not in the solution as 1;
      // the best of the group wins.
      if (this.lastType !== 'GSA' || s.fixType > st.mode) this.setMode(s.fixType, rx);
    }
    this.refreshUsed();
  }

  private refreshUsed(): void {
    const st = this.state;
    // A satellite the receiver hears no signal from cannot be in its solution, whatever GSA says
    // (gpsd applies the same rule).
    for (const sat of st.satellites) {
      sat.used = sat.snr !== undefined && sat.snr > 0 && this.usedCurrent.has(satKey(sat.constellation, sat.prn));
    }
    this.count();
  }

  private publishSky(rx: Nanos): void {
    const st = this.state;
    st.satellites = [...this.skyCycle.values()].map((s) => ({ ...s }));
    st.lastSkyAt = rx;
    this.refreshUsed();
  }

  private count(): void {
    const st = this.state;
    const by: GnssState['byConstellation'] = {};
    let used = 0;
    for (const sat of st.satellites) {
      const e = (by[sat.constellation] ??= { inView: 0, used: 0 });
      e.inView++;
      if (sat.used) {
        e.used++;
        used++;
      }
    }
    st.satellitesInView = st.satellites.length;
    st.satellitesUsed = used;
    st.byConstellation = by;
  }

  private setMode(m: FixMode, rx: Nanos): void {
    this.state.mode = m;
    if (m >= FixMode.Fix2D) this.state.lastFixAt = rx;
  }

  private setPosition(lat: number, lon: number, _rx: Nanos): void {
    this.state.lat = lat;
    this.state.lon = lon;
  }

  private setDate(d: { year: number; month: number; day: number }, out: ReceiverOutput[]): void {
    const t = fromUtcFields(d.year, d.month, d.day, 0, 0, 0);
    if (t < this.minValidDate) {
      const text = `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
      this.state.counters.rejectedDates++;
      this.state.lastRejectedDate = text;
      this.date = undefined;
      out.push({ kind: 'dateRejected', date: text });
      return;
    }
    this.date = d;
  }

  /**
   * A time of day from GGA, GLL or GNS: usable only once a date is known, and labelled with the last
   * date the receiver sent. Only here can the date be a day behind: just after midnight the time of day
   * has wrapped and the date (from the RMC or ZDA of the second before) has not. The date is rolled
   * forward only across a real midnight: when the rolled label lands shortly after the current epoch
   * (within an hour). Anything else is labelled as the receiver said, so one bad sentence can never
   * move every later label by a day.
   */
  private timeOfDay(t: TimeOfDay, rx: Nanos, out: ReceiverOutput[]): void {
    if (!this.date) return;
    let utc = fromUtcFields(this.date.year, this.date.month, this.date.day, t.hour, t.minute, t.second, t.nanos);
    if (this.epochTime !== undefined && utc < this.epochTime) {
      const rolled = utc + 86_400n * NS_PER_S;
      if (rolled >= this.epochTime && rolled - this.epochTime <= 3600n * NS_PER_S) utc = rolled;
    }
    this.openEpoch(utc, t.second === 60, rx, out);
  }

  /** A time of day with its date in the same sentence (RMC, ZDA): the label is exactly what it says. */
  private setTime(t: TimeOfDay, rx: Nanos, out: ReceiverOutput[]): void {
    if (!this.date) return;
    const utc = fromUtcFields(this.date.year, this.date.month, this.date.day, t.hour, t.minute, t.second, t.nanos);
    this.openEpoch(utc, t.second === 60, rx, out);
  }

  private openEpoch(utc: Nanos, leap: boolean, rx: Nanos, out: ReceiverOutput[]): void {
    if (utc !== this.epochTime || leap !== this.epochLeap) {
      if (this.epochTime !== undefined && utc < this.epochTime) this.state.counters.timeRegressions++;
      this.closeEpoch(out);
      this.epochTime = utc;
      this.epochLeap = leap;
      this.epochOpen = true;
    }
    this.state.utc = utc;
    this.state.utcLeapSecond = leap;
    this.state.utcReceivedAt = rx;
    this.state.lastTimeAt = rx;
  }

  private closeEpoch(out: ReceiverOutput[]): void {
    if (!this.epochOpen || this.epochTime === undefined) return;
    const st = this.state;
    this.epochOpen = false;
    out.push({
      kind: 'epoch',
      epoch: {
        // A position is reported only with the fix that gives it (no stale position as current).
        time: this.epochTime, leapSecond: this.epochLeap, mode: st.mode,
        lat: st.mode >= FixMode.Fix2D ? st.lat : undefined,
        lon: st.mode >= FixMode.Fix2D ? st.lon : undefined,
        altMsl: st.mode === FixMode.Fix3D && this.altTodMs === epochTodMs(this.epochTime) ? st.altMsl : undefined,
        satellitesUsed: st.satellitesUsed, satellitesInView: st.satellitesInView,
      },
    });
  }
}
