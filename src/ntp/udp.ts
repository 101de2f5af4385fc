/**
 * The NTP UDP adapter: one socket per configured address (IPv4 and IPv6); each request's receive time
 * on the disciplined clock, handed to the core, and the reply's transmit timestamp written immediately
 * before it is sent. The receive time is the kernel's (SO_TIMESTAMPNS, through the native addon; see
 * net/kernel-ts.ts) as chronyd and ntpd take it; without the addon it is read when the 'message' event
 * runs and carries the event loop's wait. bench/ntp measures both.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { toNtp64, type Clock } from '../time/index.ts';
import { NtpServerCore, stampTransmit, type NtpServerState } from './server.ts';
import type { Endpoint } from '../status/status.ts';
import { kernelTs, KernelRxSocket } from '../net/kernel-ts.ts';
import { addon as native } from '../native/addon.ts';

export interface NtpUdpOptions {
  addresses: string[];
  port: number;
  recvBufferBytes: number;
}

export class NtpUdpServer {
  private sockets: Socket[] = [];
  private ksockets: KernelRxSocket[] = [];
  sendErrors = 0;
  /** Where receive timestamps come from. */
  readonly rxTimestamps: 'kernel' | 'event loop' = kernelTs().available && !process.env.STRATUM1_NTP_EVENT_LOOP ? 'kernel' : 'event loop';

  constructor(
    private readonly core: NtpServerCore,
    private readonly clock: Clock,
    private readonly state: () => NtpServerState,
    private readonly o: NtpUdpOptions,
  ) {}

  async listen(): Promise<Endpoint[]> {
    const out: Endpoint[] = [];
    for (const address of this.o.addresses) {
      if (this.rxTimestamps === 'kernel') {
        const k = new KernelRxSocket(this.clock);
        let port: number;
        try {
          port = k.open(this.o.port, address, null, null, (msg, rx, from) => {
            // The disciplined clock's offset from CLOCK_REALTIME, worked out first: a reading of the
            // disciplined clock takes microseconds (tens when the process was idle), so the transmit
            // timestamp is CLOCK_REALTIME read immediately before the send, plus this offset.
            const r0 = native!.realtimeNs();
            const off = (this.clock.fromRealtime ? this.clock.fromRealtime(r0) : this.clock.now()) - r0;
            const mono = Number(this.clock.monotonic()) / 1e9;
            const h = this.core.handle(msg, rx, this.state(), from.address, mono);
            if (!h.reply) return;
            if (h.seal) h.seal(toNtp64(native!.realtimeNs() + off));
            else if (h.kind === 'time') stampTransmit(h.reply, native!.realtimeNs() + off);
            if (k.sendTo(h.reply, from.address, from.port) < 0) this.sendErrors++;
          }, { recvBufferBytes: this.o.recvBufferBytes });
        } catch (e) {
          this.close();
          throw e;
        }
        this.ksockets.push(k);
        out.push({ service: 'ntp', protocol: 'udp', address, port });
        continue;
      }
      const v6 = isIPv6(address);
      const s = createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6, reuseAddr: false });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind({ address, port: this.o.port, exclusive: true }, () => {
          s.off('error', reject);
          resolve();
        });
      });
      try {
        s.setRecvBufferSize(this.o.recvBufferBytes);
      } catch {
        // The kernel caps it at rmem_max; a smaller buffer only loses more under load.
      }
      s.on('error', () => { this.sendErrors++; });
      s.on('message', (msg, rinfo) => {
        const rx = this.clock.now();
        const mono = Number(this.clock.monotonic()) / 1e9;
        const h = this.core.handle(msg, rx, this.state(), rinfo.address, mono);
        if (!h.reply) return;
        if (h.seal) h.seal(toNtp64(this.clock.now()));
        else if (h.kind === 'time') stampTransmit(h.reply, this.clock.now());
        // No per-packet callback: a failed send surfaces as the socket's 'error' event, counted above.
        s.send(h.reply, rinfo.port, rinfo.address);
      });
      this.sockets.push(s);
      const a = s.address();
      out.push({ service: 'ntp', protocol: 'udp', address: a.address, port: a.port });
    }
    return out;
  }

  close(): void {
    for (const s of this.sockets) s.close();
    this.sockets = [];
    for (const k of this.ksockets) k.close();
    this.ksockets = [];
  }
}
