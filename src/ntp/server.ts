/**
 * The NTP server core (pure): `handle(request, receiveTime, state, client)` gives the reply to send
 * (with its transmit timestamp still to be written as late as possible by the adapter) or nothing,
 * and counts why. Server mode only: client requests (mode 3, and mode 0 from NTPv1 clients) get a
 * mode 4 reply with our honest stratum, leap indicator, reference id, root dispersion and reference
 * time; modes 6 and 7 and everything else get nothing. A reply is never larger than its request.
 */
import { type Nanos, toNtp64, toNtpShort } from '../time/index.ts';
import { decodePacket, encodeHeader, refIdFromAscii, NTP_HEADER } from './packet.ts';
import { RateLimiter, DistinctCounter, PerSecondCap, clientKey } from '../net/ratelimit.ts';
import type { AccessList } from './acl.ts';
import type { DropReason, NtpCounters } from '../status/status.ts';

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
}

// The counters' type is Status's (status/ imports nothing from the rooms that read it).
export type { DropReason, NtpCounters };

export type Handled =
  | { reply: Buffer; kind: 'time' | 'kod' }
  | { reply: undefined; reason: DropReason };

export class NtpServerCore {
  readonly counters: NtpCounters = {
    received: 0, replied: 0, kod: 0,
    dropped: { malformed: 0, mode: 0, rate: 0, denied: 0, unauthenticated: 0 }, malformed: {}, byVersionMode: {},
  };
  private limiter: RateLimiter | undefined;
  private readonly kodLimiter: RateLimiter;
  private readonly kodCap: PerSecondCap;
  readonly distinct = new DistinctCounter();

  constructor(private readonly o: NtpServerOptions, private readonly acl: AccessList | undefined) {
    if (o.rateLimit.enabled) this.limiter = new RateLimiter({ intervalS: o.rateLimit.intervalS, burst: o.rateLimit.burst, slots: o.rateLimit.slots });
    this.kodLimiter = new RateLimiter({ intervalS: o.kodIntervalS ?? 16, burst: 1, slots: Math.min(o.rateLimit.slots, 16384) });
    this.kodCap = new PerSecondCap(o.kodPerSecond ?? 100);
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
    // A request signed with a key we do not have: answer with a crypto-NAK (a 4-byte zero MAC), still
    // no larger than the request (48 + at least 20).
    const nak = d.mac === 'key';
    const out = Buffer.alloc(nak ? NTP_HEADER + 4 : NTP_HEADER);
    encodeHeader({
      li: st.leapIndicator, version: h.version, mode: h.version === 1 && h.mode === 0 ? 2 : 4,
      stratum: st.stratum, poll: Math.min(17, Math.max(4, h.poll)), precision: st.precisionLog2,
      rootDelay: toNtpShort(st.rootDelayS), rootDispersion: toNtpShort(st.rootDispersionS),
      refId: refIdFromAscii(st.refId), refTime: st.refTime > 0n ? toNtp64(st.refTime) : 0n,
      origin: h.transmit, receive: toNtp64(rx), transmit: 0n,
    }, out);
    c.replied++;
    return { reply: out, kind: 'time' };
  }

  private kod(version: number, _origin: bigint, clientTransmit: bigint, code: 'RATE' | 'DENY'): Handled {
    const out = Buffer.alloc(NTP_HEADER);
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
