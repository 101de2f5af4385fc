/**
 * The PTP transport: UDP/IPv4 multicast (224.0.1.129, event port 319, general port 320) on one
 * interface, driving the grandmaster core with timers and received datagrams.
 *
 * Timestamps are software timestamps from the disciplined clock, as close to the wire as Node allows:
 * with the native addon (native/udp_ts.c), the kernel's: a Sync's transmit time is the kernel's
 * software transmit timestamp (SO_TIMESTAMPING, read back from the socket's error queue, as ptp4l does)
 * and a Delay_Req's receive time is the kernel's receive timestamp (SO_TIMESTAMPNS). Without the addon
 * they come from the event loop: a Sync is sent on a dgram socket connected to the group and the clock
 * is read just before and after send(), the Follow_Up carrying the midpoint (send() took 140 us on
 * average on a veth here); a Delay_Req is stamped when its callback runs, 50 to 270 us after the
 * kernel had it on this machine. Status says which (ptp.rxTimestamps). Hardware timestamps would do
 * better still; a Raspberry Pi 3 or 4 has none.
 */
import { createSocket, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import type { Clock, Timer } from '../time/index.ts';
import type { GrandmasterCore, Outgoing } from './grandmaster.ts';
import { kernelTs, KernelRxSocket, KernelTxSocket } from '../net/kernel-ts.ts';

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
  private krx: KernelRxSocket[] = [];
  /** 'kernel' when receive timestamps come from the kernel, 'event loop' otherwise. */
  readonly rxTimestamps: 'kernel' | 'event loop' = kernelTs().available ? 'kernel' : 'event loop';
  private txEvent: Socket | undefined;
  private ktx: KernelTxSocket | undefined;
  private txGeneral: Socket | undefined;
  private timers: Timer[] = [];
  sendErrors = 0;
  /** Syncs sent without a kernel transmit timestamp (and so without a Follow_Up). */
  get txUnstamped(): number {
    return this.ktx?.unstamped ?? 0;
  }
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
    const handle = (buf: Buffer, rx: bigint) => {
      try {
        for (const out of this.core.receive(buf, this.tai(rx))) this.send(out);
      } catch (e) {
        this.onError(`PTP message handling failed: ${(e as Error).message}`);
      }
    };
    // Bound to the group address, not to every address: only the group's traffic, joined on the one
    // configured interface, reaches the grandmaster; unicast to the host's ports 319/320 does not.
    for (const port of [ev, gen]) {
      if (this.rxTimestamps === 'kernel') {
        const k = new KernelRxSocket(this.clock);
        k.open(port, PTP_MULTICAST, PTP_MULTICAST, this.o.interfaceAddress, (buf, rx) => handle(buf, rx), { reuse: true });
        this.krx.push(k);
        continue;
      }
      const s = createSocket({ type: 'udp4', reuseAddr: true });
      s.on('error', (e) => this.onError(`PTP socket ${port}: ${e.message}`));
      s.on('message', (buf) => handle(buf, this.clock.now())); // the clock first: the receive timestamp
      await new Promise<void>((res, rej) => {
        s.once('error', rej);
        s.bind(port, PTP_MULTICAST, () => {
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
    if (this.rxTimestamps === 'kernel') this.ktx = new KernelTxSocket(this.clock, this.o.interfaceAddress, PTP_MULTICAST, ev);
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
    if (this.ktx) {
      let t: bigint | undefined;
      try {
        t = this.ktx.send(out.msg);
      } catch (e) {
        this.sendErrors++;
        this.onError(`PTP Sync send failed: ${(e as Error).message}`);
        return;
      }
      // No kernel transmit timestamp: no Follow_Up, so the slave drops this Sync rather than use a
      // guess (counted in Status).
      if (t !== undefined) this.send(this.core.followUp(out.sync!, this.tai(t)));
      return;
    }
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
    for (const k of this.krx) k.close();
    this.ktx?.close();
    this.ktx = undefined;
    this.krx = [];
    this.txEvent = this.txGeneral = undefined;
  }
}
