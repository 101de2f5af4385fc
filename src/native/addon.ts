/**
 * The project's native addon (native/udp_ts.c, built by `npm ci` through node-gyp): CLOCK_REALTIME at
 * full resolution, UDP sockets with kernel receive and transmit timestamps, and datagrams to a Unix
 * socket (chronyd's SOCK refclock). Everything that uses
 * it has a pure-Node fallback; `addon` is undefined (and `addonProblem` says why) when it is not built.
 * It imports nothing of ours, so time/ may use it.
 */
import { createRequire } from 'node:module';
import type { TimexIn, TimexOut } from '../discipline/kernel.ts';

export interface Addon {
  realtimeNs(): bigint;
  open(port: number, bind: string, group: string | null, iface: string | null,
    onMessage: (buf: Buffer, sec: number, nsec: number, address: string, port: number) => void, recvBufferBytes?: number, reuse?: boolean): { port: number };
  sendTo(h: { port: number }, buf: Buffer, address: string, port: number): number;
  close(h: { port: number }): void;
  openTx(iface: string, group: string, port: number): object;
  sendStamped(h: object, buf: Buffer): [number, number] | null;
  closeTx(h: object): void;
  /** An AF_UNIX datagram socket connected to path: its fd, or -errno (-ENOENT, -ECONNREFUSED: nobody there). */
  unixDgramOpen(path: string): number;
  /** Sends one datagram: bytes sent, or -errno (-ECONNREFUSED once the listener has gone). Never blocks. */
  unixDgramSend(fd: number, buf: Buffer): number;
  unixDgramClose(fd: number): void;
  /** A bound AF_UNIX datagram socket that receives (native/unix_dgram.c): onMessage(datagram, sender's
   * path, "" when unnamed). Throws when the path cannot be bound (EADDRINUSE: it exists). */
  unixDgramBind(localPath: string, onMessage: (buf: Buffer, fromPath: string) => void): UnixDgramHandle;
  /** One datagram to peerPath from the bound socket: bytes sent, or -errno (-ENOENT, -ECONNREFUSED:
   * nobody listens there; -EAGAIN: its queue is full). Never blocks. */
  unixDgramSendTo(h: UnixDgramHandle, buf: Buffer, peerPath: string): number;
  /** Closes the socket and unlinks its path; idempotent. */
  unixDgramUnbind(h: UnixDgramHandle): void;
  /** clock_adjtime(CLOCK_REALTIME): the timex the kernel returned, and its state or -errno. */
  clockAdjtime(tx: TimexIn): TimexOut;
  /** sizeof(struct timeval) on this machine: 16 with a 64-bit time_t, 8 with a 32-bit one. */
  readonly timevalBytes: number;
}

export interface UnixDgramHandle { readonly path: string }

export let addon: Addon | undefined;
export let addonProblem: string | undefined;
if (process.env.STRATUM1_NO_NATIVE) {
  addonProblem = 'disabled by STRATUM1_NO_NATIVE';
} else {
  try {
    addon = createRequire(import.meta.url)('../../build/Release/udp_ts.node') as Addon;
  } catch (e) {
    addonProblem = `native addon not loaded (${(e as Error).message.split('\n')[0]})`;
  }
}
