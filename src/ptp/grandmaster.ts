/**
 * The PTP grandmaster core (pure, driven by timers and received messages): IEEE 1588-2008 default
 * profile, E2E delay mechanism, two-step Sync with a Follow_Up carrying the precise origin timestamp,
 * a Delay_Resp to every valid Delay_Req, Announce with the clock's quality from Status, and answers to
 * Management GETs for the data sets pmc asks for. Grandmaster-only: a better master heard on the domain
 * is reported, never obeyed. Time comes in as arguments (TAI nanoseconds); the adapter does the I/O.
 */
import {
  MSG, MSG_NAMES, MGMT_ACTION, MGMT_ID, MGMT_ERROR, FLAG_TWO_STEP, FLAG_LEAP59, FLAG_LEAP61, FLAG_UTC_OFFSET_VALID, FLAG_PTP_TIMESCALE,
  FLAG_TIME_TRACEABLE, FLAG_FREQ_TRACEABLE, TIME_SOURCE_GNSS, TIME_SOURCE_INTERNAL_OSCILLATOR, decode, encodeTimed, encodeDelayResp,
  encodeAnnounce, encodeManagement, ptpTime, identityHex, writePortIdentity, type PortIdentity, type ClockQuality, type HeaderFields,
  type AnnounceBody, type Decoded, type Header, type ManagementBody,
} from './codec.ts';
import type { Status } from '../status/status.ts';
import { RateLimiter, PerSecondCap } from '../net/ratelimit.ts';

export interface GrandmasterOptions {
  clockIdentity: Buffer;
  domain: number;
  priority1: number;
  priority2: number;
  logAnnounceInterval: number;
  logSyncInterval: number;
  logMinDelayReqInterval: number;
  announceReceiptTimeout: number;
  /** Management answers per second at most (the rest are dropped and counted). */
  managementPerSecond: number;
  /** Foreign masters remembered at most: a new identity while the table is full is counted, not kept
   * (the table empties as silent masters time out). */
  maxForeignMasters: number;
  /** Delay_Resp per second at most, whoever asks (each goes to the whole segment by multicast). */
  delayRespPerSecond: number;
}

/** What Announce and the data sets say about the clock: Status in PTP's words. */
export interface TimeProperties {
  quality: ClockQuality;
  currentUtcOffset: number;
  utcOffsetValid: boolean;
  leap59: boolean;
  leap61: boolean;
  timeTraceable: boolean;
  frequencyTraceable: boolean;
  timeSource: number;
}

/** offsetScaledLogVariance (7.6.3.3) from a one-sigma time error in ns; 0xFFFF when unknown. */
export function scaledLogVariance(sigmaNs: number | null): number {
  if (sigmaNs === null || !(sigmaNs > 0)) return 0xffff;
  const v = Math.round(Math.log2((sigmaNs * 1e-9) ** 2) * 256) + 0x8000;
  return Math.min(0xfffe, Math.max(0, v));
}

/** Traceable while synchronized (Status's one rule, which is also what gives clockClass 6 or 7); the
 * variance from the servo's own sigma, which, unlike the error estimate, holds no slew still to do. */
export function timePropertiesFrom(s: Status, fallbackUtcOffset: number): TimeProperties {
  const d = s.discipline;
  const traceable = d.synchronized;
  return {
    quality: {
      clockClass: d.ptpClockClass, clockAccuracy: d.ptpClockAccuracy,
      offsetScaledLogVariance: traceable ? scaledLogVariance(d.sigmaNs) : 0xffff,
    },
    currentUtcOffset: d.taiUtcS ?? fallbackUtcOffset, utcOffsetValid: d.taiUtcS !== null,
    leap61: d.leapIndicator === 1, leap59: d.leapIndicator === 2, timeTraceable: traceable, frequencyTraceable: traceable,
    timeSource: d.everLocked ? TIME_SOURCE_GNSS : TIME_SOURCE_INTERNAL_OSCILLATOR,
  };
}

export interface Outgoing {
  /** event messages go to port 319, general ones to 320 */
  port: 'event' | 'general';
  msg: Buffer;
  /** Sync only: the adapter stamps the send and calls followUp(sequenceId, t). */
  sync?: number;
}

export interface ForeignMaster {
  identity: string;
  domain: number;
  priority1: number;
  clockClass: number;
  clockAccuracy: number;
  priority2: number;
  better: boolean;
  lastSeenNs: bigint;
  announces: number;
}

export type PtpEvent = { kind: 'betterMaster'; master: ForeignMaster } | { kind: 'betterMasterGone'; identity: string };

export interface PtpCounters {
  sent: Record<string, number>;
  received: Record<string, number>;
  malformed: Record<string, number>;
  otherDomain: number;
  managementDropped: number;
  /** Delay_Req not answered: over the asking port's rate, or over delayRespPerSecond. */
  delayReqDropped: number;
  /** Announces from new foreign masters while the table was full (dropped, or a worse master dropped
   * to make room for a better one). */
  foreignDropped: number;
  /** Announces naming our own clock as grandmaster (a boundary clock passing ours on, or a spoof). */
  ownGrandmaster: number;
}

/** The BMCA data set comparison (9.3.4) between two announced clocks, for grandmasters one hop away:
 * negative if `a` is better. */
export function compareClocks(a: { priority1: number; quality: ClockQuality; priority2: number; identity: Buffer },
  b: { priority1: number; quality: ClockQuality; priority2: number; identity: Buffer }): number {
  return (a.priority1 - b.priority1) || (a.quality.clockClass - b.quality.clockClass) || (a.quality.clockAccuracy - b.quality.clockAccuracy) ||
    (a.quality.offsetScaledLogVariance - b.quality.offsetScaledLogVariance) || (a.priority2 - b.priority2) || Buffer.compare(a.identity, b.identity);
}

const PORT_STATE_MASTER = 6;

export class GrandmasterCore {
  readonly port: PortIdentity;
  private seq = { sync: 0, announce: 0 };
  private props: TimeProperties;
  readonly counters: PtpCounters = { sent: {}, received: {}, malformed: {}, otherDomain: 0, managementDropped: 0, delayReqDropped: 0, foreignDropped: 0, ownGrandmaster: 0 };
  readonly foreign = new Map<string, ForeignMaster>();
  private readonly mgmtCap: PerSecondCap;
  private readonly delayCap: PerSecondCap;
  /** Per asking port: a compliant slave asks once per 2^logMinDelayReqInterval s on average (randomised
   * up to twice that): it may ask twice as often, in bursts of eight. A bounded table (the NTP server's
   * limiter), so random identities cost a slot each and evict the oldest. */
  private readonly perPort: RateLimiter;
  /** How many foreign masters are better than us now: the events report the set becoming non-empty
   * and empty again, so a flood of identities is one event pair, not two events per identity. */
  private betterCount = 0;

  constructor(readonly o: GrandmasterOptions, initial: TimeProperties, private readonly onEvent: (e: PtpEvent) => void = () => {}) {
    this.port = { clockIdentity: o.clockIdentity, portNumber: 1 };
    this.props = initial;
    this.perPort = new RateLimiter({ intervalS: 2 ** o.logMinDelayReqInterval / 2, burst: 8, slots: 4096 });
    this.mgmtCap = new PerSecondCap(o.managementPerSecond);
    this.delayCap = new PerSecondCap(o.delayRespPerSecond);
  }

  get properties(): TimeProperties {
    return this.props;
  }

  /** The clock's quality changed (from Status, once a second): the next Announce carries it. */
  setProperties(p: TimeProperties): void {
    this.props = p;
  }

  private flags(): number {
    const p = this.props;
    return (p.leap61 ? FLAG_LEAP61 : 0) | (p.leap59 ? FLAG_LEAP59 : 0) | (p.utcOffsetValid ? FLAG_UTC_OFFSET_VALID : 0) |
      FLAG_PTP_TIMESCALE | (p.timeTraceable ? FLAG_TIME_TRACEABLE : 0) | (p.frequencyTraceable ? FLAG_FREQ_TRACEABLE : 0);
  }

  private h(messageType: number, sequenceId: number, logMessageInterval: number, flags = 0): HeaderFields {
    return { messageType, domainNumber: this.o.domain, flags, sourcePortIdentity: this.port, sequenceId, logMessageInterval };
  }

  private count(dir: 'sent' | 'received', type: number): void {
    const k = MSG_NAMES[type] ?? `type${type}`;
    this.counters[dir][k] = (this.counters[dir][k] ?? 0) + 1;
  }

  announceBody(taiNs: bigint): AnnounceBody {
    const p = this.props;
    return {
      originTimestamp: ptpTime(taiNs), currentUtcOffset: p.currentUtcOffset, grandmasterPriority1: this.o.priority1,
      grandmasterClockQuality: p.quality, grandmasterPriority2: this.o.priority2, grandmasterIdentity: this.o.clockIdentity,
      stepsRemoved: 0, timeSource: p.timeSource,
    };
  }

  announce(taiNs: bigint): Outgoing {
    const msg = encodeAnnounce(this.h(MSG.ANNOUNCE, this.seq.announce++ & 0xffff, this.o.logAnnounceInterval, this.flags()), this.announceBody(taiNs));
    this.count('sent', MSG.ANNOUNCE);
    return { port: 'general', msg };
  }

  /** A two-step Sync (origin timestamp zero; the precise one follows). */
  sync(): Outgoing {
    const seq = this.seq.sync++ & 0xffff;
    const msg = encodeTimed(this.h(MSG.SYNC, seq, this.o.logSyncInterval, FLAG_TWO_STEP), { seconds: 0n, nanoseconds: 0 });
    this.count('sent', MSG.SYNC);
    return { port: 'event', msg, sync: seq };
  }

  /** The Follow_Up of Sync `seq`, sent at `txTaiNs`. */
  followUp(seq: number, txTaiNs: bigint): Outgoing {
    const msg = encodeTimed(this.h(MSG.FOLLOW_UP, seq, this.o.logSyncInterval), ptpTime(txTaiNs));
    this.count('sent', MSG.FOLLOW_UP);
    return { port: 'general', msg };
  }

  /** A received datagram, stamped on arrival (`rxTaiNs`). Returns what to send back. */
  receive(buf: Buffer, rxTaiNs: bigint): Outgoing[] {
    const d: Decoded = decode(buf);
    if (!d.ok) {
      this.counters.malformed[d.reason] = (this.counters.malformed[d.reason] ?? 0) + 1;
      return [];
    }
    const h = d.header;
    // Our own multicast coming back (loopback of the group) is not a message to us.
    if (h.sourcePortIdentity.clockIdentity.equals(this.o.clockIdentity)) return [];
    this.count('received', h.messageType);
    if (h.domainNumber !== this.o.domain) {
      this.counters.otherDomain++;
      return [];
    }
    switch (d.kind) {
      case 'delay_req': {
        if (!this.allowDelayResp(h, rxTaiNs)) {
          this.counters.delayReqDropped++;
          return [];
        }
        const resp = encodeDelayResp({ ...this.h(MSG.DELAY_RESP, h.sequenceId, this.o.logMinDelayReqInterval), correction: h.correction }, ptpTime(rxTaiNs), h.sourcePortIdentity);
        this.count('sent', MSG.DELAY_RESP);
        return [{ port: 'general', msg: resp }];
      }
      case 'announce':
        this.foreignAnnounce(d.header.domainNumber, d.announce, rxTaiNs);
        return [];
      case 'management':
        return this.management(h, d.management, rxTaiNs);
      default:
        return [];
    }
  }

  /** Whether a Delay_Req may be answered: within its port's rate and the overall cap. */
  private allowDelayResp(h: Header, nowNs: bigint): boolean {
    const key = `${identityHex(h.sourcePortIdentity.clockIdentity)}/${h.sourcePortIdentity.portNumber}`;
    return this.perPort.allow(key, Number(nowNs / 1000n) / 1e6) && this.delayCap.allow(nowNs);
  }

  private foreignAnnounce(domain: number, a: AnnounceBody, nowNs: bigint): void {
    if (a.grandmasterIdentity.equals(this.o.clockIdentity)) {
      // Our own time passed on by a boundary clock (stepsRemoved > 0), or a spoof of us: not a master
      // to compare with.
      this.counters.ownGrandmaster++;
      return;
    }
    const id = identityHex(a.grandmasterIdentity);
    const better = compareClocks(
      { priority1: a.grandmasterPriority1, quality: a.grandmasterClockQuality, priority2: a.grandmasterPriority2, identity: a.grandmasterIdentity },
      { priority1: this.o.priority1, quality: this.props.quality, priority2: this.o.priority2, identity: this.o.clockIdentity },
    ) < 0;
    const prev = this.foreign.get(id);
    if (!prev && this.foreign.size >= this.o.maxForeignMasters) {
      // Full. A better master still gets in, in place of the longest silent of the worse ones: a table
      // an attacker filled with worse masters must not hide one that would take the segment from us.
      // Once every entry is better, the set is non-empty and the event has been raised: drop.
      const victim = better ? this.stalestWorse() : undefined;
      if (victim === undefined) {
        this.counters.foreignDropped++;
        return;
      }
      this.foreign.delete(victim);
      this.counters.foreignDropped++;
    }
    const f: ForeignMaster = {
      identity: id, domain, priority1: a.grandmasterPriority1, clockClass: a.grandmasterClockQuality.clockClass,
      clockAccuracy: a.grandmasterClockQuality.clockAccuracy, priority2: a.grandmasterPriority2, better, lastSeenNs: nowNs,
      announces: (prev?.announces ?? 0) + 1,
    };
    this.foreign.set(id, f);
    if (better && !prev?.better && this.betterCount++ === 0) this.onEvent({ kind: 'betterMaster', master: f });
    if (!better && prev?.better && --this.betterCount === 0) this.onEvent({ kind: 'betterMasterGone', identity: id });
  }


  /** The identity of the least recently heard foreign master not better than us, if any. */
  private stalestWorse(): string | undefined {
    let id: string | undefined;
    let seen = 0n;
    for (const f of this.foreign.values()) {
      if (!f.better && (id === undefined || f.lastSeenNs < seen)) {
        id = f.identity;
        seen = f.lastSeenNs;
      }
    }
    return id;
  }

  /** Forgets foreign masters not heard for announceReceiptTimeout announce intervals. */
  expire(nowNs: bigint): void {
    const timeout = BigInt(Math.round(this.o.announceReceiptTimeout * 2 ** this.o.logAnnounceInterval * 1e9));
    for (const [id, f] of this.foreign) {
      if (nowNs - f.lastSeenNs > timeout) {
        this.foreign.delete(id);
        if (f.better && --this.betterCount === 0) this.onEvent({ kind: 'betterMasterGone', identity: id });
      }
    }
  }

  private management(h: Header, m: ManagementBody, nowNs: bigint): Outgoing[] {
    const t = m.targetPortIdentity;
    const forUs = (t.clockIdentity.equals(Buffer.alloc(8, 0xff)) || t.clockIdentity.equals(this.o.clockIdentity)) && (t.portNumber === 0xffff || t.portNumber === this.port.portNumber);
    if (!forUs || m.managementId === undefined) return [];
    if (m.action !== MGMT_ACTION.GET && m.action !== MGMT_ACTION.SET && m.action !== MGMT_ACTION.COMMAND) return [];
    if (!this.mgmtCap.allow(nowNs)) {
      this.counters.managementDropped++;
      return [];
    }
    const hops = Math.max(0, m.startingBoundaryHops - m.boundaryHops);
    const header = { ...this.h(MSG.MANAGEMENT, h.sequenceId, 0x7f), transportSpecific: h.transportSpecific };
    const data = m.action === MGMT_ACTION.GET ? this.dataSet(m.managementId) : undefined;
    // Read-only: SET and COMMAND are refused, as is any data set we do not keep.
    const msg = data === undefined
      ? encodeManagement(header, h.sourcePortIdentity, hops, hops, MGMT_ACTION.RESPONSE, m.managementId, Buffer.alloc(0),
        m.action === MGMT_ACTION.GET && m.managementId in ID_NAMES ? MGMT_ERROR.NOT_SUPPORTED : m.action === MGMT_ACTION.GET ? MGMT_ERROR.NO_SUCH_ID : MGMT_ERROR.NOT_SUPPORTED)
      : encodeManagement(header, h.sourcePortIdentity, hops, hops, MGMT_ACTION.RESPONSE, m.managementId, data);
    this.count('sent', MSG.MANAGEMENT);
    return [{ port: 'general', msg }];
  }

  /** The data field of a data set (15.5.3), or undefined if we do not answer for it. */
  dataSet(id: number): Buffer | undefined {
    const p = this.props;
    const q = (b: Buffer, off: number) => {
      b[off] = p.quality.clockClass;
      b[off + 1] = p.quality.clockAccuracy;
      b.writeUInt16BE(p.quality.offsetScaledLogVariance, off + 2);
    };
    switch (id) {
      case MGMT_ID.DEFAULT_DATA_SET: {
        const b = Buffer.alloc(20);
        b[0] = 0x01; // TSC: two-step; not slave-only
        b.writeUInt16BE(1, 2); // numberPorts
        b[4] = this.o.priority1;
        q(b, 5);
        b[9] = this.o.priority2;
        this.o.clockIdentity.copy(b, 10);
        b[18] = this.o.domain;
        return b;
      }
      case MGMT_ID.CURRENT_DATA_SET:
        return Buffer.alloc(18); // stepsRemoved 0, offsetFromMaster 0, meanPathDelay 0: we are the master
      case MGMT_ID.PARENT_DATA_SET: {
        const b = Buffer.alloc(32);
        writePortIdentity(b, 0, { clockIdentity: this.o.clockIdentity, portNumber: 0 });
        b.writeUInt16BE(0xffff, 12); // observedParentOffsetScaledLogVariance: not computed
        b.writeInt32BE(0x7fffffff, 14); // observedParentClockPhaseChangeRate: not computed
        b[18] = this.o.priority1;
        q(b, 19);
        b[23] = this.o.priority2;
        this.o.clockIdentity.copy(b, 24);
        return b;
      }
      case MGMT_ID.TIME_PROPERTIES_DATA_SET: {
        const b = Buffer.alloc(4);
        b.writeInt16BE(p.currentUtcOffset, 0);
        b[2] = this.flags() & 0xff;
        b[3] = p.timeSource;
        return b;
      }
      case MGMT_ID.PORT_DATA_SET: {
        const b = Buffer.alloc(26);
        writePortIdentity(b, 0, this.port);
        b[10] = PORT_STATE_MASTER;
        b.writeInt8(this.o.logMinDelayReqInterval, 11);
        // peerMeanPathDelay (8 octets) zero
        b.writeInt8(this.o.logAnnounceInterval, 20);
        b[21] = this.o.announceReceiptTimeout;
        b.writeInt8(this.o.logSyncInterval, 22);
        b[23] = 1; // delayMechanism: E2E
        b.writeInt8(0, 24); // logMinPdelayReqInterval
        b[25] = 2; // versionNumber
        return b;
      }
      default:
        return undefined;
    }
  }
}

const ID_NAMES: Record<number, string> = Object.fromEntries(Object.entries(MGMT_ID).map(([k, v]) => [v, k]));
