/**
 * The PTP transport: UDP/IPv4 multicast (224.0.1.129, event port 319, general port 320) on one
 * interface, driving the grandmaster core with timers and received datagrams.
 *
 * Timestamps are software timestamps from the disciplined clock, as close to the wire as Node allows:
 * a Sync goes out on a socket connected to the group (so send() needs no address lookup and libuv
 * issues sendmsg at once when its queue is empty); the clock is read just before and just after that
 * call and the Follow_Up carries the midpoint. A received Delay_Req is stamped when its callback runs,
 * after the event loop has come round to it: that wait (tens of microseconds when idle) is what limits
 * the accuracy here, and only kernel timestamps (SO_TIMESTAMPING, not reachable from Node's dgram) or
 * hardware timestamps would remove it.
 */
import { createSocket, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import type { Clock, Timer } from '../time/index.ts';
import type { GrandmasterCore, Outgoing } from './grandmaster.ts';

export const PTP_MULTICAST = '224.0.1.129';
export const EVENT_PORT = 319;
export const GENERAL_PORT = 320;

/** The interface's first IPv4 address and its MAC. */
export function resolveInterface(name: string): { address: string; mac: string } {
  const list = networkInterfaces()[name];
  if (!list) throw new Error(`no network interface "${name}" (there are: ${Object.keys(networkInterfaces()).join(', ')})`);
  const v4 = list.find((a) => a.family === 'IPv4');
  if (!v4) throw new Error(`interface "${name}" has no IPv4 address`);
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(v4.mac) || v4.mac === '00:00:00:00:00:00') throw new Error(`interface "${name}" has no MAC address to make a clockIdentity from`);
  return { address: v4.address, mac: v4.mac };
}

export interface PtpUdpOptions {
  interfaceAddress: string;
  eventPort?: number;
  generalPort?: number;
}

export class PtpUdp {
  private rx: Socket[] = [];
  private txEvent: Socket | undefined;
  private txGeneral: Socket | undefined;
  private timers: Timer[] = [];
  sendErrors = 0;
  /** How long the Sync send() call took (the uncertainty of the transmit timestamp), ns. */
  readonly txSpread = { n: 0, sumNs: 0, maxNs: 0 };

  constructor(private readonly core: GrandmasterCore, private readonly clock: Clock, private readonly utcOffsetS: () => number,
    private readonly o: PtpUdpOptions, private readonly onError: (msg: string) => void) {}

  private tai(utcNs: bigint): bigint {
    return utcNs + BigInt(this.utcOffsetS()) * 1_000_000_000n;
  }

  async start(): Promise<void> {
    const ev = this.o.eventPort ?? EVENT_PORT;
    const gen = this.o.generalPort ?? GENERAL_PORT;
    for (const port of [ev, gen]) {
      const s = createSocket({ type: 'udp4', reuseAddr: true });
      s.on('error', (e) => this.onError(`PTP socket ${port}: ${e.message}`));
      s.on('message', (buf) => {
        const rx = this.clock.now(); // first thing: the receive timestamp
        try {
          for (const out of this.core.receive(buf, this.tai(rx))) this.send(out);
        } catch (e) {
          this.onError(`PTP message handling failed: ${(e as Error).message}`);
        }
      });
      await new Promise<void>((res, rej) => {
        s.once('error', rej);
        s.bind(port, '0.0.0.0', () => {
          s.off('error', rej);
          res();
        });
      });
      s.addMembership(PTP_MULTICAST, this.o.interfaceAddress);
      this.rx.push(s);
    }
    const tx = async (port: number) => {
      const s = createSocket('udp4');
      s.on('error', (e) => this.onError(`PTP send socket: ${e.message}`));
      await new Promise<void>((res) => s.bind(0, this.o.interfaceAddress, () => res()));
      s.setMulticastInterface(this.o.interfaceAddress);
      s.setMulticastTTL(1);
      s.setMulticastLoopback(false);
      await new Promise<void>((res, rej) => {
        s.once('error', rej);
        s.connect(port, PTP_MULTICAST, () => {
          s.off('error', rej);
          res();
        });
      });
      return s;
    };
    this.txEvent = await tx(ev);
    this.txGeneral = await tx(gen);
    const o = this.core.o;
    const every = (log: number, fn: () => void) => this.timers.push(this.clock.setInterval(fn, 1000 * 2 ** log));
    every(o.logAnnounceInterval, () => {
      this.send(this.core.announce(this.tai(this.clock.now())));
      this.core.expire(this.tai(this.clock.now()));
    });
    every(o.logSyncInterval, () => this.sendSync());
    this.send(this.core.announce(this.tai(this.clock.now())));
  }

  private sendSync(): void {
    const out = this.core.sync();
    const s = this.txEvent;
    if (!s) return;
    const t0 = this.clock.now();
    s.send(out.msg, (e) => { if (e) this.sendErrors++; });
    const t1 = this.clock.now();
    const spread = Number(t1 - t0);
    this.txSpread.n++;
    this.txSpread.sumNs += spread;
    if (spread > this.txSpread.maxNs) this.txSpread.maxNs = spread;
    this.send(this.core.followUp(out.sync!, this.tai(t0 + (t1 - t0) / 2n)));
  }

  private send(out: Outgoing): void {
    const s = out.port === 'event' ? this.txEvent : this.txGeneral;
    s?.send(out.msg, (e) => { if (e) this.sendErrors++; });
  }

  close(): void {
    for (const t of this.timers) t.cancel();
    this.timers = [];
    for (const s of [...this.rx, this.txEvent, this.txGeneral]) {
      try {
        s?.close();
      } catch { /* already closed */ }
    }
    this.rx = [];
    this.txEvent = this.txGeneral = undefined;
  }
}
