/**
 * The upstream NTP client (pure): one object per configured server. It says when to poll, builds the
 * client-mode request, checks each reply against the request it answers, and keeps what RFC 5905's
 * peer process keeps: the reach register, a clock filter of the last eight samples (the one with the
 * least delay wins), and the server's root distance. Times come in as arguments on the served clock
 * (nanoseconds); nothing here reads a clock or opens a socket.
 *
 * Offsets are "server - served clock", so a server that agrees with us reads near 0 and a GPS jump
 * refused by the integrity gate shows up as the upstream majority disagreeing with the receiver.
 *
 * Privacy and robustness follow chrony's client: the request's transmit timestamp is a random cookie,
 * not our time (RFC 9109 section 4; the real send time is kept here), so only a reply to that exact
 * request is believed and an off-path attacker cannot forge one without seeing the request. A kiss
 * o' death RATE doubles the poll interval; DENY and RSTR stop polling that server.
 */
import { type Nanos, NS_PER_S, fromNtp64, fromNtpShort } from '../time/index.ts';
import { decodePacket, encodeHeader, NTP_HEADER, refIdToAscii } from '../ntp/packet.ts';

/** Frequency tolerance assumed for dispersion growth (RFC 5905 PHI: 15 ppm). */
const PHI = 15e-6;
/** Clock filter length (RFC 5905 NSTAGE). */
const NSTAGE = 8;
/** Requests of the initial burst, and their spacing (s), as chrony's iburst. */
const IBURST_COUNT = 4;
const IBURST_SPACING_S = 2;
/** A request not answered within this long is lost (under the iburst spacing, so a slow reply is never
 * overtaken by the next request). */
const TIMEOUT_S = 1.5;
/** A server whose root distance exceeds this vouches for nothing (RFC 5905's MAXDIST: 1 s); a majority
 * of such servers could not tell one second from the next. */
export const MAX_ROOT_DISTANCE_NS = 1e9;

export interface UpstreamOptions {
  /** What the operator wrote (host or host:port), shown everywhere. */
  name: string;
  /** log2 of the shortest and longest poll interval, seconds (6: 64 s, 10: 1024 s). */
  minPollLog2: number;
  maxPollLog2: number;
  iburst: boolean;
}

export interface UpstreamSample {
  /** Served clock time of the sample (mid-point of the exchange). */
  at: Nanos;
  /** server - served clock (ns), delay of the round trip (ns), and this sample's dispersion (s). */
  offsetNs: number;
  delayNs: number;
  dispersionS: number;
}

export type ReplyVerdict =
  | { ok: true; sample: UpstreamSample }
  | { ok: false; reason: 'unexpected' | 'malformed' | 'mode' | 'unsynchronized' | 'kiss' | 'bogus-time' | 'duplicate'; detail: string };

export type UpstreamState = 'polling' | 'unreachable' | 'refused';

export interface UpstreamSnapshot {
  name: string;
  state: UpstreamState;
  /** The 8-bit reach register: bit 0 is the last poll. */
  reach: number;
  pollS: number;
  stratum: number | undefined;
  refId: string | undefined;
  leap: number | undefined;
  /** The clock filter's pick (least delay of the last eight), as of now; undefined before any sample. */
  offsetNs: number | undefined;
  delayNs: number | undefined;
  jitterNs: number | undefined;
  /** Half-width of the interval the true time lies in (ns), from delay, dispersion, the server's own root
   * delay and dispersion, and jitter: the root distance, as RFC 5905 defines it. */
  rootDistanceNs: number | undefined;
  lastSampleAgeS: number | undefined;
  counters: { sent: number; received: number; rejected: Record<string, number> };
  kiss: string | undefined;
  /** Whether it may vote in the selection: it answered one of the last eight polls, its last reply
   * said it is synchronized, and its root distance is at most MAX_ROOT_DISTANCE_NS. */
  fit: boolean;
  /** Why not, in words (empty when fit). */
  unfit: string;
}

export class UpstreamPeer {
  private pollLog2: number;
  private nextPoll: Nanos | undefined;
  private burstLeft: number;
  private outstanding: { cookie: bigint; sentAt: Nanos } | undefined;
  private lastCookieAnswered: bigint | undefined;
  private reachReg = 0;
  private goodRun = 0;
  private filter: UpstreamSample[] = [];
  private server: { stratum: number; refId: string; leap: number; rootDelayS: number; rootDispersionS: number } | undefined;
  private refused = false;
  /** Its last reply said it is not synchronized: its earlier samples vouch for nothing now. */
  private unsynchronized = false;
  private kiss: string | undefined;
  readonly counters = { sent: 0, received: 0, rejected: {} as Record<string, number> };

  constructor(private readonly o: UpstreamOptions, private readonly random64: () => bigint) {
    this.pollLog2 = o.minPollLog2;
    this.burstLeft = o.iburst ? IBURST_COUNT : 1;
  }

  /** Whether a request is due at `now` (served clock). Also ages out a request nobody answered. */
  due(now: Nanos): boolean {
    if (this.refused) return false;
    this.checkTimeout(now);
    return this.nextPoll === undefined || now >= this.nextPoll;
  }

  /** The 48-byte request to send now; shifts the reach register (a poll is counted when it is sent, as
   * RFC 5905 does, and a reply sets bit 0). */
  request(now: Nanos): Buffer {
    const cookie = this.random64();
    this.outstanding = { cookie, sentAt: now };
    this.counters.sent++;
    this.reachReg = (this.reachReg << 1) & 0xff;
    if (this.burstLeft > 1) {
      this.burstLeft--;
      this.nextPoll = now + BigInt(IBURST_SPACING_S) * NS_PER_S;
    } else {
      this.burstLeft = 0;
      this.nextPoll = now + (1n << BigInt(this.pollLog2)) * NS_PER_S;
    }
    const out = Buffer.alloc(NTP_HEADER);
    encodeHeader({
      li: 0, version: 4, mode: 3, stratum: 0, poll: this.pollLog2, precision: 0, rootDelay: 0, rootDispersion: 0,
      refId: 0, refTime: 0n, origin: 0n, receive: 0n, transmit: cookie,
    }, out);
    return out;
  }

  /** Whether a datagram echoes our outstanding request's cookie (its origin timestamp). */
  answers(b: Uint8Array): boolean {
    if (!this.outstanding || b.length < NTP_HEADER) return false;
    return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(24) === this.outstanding.cookie;
  }

  /** A datagram from this server, received at `rx` (served clock). */
  onReply(b: Uint8Array, rx: Nanos): ReplyVerdict {
    const no = (reason: Extract<ReplyVerdict, { ok: false }>['reason'], detail: string): ReplyVerdict => {
      this.counters.rejected[reason] = (this.counters.rejected[reason] ?? 0) + 1;
      return { ok: false, reason, detail };
    };
    const d = decodePacket(b);
    if (!d.ok) return no('malformed', `${d.reason}: ${d.detail}`);
    const h = d.header;
    const out = this.outstanding;
    if (h.origin === this.lastCookieAnswered) return no('duplicate', 'a second reply to the same request');
    if (!out || h.origin !== out.cookie) return no('unexpected', 'not a reply to our last request');
    if (h.mode !== 4) return no('mode', `mode ${h.mode}`);
    // From here the reply answers our request: it counts as heard, whatever it says.
    this.outstanding = undefined;
    this.lastCookieAnswered = h.origin;
    this.counters.received++;
    if (h.stratum === 0) {
      const code = refIdToAscii(h.refId);
      this.kiss = code;
      if (code === 'RATE') this.pollLog2 = Math.min(this.o.maxPollLog2, this.pollLog2 + 1);
      if (code === 'DENY' || code === 'RSTR') this.refused = true;
      return no('kiss', `kiss o' death ${code}`);
    }
    this.reachReg |= 1;
    if (h.li === 3 || h.stratum >= 16) {
      this.unsynchronized = true;
      return no('unsynchronized', `leap indicator ${h.li}, stratum ${h.stratum}`);
    }
    this.unsynchronized = false;
    if (h.transmit === 0n || h.receive === 0n) return no('bogus-time', 'zero receive or transmit timestamp');
    const t1 = out.sentAt;
    const t2 = fromNtp64(h.receive, t1);
    const t3 = fromNtp64(h.transmit, t1);
    const t4 = rx;
    const delay = Number((t4 - t1) - (t3 - t2));
    if (delay < 0 && -delay > 1e6) return no('bogus-time', `negative delay ${delay} ns`);
    const offset = (Number(t2 - t1) + Number(t3 - t4)) / 2;
    this.server = {
      stratum: h.stratum, refId: h.stratum === 1 ? refIdToAscii(h.refId) : ipv4(h.refId), leap: h.li,
      rootDelayS: fromNtpShort(h.rootDelay), rootDispersionS: fromNtpShort(h.rootDispersion),
    };
    const sample: UpstreamSample = {
      at: t1 + (t4 - t1) / 2n, offsetNs: Math.round(offset), delayNs: Math.max(0, delay),
      dispersionS: 2 ** h.precision + PHI * Number(t4 - t1) / 1e9,
    };
    this.filter.push(sample);
    if (this.filter.length > NSTAGE) this.filter.shift();
    // Poll interval: lengthened after a run of good replies, as a stable server needs fewer.
    if (this.burstLeft === 0 && ++this.goodRun >= NSTAGE) {
      this.goodRun = 0;
      this.pollLog2 = Math.min(this.o.maxPollLog2, this.pollLog2 + 1);
    }
    return { ok: true, sample };
  }

  /** A poll went unanswered (the caller notices the timeout through `due`): shorten the interval. */
  private noteLoss(): void {
    this.goodRun = 0;
    this.pollLog2 = Math.max(this.o.minPollLog2, this.pollLog2 - 1);
  }

  /** The served clock stepped by deltaNs (served after = served before + deltaNs): every kept offset
   * moves the other way, so the filter keeps describing the server against the clock as it is now. A
   * request in flight across the step would give a wrong sample: it is forgotten. */
  servedClockStepped(deltaNs: number): void {
    for (const s of this.filter) {
      s.offsetNs -= deltaNs;
      s.at += BigInt(Math.round(deltaNs));
    }
    if (this.nextPoll !== undefined) this.nextPoll += BigInt(Math.round(deltaNs));
    this.outstanding = undefined;
  }

  /** Called when the request's timeout passes without a reply. */
  checkTimeout(now: Nanos): void {
    if (this.outstanding && Number(now - this.outstanding.sentAt) / 1e9 > TIMEOUT_S) {
      this.outstanding = undefined;
      this.noteLoss();
    }
  }

  snapshot(now: Nanos): UpstreamSnapshot {
    const best = this.best(now);
    const s = this.server;
    let jitter: number | undefined;
    if (best && this.filter.length > 1) {
      const sq = this.filter.reduce((a, x) => a + (x.offsetNs - best.offsetNs) ** 2, 0) / (this.filter.length - 1);
      jitter = Math.sqrt(sq);
    }
    let rootDistance: number | undefined;
    if (best && s) {
      const ageS = Math.max(0, Number(now - best.at) / 1e9);
      const disp = best.dispersionS + PHI * ageS;
      rootDistance = Math.round((s.rootDelayS / 2 + s.rootDispersionS + disp) * 1e9 + best.delayNs / 2 + (jitter ?? 0));
    }
    const unfit = this.refused ? 'refused' : this.reachReg === 0 ? 'no answer to the last eight polls'
      : this.unsynchronized ? 'says it is not synchronized' : rootDistance === undefined ? 'no sample'
      : rootDistance > MAX_ROOT_DISTANCE_NS ? `root distance ${(rootDistance / 1e9).toFixed(3)} s over ${MAX_ROOT_DISTANCE_NS / 1e9} s` : '';
    return {
      name: this.o.name, state: this.refused ? 'refused' : this.reachReg === 0 && this.counters.sent > 1 ? 'unreachable' : 'polling', reach: this.reachReg, pollS: 2 ** this.pollLog2,
      stratum: s?.stratum, refId: s?.refId, leap: s?.leap,
      offsetNs: best?.offsetNs, delayNs: best?.delayNs, jitterNs: jitter === undefined ? undefined : Math.round(jitter),
      rootDistanceNs: rootDistance,
      lastSampleAgeS: this.filter.length ? Number(now - this.filter[this.filter.length - 1]!.at) / 1e9 : undefined,
      counters: { sent: this.counters.sent, received: this.counters.received, rejected: { ...this.counters.rejected } },
      kiss: this.kiss,
      fit: unfit === '',
      unfit,
    };
  }

  /** The clock filter's choice: the least-delay sample of the last eight, if the latest is recent (a
   * server silent for eight polls has nothing current to say). */
  private best(now: Nanos): UpstreamSample | undefined {
    if (!this.filter.length) return undefined;
    const last = this.filter[this.filter.length - 1]!;
    if (Number(now - last.at) / 1e9 > NSTAGE * 2 ** this.o.maxPollLog2) return undefined;
    return this.filter.reduce((a, b) => (b.delayNs < a.delayNs ? b : a));
  }
}

function ipv4(v: number): string {
  return `${(v >>> 24) & 0xff}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}
