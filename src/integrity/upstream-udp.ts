/**
 * The upstream client's socket (I/O adapter): one unconnected UDP socket per address family, bound to
 * an ephemeral port. Names are resolved before each poll (a server that moves is followed). A datagram
 * is handed to the peer whose address and port it came from, with its receive time read on the served
 * clock at once; anything else is counted and dropped.
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Clock, Nanos } from '../time/index.ts';

export interface UpstreamTransport {
  send(index: number, packet: Buffer): void;
  close(): void;
  readonly strays: number;
  readonly sendErrors: number;
}

export type Deliver = (index: number, packet: Buffer, rx: Nanos) => void;

export class UdpUpstream implements UpstreamTransport {
  private v4: Socket | undefined;
  private v6: Socket | undefined;
  private resolved: ({ address: string; family: 4 | 6 } | undefined)[];
  strays = 0;
  sendErrors = 0;
  resolveErrors = 0;
  private closed = false;

  constructor(private readonly servers: readonly { host: string; port: number }[], private readonly clock: Clock, private readonly deliver: Deliver) {
    this.resolved = servers.map(() => undefined);
  }

  private socket(family: 4 | 6): Socket {
    const have = family === 4 ? this.v4 : this.v6;
    if (have) return have;
    const s = createSocket({ type: family === 4 ? 'udp4' : 'udp6', ipv6Only: family === 6 });
    s.on('error', () => { this.sendErrors++; });
    s.on('message', (msg, r) => {
      const rx = this.clock.now();
      const i = this.resolved.findIndex((a, k) => a !== undefined && a.address === r.address && this.servers[k]!.port === r.port);
      if (i < 0 || msg.length > 1024) {
        this.strays++;
        return;
      }
      this.deliver(i, msg, rx);
    });
    s.bind(0);
    if (family === 4) this.v4 = s;
    else this.v6 = s;
    return s;
  }

  send(index: number, packet: Buffer): void {
    const srv = this.servers[index]!;
    const go = (a: { address: string; family: 4 | 6 }) => {
      if (this.closed) return;
      this.resolved[index] = a;
      this.socket(a.family).send(packet, srv.port, a.address, (err) => { if (err) this.sendErrors++; });
    };
    const fam = isIP(srv.host);
    if (fam) {
      go({ address: srv.host, family: fam as 4 | 6 });
      return;
    }
    lookup(srv.host).then((r) => go({ address: r.address, family: r.family as 4 | 6 }), () => { this.resolveErrors++; });
  }

  close(): void {
    this.closed = true;
    this.v4?.close();
    this.v6?.close();
    this.v4 = this.v6 = undefined;
  }
}
