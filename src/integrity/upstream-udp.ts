/**
 * The upstream client's socket (I/O adapter): one unconnected UDP socket per address family, bound to
 * an ephemeral port. Names are resolved ahead of the polls (at start and then hourly), never between a
 * request's timestamp and its send: a slow lookup would count as network delay. A datagram goes to the
 * servers whose address (compared in canonical form: 0:0:0:0:0:0:0:1 is ::1) and port it came from,
 * with its receive time read on the served clock at once; anything else is counted and dropped.
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP, SocketAddress } from 'node:net';
import type { Clock, Nanos } from '../time/index.ts';

export interface UpstreamTransport {
  send(index: number, packet: Buffer): void;
  close(): void;
  readonly strays: number;
  readonly sendErrors: number;
}

/** A datagram for the servers at `indices` (more than one when several share an address and port). */
export type Deliver = (indices: number[], packet: Buffer, rx: Nanos) => void;

const RESOLVE_EVERY_S = 3600;

/** An IP address in the form the kernel reports it (lower case, zeros compressed). */
export function canonicalIp(a: string): string {
  const fam = isIP(a);
  if (fam === 0) return a;
  return new SocketAddress({ address: a, family: fam === 6 ? 'ipv6' : 'ipv4' }).address;
}

export class UdpUpstream implements UpstreamTransport {
  private v4: Socket | undefined;
  private v6: Socket | undefined;
  private resolved: ({ address: string; family: 4 | 6; at: number } | undefined)[];
  private resolving = new Set<number>();
  strays = 0;
  sendErrors = 0;
  resolveErrors = 0;
  /** Polls skipped because the name was not resolved yet (the poll counts as lost). */
  unresolved = 0;
  private closed = false;

  constructor(private readonly servers: readonly { host: string; port: number }[], private readonly clock: Clock, private readonly deliver: Deliver) {
    this.resolved = servers.map((s) => {
      const fam = isIP(s.host);
      return fam ? { address: canonicalIp(s.host), family: fam as 4 | 6, at: Infinity } : undefined;
    });
    servers.forEach((_, i) => this.resolve(i));
  }

  private resolve(i: number): void {
    const have = this.resolved[i];
    const mono = Number(this.clock.monotonic()) / 1e9;
    if (this.closed || this.resolving.has(i) || (have && mono - have.at < RESOLVE_EVERY_S)) return;
    this.resolving.add(i);
    lookup(this.servers[i]!.host).then((r) => {
      this.resolved[i] = { address: canonicalIp(r.address), family: r.family as 4 | 6, at: Number(this.clock.monotonic()) / 1e9 };
    }, () => { this.resolveErrors++; }).finally(() => this.resolving.delete(i));
  }

  private socket(family: 4 | 6): Socket {
    const have = family === 4 ? this.v4 : this.v6;
    if (have) return have;
    const s = createSocket({ type: family === 4 ? 'udp4' : 'udp6', ipv6Only: family === 6 });
    s.on('error', () => { this.sendErrors++; });
    s.on('message', (msg, r) => {
      const rx = this.clock.now();
      const from = canonicalIp(r.address);
      const to = this.resolved.flatMap((a, k) => (a !== undefined && a.address === from && this.servers[k]!.port === r.port ? [k] : []));
      if (!to.length || msg.length > 1024) {
        this.strays++;
        return;
      }
      this.deliver(to, msg, rx);
    });
    s.bind(0);
    if (family === 4) this.v4 = s;
    else this.v6 = s;
    return s;
  }

  send(index: number, packet: Buffer): void {
    if (this.closed) return;
    const a = this.resolved[index];
    this.resolve(index); // refreshes an old answer in the background
    if (!a) {
      this.unresolved++;
      return;
    }
    this.socket(a.family).send(packet, this.servers[index]!.port, a.address, (err) => { if (err) this.sendErrors++; });
  }

  close(): void {
    this.closed = true;
    this.v4?.close();
    this.v6?.close();
    this.v4 = this.v6 = undefined;
  }
}
