/**
 * The NTP UDP adapter: one socket per configured address (IPv4 and IPv6), each request timestamped on
 * the disciplined clock the moment its 'message' event runs, handed to the core, and the reply's
 * transmit timestamp written immediately before send. Node gives no kernel receive timestamps
 * (SO_TIMESTAMPNS), so the receive time carries the event loop's queueing; bench/ntp measures it.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Clock } from '../time/index.ts';
import { NtpServerCore, stampTransmit, type NtpServerState } from './server.ts';
import type { Endpoint } from '../status/status.ts';

export interface NtpUdpOptions {
  addresses: string[];
  port: number;
  recvBufferBytes: number;
}

export class NtpUdpServer {
  private sockets: Socket[] = [];
  sendErrors = 0;

  constructor(
    private readonly core: NtpServerCore,
    private readonly clock: Clock,
    private readonly state: () => NtpServerState,
    private readonly o: NtpUdpOptions,
  ) {}

  async listen(): Promise<Endpoint[]> {
    const out: Endpoint[] = [];
    for (const address of this.o.addresses) {
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
        if (h.kind === 'time') stampTransmit(h.reply, this.clock.now());
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
  }
}
