/**
 * UDP with kernel timestamps through the project's small native addon (native/udp_ts.c, built by
 * `npm ci`). Node's dgram gives none: a received datagram is otherwise stamped when its callback runs
 * (measured here 50-270 us after the kernel had it: the event loop's wake-up on a virtual machine), and
 * a sent one can only be bracketed by clock readings around send(), which took 140 us on average on a
 * veth here. Receive: SO_TIMESTAMPNS. Transmit: SO_TIMESTAMPING software transmit timestamps from the
 * socket's error queue, as ptp4l takes them. Without the addon (not built, or not Linux) `kernelTs()`
 * says why and callers fall back to dgram.
 */
import type { Clock } from '../time/index.ts';
import { addon as native, addonProblem as problem, type Addon as Native } from '../native/addon.ts';

export function kernelTs(): { available: boolean; problem: string | undefined } {
  return { available: native !== undefined, problem };
}

/** A bound (and optionally multicast-joined) UDP socket, IPv4 or IPv6, delivering each datagram with
 * the kernel's arrival time as a reading of `clock` (onClock below). */
export class KernelRxSocket {
  private h: { port: number } | undefined;
  /** Datagrams the kernel gave no timestamp for (stamped on arrival in JavaScript instead). */
  unstamped = 0;

  constructor(private readonly clock: Clock) {
    if (!native) throw new Error(problem ?? 'native addon not loaded');
  }

  /** Binds (IPv4 or IPv6, by the address) and starts delivering. `reuse`: share the port with other
   * sockets (PTP's multicast ports); otherwise the bind is exclusive. Returns the port bound. */
  open(port: number, bind: string, group: string | null, iface: string | null, onMessage: (buf: Buffer, rx: bigint, from: { address: string; port: number }) => void,
    opts: { recvBufferBytes?: number; reuse?: boolean } = {}): number {
    const n = native!;
    this.h = n.open(port, bind, group, iface, (buf, sec, nsec, address, fromPort) => {
      let rx: bigint;
      if (sec === 0) {
        this.unstamped++;
        rx = this.clock.now();
      } else {
        rx = onClock(this.clock, n, sec, nsec);
      }
      onMessage(buf, rx, { address, port: fromPort });
    }, opts.recvBufferBytes ?? 1 << 20, opts.reuse ?? false);
    return this.h.port;
  }

  /** Sends from this socket (a reply leaves from the port the request came to). 0, or -errno. */
  sendTo(buf: Buffer, address: string, port: number): number {
    if (!this.h) return -9; // EBADF
    return native!.sendTo(this.h, buf, address, port);
  }

  close(): void {
    if (this.h) native!.close(this.h);
    this.h = undefined;
  }
}

/** A kernel CLOCK_REALTIME timestamp as a reading of `clock`. A clock tied to the host clock maps it
 * exactly (fromRealtime); otherwise the timestamp's age is taken off the clock's reading now. (Not a
 * bracket of two CLOCK_REALTIME reads around clock.now(): measured here, a call of the disciplined
 * clock that had been idle took 5 to 90 us, with its own reading taken near the start.) */
function onClock(clock: Clock, n: Native, sec: number, nsec: number): bigint {
  const ts = BigInt(sec) * 1_000_000_000n + BigInt(nsec);
  if (clock.fromRealtime) return clock.fromRealtime(ts);
  const r = n.realtimeNs();
  return clock.now() - (r - ts);
}

/** A UDP/IPv4 sender connected to a multicast group on one interface, returning for each datagram the
 * time the kernel transmitted it, on `clock` (undefined if the kernel gave none). */
export class KernelTxSocket {
  private h: object | undefined;
  /** Sends the kernel gave no transmit timestamp for. */
  unstamped = 0;

  constructor(private readonly clock: Clock, iface: string, group: string, port: number) {
    if (!native) throw new Error(problem ?? 'native addon not loaded');
    this.h = native.openTx(iface, group, port);
  }

  send(buf: Buffer): bigint | undefined {
    if (!this.h) return undefined;
    const t = native!.sendStamped(this.h, buf);
    if (!t) {
      this.unstamped++;
      return undefined;
    }
    return onClock(this.clock, native!, t[0], t[1]);
  }

  close(): void {
    if (this.h) native!.closeTx(this.h);
    this.h = undefined;
  }
}
