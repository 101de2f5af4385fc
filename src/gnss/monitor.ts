/**
 * The GNSS monitor (pure): owns the receiver state machine and makes the decisions about it: is there
 * a fix (confirmed recently enough), is the antenna healthy, is the receiver talking. It raises each
 * transition as an event exactly once. Time comes in as arguments: `onBytes`/`onSentence` carry the
 * receive time, `tick(now)` lets silence and staleness be noticed when nothing arrives.
 */
import { type Nanos, NS_PER_S, toIso } from '../time/index.ts';
import type { AgentEvent } from '../status/events.ts';
import { LineFramer } from './framer.ts';
import { parseSentence, type NmeaErrorKind, type Sentence } from './nmea.ts';
import { Receiver, FixMode, type GnssState, type ReceiverOutput, type ExternalFix, type SatelliteView } from './receiver.ts';

export interface GnssMonitorOptions {
  fixLostAfterS: number;
  silenceAfterS: number;
  externalAntenna: boolean;
  minValidDate: Nanos;
}

export interface LinkStats {
  bytes: number;
  lines: number;
  sentences: number;
  rejected: Partial<Record<NmeaErrorKind, number>>;
  junkBytes: number;
  outages: number;
}

export interface GnssSnapshot {
  fix: boolean;
  mode: FixMode;
  fixAgeS: number | undefined;
  utc: Nanos | undefined;
  utcAgeS: number | undefined;
  state: GnssState;
  connected: boolean;
  silent: boolean;
  lastDataAgeS: number | undefined;
  link: LinkStats;
  antennaFault: boolean;
  /** Seconds since the receiver's labels last jumped (a discontinuity, however short). */
  timeJumpAgeS: number | undefined;
}

/** Whether label b follows label a as the local clock says it should (within half a second, and within
 * an hour: beyond that the local oscillator's own drift could pass half a second). A leap second
 * 23:59:60 shares its POSIX time with the 00:00:00 after it: counted as the second it is. */
function continues(a: { utc: Nanos; rx: Nanos; leap: boolean }, b: { utc: Nanos; rx: Nanos; leap: boolean }): boolean | undefined {
  const dLabel = Number(b.utc - a.utc) / 1e9 + (a.leap && !b.leap ? 1 : 0);
  const dRx = Number(b.rx - a.rx) / 1e9;
  if (!(dRx > 0 && dRx < 3600)) return undefined; // cannot tell
  return Math.abs(dLabel - dRx) <= 0.5;
}

const ageS = (now: Nanos, t: Nanos | undefined) => (t === undefined ? undefined : Number(now - t) / 1e9);

/** Where the monitor's outputs go, fixed at construction (the timing path wires them to the discipline). */
export interface GnssEdges {
  /** Every framed line from onBytes, as received (checksum and all, valid or not), without its end. */
  line?(line: string, rx: Nanos): void;
  /** Every parsed sentence. */
  sentence?(s: Sentence, rx: Nanos): void;
  /** Every receiver output (epochs, MTK acknowledgements, rejected dates). */
  output?(o: ReceiverOutput, rx: Nanos): void;
  /** Each new second label, where it is first seen (the discipline pairs it with a PPS edge). */
  label?(utc: Nanos, leapSecond: boolean, fixValid: boolean, rx: Nanos): void;
}

export class GnssMonitor {
  readonly receiver: Receiver;
  private framer = new LineFramer();
  private hasFix = false;
  private antennaFault = false;
  private connected = false;
  private silent = false;
  private silentSince: Nanos | undefined;
  private lastBytesAt: Nanos | undefined;
  private lastEpochUtc: Nanos | undefined;
  private lastEpochRx: Nanos | undefined;
  private lastEpochLeap = false;
  /** The last label before the current discontinuity, and when the last one was seen. */
  private beforeJump: { utc: Nanos; rx: Nanos; leap: boolean } | undefined;
  private lastJumpAt: Nanos | undefined;
  /** Fix mode and satellites of the last completed epoch: fix decisions are taken on whole seconds,
   * not on the first sentence of one. */
  private epochMode: FixMode = FixMode.Unknown;
  private epochUsed = 0;
  readonly link: LinkStats = { bytes: 0, lines: 0, sentences: 0, rejected: {}, junkBytes: 0, outages: 0 };
  constructor(private readonly opts: GnssMonitorOptions, private readonly emit: (e: AgentEvent) => void, private readonly edges: GnssEdges = {}) {
    this.receiver = new Receiver({ minValidDate: opts.minValidDate });
  }

  connectedTo(device: string, now: Nanos): void {
    if (!this.connected) {
      this.connected = true;
      this.emit({ type: 'receiverConnected', at: now, device });
    }
  }

  disconnected(reason: string, now: Nanos): void {
    if (this.connected) {
      this.connected = false;
      this.link.outages++;
      this.emit({ type: 'receiverDisconnected', at: now, reason });
    }
    this.framer = new LineFramer();
  }

  /** Raw bytes from a serial line or the simulator. */
  onBytes(chunk: Buffer | string, rx: Nanos): void {
    this.link.bytes += chunk.length;
    this.noteData(rx);
    const before = this.framer.stats.junkBytes;
    for (const line of this.framer.push(chunk)) {
      this.link.lines++;
      this.edges.line?.(line, rx);
      const r = parseSentence(line);
      if (!r.ok) {
        this.link.rejected[r.error.kind] = (this.link.rejected[r.error.kind] ?? 0) + 1;
        continue;
      }
      this.onSentence(r.sentence, rx);
    }
    this.link.junkBytes += this.framer.stats.junkBytes - before;
  }

  /** A parsed sentence (from onBytes, or from a source that parses for us). */
  onSentence(s: Sentence, rx: Nanos): void {
    this.link.sentences++;
    this.noteData(rx);
    this.edges.sentence?.(s, rx);
    for (const o of this.receiver.apply(s, rx)) this.handle(o, rx);
    this.checkLabel(rx);
    this.evaluate(rx);
  }

  /** A fix decoded elsewhere (gpsd's TPV): applied to the receiver state as an epoch of its own. */
  onExternalFix(fix: ExternalFix, rx: Nanos): void {
    this.noteData(rx);
    for (const o of this.receiver.applyFix(fix, rx)) this.handle(o, rx);
    this.checkLabel(rx);
    this.tick(rx);
  }

  /** A sky view decoded elsewhere (gpsd's SKY). */
  onExternalSky(satellites: SatelliteView[], rx: Nanos, dops: { pdop?: number; hdop?: number; vdop?: number }): void {
    this.noteData(rx);
    this.receiver.applySky(satellites, rx, dops);
  }

  /** Something other than NMEA bytes showed the receiver is alive (a gpsd report). */
  noteData(rx: Nanos): void {
    this.lastBytesAt = rx;
    if (this.silent) {
      this.silent = false;
      const outage = this.silentSince !== undefined ? Number(rx - this.silentSince) / 1e9 : 0;
      this.emit({ type: 'receiverResumed', at: rx, outageS: outage });
    }
  }

  handle(o: ReceiverOutput, rx: Nanos): void {
    this.edges.output?.(o, rx);
    switch (o.kind) {
      case 'dateRejected':
        this.emit({ type: 'dateRejected', at: rx, date: o.date });
        break;
      case 'epoch': {
        this.epochMode = o.epoch.mode;
        this.epochUsed = o.epoch.satellitesUsed;
        break;
      }
      default:
        break;
    }
  }

  /**
   * Each new second label must advance as the local clock does: a label that moves by a different
   * number of seconds than the time between the sentences that carried them is a jump (a receiver
   * bug, a rollover, spoofing). Compared where each label is first seen, so reception delays cancel.
   * One discontinuity is one event: labels that come back to the chain from before the jump (a one-off
   * wrong label, or the end of a jump) are a return, not a second jump; the discipline reports how a
   * jump it refused ended.
   */
  checkLabel(rx: Nanos): void {
    const st = this.receiver.state;
    const utc = st.utc;
    if (utc === undefined || (utc === this.lastEpochUtc && st.utcLeapSecond === this.lastEpochLeap)) return;
    const here = { utc, rx, leap: st.utcLeapSecond };
    const last = this.lastEpochUtc !== undefined && this.lastEpochRx !== undefined ? { utc: this.lastEpochUtc, rx: this.lastEpochRx, leap: this.lastEpochLeap } : undefined;
    if (last && continues(last, here) === false) {
      if (this.beforeJump && continues(this.beforeJump, here) === true) {
        this.beforeJump = undefined; // back on the chain the jump left
      } else {
        // A chain too old to judge by is replaced by the one this jump leaves.
        if (!this.beforeJump || continues(this.beforeJump, here) === undefined) this.beforeJump = last;
        this.lastJumpAt = rx;
        const dRx = Number(rx - last.rx) / 1e9;
        this.emit({ type: 'timeJump', at: rx, expected: toIso(last.utc + BigInt(Math.round(dRx)) * NS_PER_S), got: toIso(utc) });
      }
    }
    this.lastEpochUtc = utc;
    this.lastEpochLeap = st.utcLeapSecond;
    this.lastEpochRx = rx;
    this.edges.label?.(utc, st.utcLeapSecond, st.mode >= FixMode.Fix2D, rx);
  }

  /** Re-evaluates the derived states; call on every input and periodically. */
  tick(now: Nanos): void {
    if (this.connected && !this.silent && this.lastBytesAt !== undefined &&
      Number(now - this.lastBytesAt) / 1e9 >= this.opts.silenceAfterS) {
      this.silent = true;
      this.silentSince = this.lastBytesAt;
      this.emit({ type: 'receiverSilent', at: now, silentS: Number(now - this.lastBytesAt) / 1e9 });
    }
    this.evaluate(now);
  }

  private evaluate(now: Nanos): void {
    const st = this.receiver.state;
    const fresh = st.lastFixAt !== undefined && Number(now - st.lastFixAt) / 1e9 < this.opts.fixLostAfterS;
    const fix = this.epochMode >= FixMode.Fix2D && fresh;
    if (fix !== this.hasFix) {
      this.hasFix = fix;
      if (fix) this.emit({ type: 'fixAcquired', at: now, mode: this.epochMode, satellitesUsed: this.epochUsed });
      else this.emit({ type: 'fixLost', at: now, reason: fresh ? `receiver reports ${FixMode[this.epochMode]}` : `no fix for ${this.opts.fixLostAfterS} s` });
    }
    const fault = st.antenna === 'shorted' || (this.opts.externalAntenna && st.antenna === 'internal');
    if (fault !== this.antennaFault) {
      this.antennaFault = fault;
      this.emit({ type: fault ? 'antennaFault' : 'antennaOk', at: now, antenna: st.antenna });
    }
  }

  snapshot(now: Nanos): GnssSnapshot {
    const st = this.receiver.state;
    return {
      fix: this.hasFix, mode: st.mode, fixAgeS: ageS(now, st.lastFixAt), utc: st.utc, utcAgeS: ageS(now, st.lastTimeAt),
      state: st, connected: this.connected, silent: this.silent, lastDataAgeS: ageS(now, this.lastBytesAt),
      link: this.link, antennaFault: this.antennaFault, timeJumpAgeS: ageS(now, this.lastJumpAt),
    };
  }
}
