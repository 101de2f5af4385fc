/**
 * Simulated upstream NTP servers: each answers a client request in-process from the true clock plus
 * its own offset, after a one-way delay each way (with jitter), and may lose requests. They run on
 * the same clock as the rest of the simulator, so the integrity cross-check works in virtual time.
 */
import type { Clock, Nanos } from '../time/index.ts';
import { toNtp64, toNtpShort } from '../time/index.ts';
import { decodePacket, encodeHeader, NTP_HEADER, refIdFromAscii } from '../ntp/packet.ts';
import type { UpstreamTransport, Deliver } from '../integrity/upstream-udp.ts';
import { Rng } from './random.ts';

export interface SimulatedServer {
  offset_ms: number;
  delay_ms: number;
  jitter_ms: number;
  stratum: number;
  lost: number;
}

/** Faults of the simulated servers, all of them at once: seconds after the transport starts. */
export interface UpstreamFault {
  at_s: number;
  kind: string;
  duration_s: number;
  value: number;
}

export class SimulatedUpstream implements UpstreamTransport {
  strays = 0;
  sendErrors = 0;
  private rng: Rng;
  private closed = false;
  private readonly startT: Nanos;

  /** `trueClock` gives true time; `served` is the clock the client reads its receive time on. */
  constructor(
    private readonly servers: readonly SimulatedServer[],
    private readonly trueClock: Clock,
    private readonly served: Clock,
    private readonly deliver: Deliver,
    seed: number,
    private readonly faults: readonly UpstreamFault[] = [],
  ) {
    this.rng = new Rng(seed ^ 0x5eed);
    this.startT = trueClock.now();
  }

  private active(kind: string): UpstreamFault | undefined {
    const s = Number(this.trueClock.now() - this.startT) / 1e9;
    return this.faults.find((f) => f.kind === kind && s >= f.at_s && s < f.at_s + Math.max(f.duration_s, 1));
  }

  send(index: number, packet: Buffer): void {
    const s = this.servers[index];
    if (!s || this.closed) return;
    if (this.rng.next() < s.lost || this.active('upstream_down')) return;
    const oneWay = () => Math.max(0, s.delay_ms / 2 + this.rng.uniform(-s.jitter_ms, s.jitter_ms));
    this.trueClock.setTimeout(() => {
      const d = decodePacket(packet);
      if (!d.ok || this.closed) return;
      const shiftS = this.active('upstream_offset')?.value ?? 0;
      const now: Nanos = this.trueClock.now() + BigInt(Math.round(s.offset_ms * 1e6 + shiftS * 1e9));
      const out = Buffer.alloc(NTP_HEADER);
      const ts = toNtp64(now);
      encodeHeader({
        li: 0, version: 4, mode: 4, stratum: s.stratum, poll: d.header.poll, precision: -20,
        rootDelay: toNtpShort(0.01), rootDispersion: toNtpShort(0.001), refId: refIdFromAscii('SIM'),
        refTime: ts, origin: d.header.transmit, receive: ts, transmit: ts,
      }, out);
      this.trueClock.setTimeout(() => {
        if (!this.closed) this.deliver([index], out, this.served.now());
      }, oneWay());
    }, oneWay());
  }

  close(): void {
    this.closed = true;
  }
}
