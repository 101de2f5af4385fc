/**
 * The NTP server core (pure): `handle(request, receiveTime, state, client)` gives the reply to send
 * (with its transmit timestamp still to be written as late as possible by the adapter) or nothing,
 * and counts why. Server mode only: client requests (mode 3, and mode 0 from NTPv1 clients) get a
 * mode 4 reply with our honest stratum, leap indicator, reference id, root dispersion and reference
 * time; modes 6 and 7 and everything else get nothing. A reply is never larger than its request.
 */
import { ClientTable } from './clients.ts';
import { type Nanos, toNtp64, toNtpShort } from '../time/index.ts';
import { decodePacket, encodeHeader, refIdFromAscii, NTP_HEADER, type NtpHeader } from './packet.ts';
import { RateLimiter, DistinctCounter, PerSecondCap, clientKey } from '../net/ratelimit.ts';
import type { AccessList } from './acl.ts';
import type { DropReason, NtpCounters, NtsCounters } from '../status/status.ts';
import { parseNtsRequest, checkNtsRequest, ntsReply, type NtsFailure } from './nts/ntp-ext.ts';
import type { CookieKeys } from './nts/cookies.ts';

/** What the server says about itself, refreshed from Status a few times a second. */
export interface NtpServerState {
  leapIndicator: number; // 0-3
  stratum: number; // 1-16
  refId: string; // "GPS" or a kiss code such as "INIT"
  rootDispersionS: number;
  rootDelayS: number;
  /** Disciplined-clock time of the last discipline update (0 if none). */
  refTime: Nanos;
  precisionLog2: number;
}

export interface NtpServerOptions {
  rateLimit: { enabled: boolean; intervalS: number; burst: number; slots: number; kod: boolean };
  /** Kiss-o'-death answers: at most one per client per `kodIntervalS`, and `kodPerSecond` in all (a
   * KoD toward a spoofed address is a reflection; the rest are dropped silently). */
  kodIntervalS?: number;
  kodPerSecond?: number;
  /** Denied clients: dropped, or answered with a KoD DENY. */
  denyAction: 'drop' | 'kod';
  /** NTS (RFC 8915): the cookie keys the key exchange shares, and the counters. Without it NTS
   * extension fields are ignored and the request is answered as plain NTP. */
  nts?: { keys: CookieKeys; counters: NtsCounters };
  /** How many clients the table of who uses the server keeps (clients.ts; 0: none). */
  clientTableSize?: number;
}

// The counters' type is Status's (status/ imports nothing from the rooms that read it).
export type { DropReason, NtpCounters };

export type Handled =
  | { reply: Buffer; kind: 'time' | 'kod'; /** An NTS reply: writes the transmit timestamp (NTP
    * format) and the authenticator; the adapter calls it instead of stampTransmit. */ seal?: (txNtp: bigint) => void }
  | { reply: undefined; reason: DropReason; seal?: undefined };

export class NtpServerCore {
  readonly counters: NtpCounters = {
    received: 0, replied: 0, kod: 0,
    dropped: { malformed: 0, mode: 0, rate: 0, denied: 0, unauthenticated: 0 }, malformed: {}, byVersionMode: {},
  };
  private limiter: RateLimiter | undefined;
  private readonly kodLimiter: RateLimiter;
  private readonly kodCap: PerSecondCap;
  readonly distinct = new DistinctCounter();
  /** Requests per client over the last minute, hour and day (bounded). */
  readonly clients: ClientTable;

  constructor(private readonly o: NtpServerOptions, private readonly acl: AccessList | undefined) {
    if (o.rateLimit.enabled) this.limiter = new RateLimiter({ intervalS: o.rateLimit.intervalS, burst: o.rateLimit.burst, slots: o.rateLimit.slots });
    this.kodLimiter = new RateLimiter({ intervalS: o.kodIntervalS ?? 16, burst: 1, slots: Math.min(o.rateLimit.slots, 16384) });
    this.kodCap = new PerSecondCap(o.kodPerSecond ?? 100);
    this.clients = new ClientTable(o.clientTableSize ?? 0);
  }

  /** Whether a kiss-o'-death may go to this client now. */
  private mayKiss(key: string, monoS: number): boolean {
    return this.kodLimiter.allow(key, monoS) && this.kodCap.allow(BigInt(Math.round(monoS * 1e9)));
  }

  /**
   * @param rx disciplined-clock time the request arrived
   * @param monoS a monotonic reading in seconds, for the rate limiter
   */
  handle(req: Buffer, rx: Nanos, st: NtpServerState, client: string, monoS: number): Handled {
    const c = this.counters;
    c.received++;
    const d = decodePacket(req);
    if (!d.ok) {
      c.dropped.malformed++;
      c.malformed[d.reason] = (c.malformed[d.reason] ?? 0) + 1;
      return { reply: undefined, reason: 'malformed' };
    }
    const h = d.header;
    const vm = `v${h.version} mode ${h.mode}`;
    c.byVersionMode[vm] = (c.byVersionMode[vm] ?? 0) + 1;
    const isClient = h.mode === 3 || (h.version === 1 && h.mode === 0);
    if (!isClient) {
      c.dropped.mode++;
      return { reply: undefined, reason: 'mode' };
    }
    const key = clientKey(client);
    this.distinct.add(key);
    this.clients.record(client, monoS);
    if (this.acl && !this.acl.permits(client)) {
      if (this.o.denyAction === 'kod' && this.mayKiss(key, monoS)) return this.kod(h.version, h.origin, h.transmit, 'DENY');
      c.dropped.denied++;
      return { reply: undefined, reason: 'denied' };
    }
    if (this.limiter && !this.limiter.allow(key, monoS)) {
      if (this.o.rateLimit.kod && this.mayKiss(key, monoS)) return this.kod(h.version, h.origin, h.transmit, 'RATE');
      c.dropped.rate++;
      return { reply: undefined, reason: 'rate' };
    }
    if (this.o.nts && h.version === 4 && d.extensionFields > 0) {
      const nts = this.nts(req, rx, st, h, key, monoS);
      if (nts) return nts;
    }
    // A request signed with a key we do not have: answer with a crypto-NAK (a 4-byte zero MAC), still
    // no larger than the request (48 + at least 20).
    const nak = d.mac === 'key';
    const out = Buffer.alloc(nak ? NTP_HEADER + 4 : NTP_HEADER);
    encodeHeader(this.replyHeader(h, rx, st), out);
    c.replied++;
    return { reply: out, kind: 'time' };
  }

  /** An NTS request's answer, or undefined when it carries no NTS fields (plain NTP then). */
  private nts(req: Buffer, rx: Nanos, st: NtpServerState, h: NtpHeader,
    key: string, monoS: number): Handled | undefined {
    const { keys, counters } = this.o.nts!;
    const p = parseNtsRequest(req);
    if (p.kind === 'none') return undefined;
    counters.requests++;
    const fail = (reason: NtsFailure) => {
      counters.failures[reason] = (counters.failures[reason] ?? 0) + 1;
    };
    if (p.kind === 'bad') {
      fail('malformed');
      this.counters.dropped.unauthenticated++;
      return { reply: undefined, reason: 'unauthenticated' };
    }
    const ok = checkNtsRequest(p, keys);
    if (!ok.ok) {
      fail(ok.reason);
      // NTS NAK: a kiss-o'-death NTSN with the unique identifier, no cookie, no authenticator;
      // unauthenticated, so under the same per-client and global caps as every kiss-o'-death.
      if (!this.mayKiss(key, monoS)) {
        fail('nak-suppressed');
        this.counters.dropped.unauthenticated++;
        return { reply: undefined, reason: 'unauthenticated' };
      }
      const nak = this.kod(4, h.origin, h.transmit, 'NTSN', p.uidField);
      counters.naks++;
      return nak;
    }
    const header = Buffer.alloc(NTP_HEADER);
    encodeHeader(this.replyHeader(h, rx, st), header);
    const r = ntsReply(header, p, ok.keys, keys, req.length);
    counters.replied++;
    counters.cookiesIssued += r.cookies;
    this.counters.replied++;
    return { reply: r.reply, kind: 'time', seal: r.seal };
  }

  private replyHeader(h: { version: number; mode: number; poll: number; transmit: bigint }, rx: Nanos, st: NtpServerState) {
    return {
      li: st.leapIndicator, version: h.version, mode: h.version === 1 && h.mode === 0 ? 2 : 4,
      stratum: st.stratum, poll: Math.min(17, Math.max(4, h.poll)), precision: st.precisionLog2,
      rootDelay: toNtpShort(st.rootDelayS), rootDispersion: toNtpShort(st.rootDispersionS),
      refId: refIdFromAscii(st.refId), refTime: st.refTime > 0n ? toNtp64(st.refTime) : 0n,
      origin: h.transmit, receive: toNtp64(rx), transmit: 0n,
    };
  }

  private kod(version: number, _origin: bigint, clientTransmit: bigint, code: 'RATE' | 'DENY' | 'NTSN', uidField?: Buffer): Handled {
    const out = Buffer.alloc(NTP_HEADER + (uidField?.length ?? 0));
    uidField?.copy(out, NTP_HEADER);
    // A kiss-o'-death: stratum 0, the kiss code as reference id, leap indicator 3, the client's own
    // transmit time in every timestamp (nothing in it can be used as time).
    encodeHeader({
      li: 3, version, mode: 4, stratum: 0, poll: 0, precision: 0, rootDelay: 0, rootDispersion: 0,
      refId: refIdFromAscii(code), refTime: 0n, origin: clientTransmit, receive: clientTransmit, transmit: clientTransmit,
    }, out);
    this.counters.kod++;
    return { reply: out, kind: 'kod' };
  }

  get rateLimiterCapacity(): number {
    return this.limiter?.capacity ?? 0;
  }
}

/** Writes the transmit timestamp into a reply built by the core, just before it is sent. */
export function stampTransmit(reply: Buffer, t: Nanos): void {
  reply.writeBigUInt64BE(toNtp64(t), 40);
}

/** Requests per second, averaged over about ten seconds (pure: counts and times in). */
export class RateMeter {
  private lastCount = 0;
  private lastT: number | undefined;
  rate = 0;

  update(count: number, tS: number): number {
    if (this.lastT !== undefined && tS > this.lastT) {
      const inst = (count - this.lastCount) / (tS - this.lastT);
      const a = Math.min(1, (tS - this.lastT) / 10);
      this.rate += a * (inst - this.rate);
    }
    this.lastCount = count;
    this.lastT = tS;
    return this.rate;
  }
}
