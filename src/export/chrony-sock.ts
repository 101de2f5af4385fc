/**
 * The chronyd feed: each PPS-paired sample as the datagram chronyd's SOCK refclock reads
 * (refclock_sock.c, `refclock SOCK PATH`), so chronyd can discipline the kernel clock from our GPS and
 * PPS, as gpsd feeds it. The encoder is pure; the sender owns one AF_UNIX datagram socket (through
 * the native addon) and reconnects with backoff when chronyd restarts.
 *
 * chrony's struct sock_sample, in the machine's byte order and alignment:
 *
 *   struct timeval tv;   time of the measurement on the system clock (CLOCK_REALTIME)
 *   double offset;       true time minus tv, seconds
 *   int pulse;           non-zero: only the offset within the second is meaningful (RCL_AddPulse)
 *   int leap;            0 normal, 1 insert, 2 delete a leap second at the end of the day
 *   int _pad;
 *   int magic;           0x534f434b ('SOCK')
 *
 * With a 64-bit time_t (x86-64, arm64; 32-bit systems built with _TIME_BITS=64) tv is 16 bytes and
 * the sample 40; with a 32-bit time_t (Debian 12 armhf and i386, Raspberry Pi OS bookworm armhf) tv is
 * 8 bytes and the sample 32 (the double sits at offset 8 under either alignment rule). chronyd 4.3
 * (Debian 12) drops a datagram whose length is not its own sizeof(struct sock_sample); 4.4 and later
 * also take the other width on 32-bit systems. So we send the width this machine's C headers have.
 */
import { constants, endianness } from 'node:os';
import type { Nanos } from '../time/index.ts';
import type { ChronySockStatus } from '../status/status.ts';

export const SOCK_MAGIC = 0x534f434b;

export type TimevalBits = 32 | 64;

export interface SockSample {
  /** tv: seconds and microseconds of the system clock at the measurement. */
  tvSec: number;
  tvUsec: number;
  /** True time minus tv, seconds. */
  offsetS: number;
  /** Only the fraction of a second is meaningful (a bare PPS). */
  pulse: boolean;
  /** 0 none, 1 insert, 2 delete a leap second at the end of the UTC day. */
  leap: 0 | 1 | 2;
}

export function sampleBytes(bits: TimevalBits): number {
  return bits === 64 ? 40 : 32;
}

/**
 * The width of time_t chronyd was built with, as far as we can know it: the addon's
 * sizeof(struct timeval) (compiled with this system's default headers, as Debian's chrony is), else
 * the architecture (32-bit ARM and x86 had a 32-bit time_t up to Debian 12).
 */
export function timevalBits(timevalBytes: number | undefined, arch: string = process.arch): TimevalBits {
  if (timevalBytes === 16) return 64;
  if (timevalBytes === 8) return 32;
  return arch === 'arm' || arch === 'ia32' ? 32 : 64;
}

/** The datagram for one sample. */
export function encodeSockSample(s: SockSample, bits: TimevalBits, littleEndian = endianness() === 'LE'): Buffer {
  if (!Number.isInteger(s.tvSec) || !Number.isInteger(s.tvUsec) || s.tvUsec < 0 || s.tvUsec >= 1_000_000) {
    throw new RangeError(`timeval out of range: ${s.tvSec}.${s.tvUsec}`);
  }
  if (!Number.isFinite(s.offsetS)) throw new RangeError(`offset not finite: ${s.offsetS}`);
  const b = Buffer.alloc(sampleBytes(bits));
  const le = littleEndian;
  let o = 0;
  if (bits === 64) {
    if (le) { b.writeBigInt64LE(BigInt(s.tvSec), 0); b.writeBigInt64LE(BigInt(s.tvUsec), 8); } else { b.writeBigInt64BE(BigInt(s.tvSec), 0); b.writeBigInt64BE(BigInt(s.tvUsec), 8); }
    o = 16;
  } else {
    if (s.tvSec > 0x7fffffff || s.tvSec < -0x80000000) throw new RangeError(`tv_sec does not fit a 32-bit time_t: ${s.tvSec}`);
    if (le) { b.writeInt32LE(s.tvSec, 0); b.writeInt32LE(s.tvUsec, 4); } else { b.writeInt32BE(s.tvSec, 0); b.writeInt32BE(s.tvUsec, 4); }
    o = 8;
  }
  const ints = [s.pulse ? 1 : 0, s.leap, 0, SOCK_MAGIC];
  if (le) b.writeDoubleLE(s.offsetS, o); else b.writeDoubleBE(s.offsetS, o);
  ints.forEach((v, i) => (le ? b.writeInt32LE(v, o + 8 + 4 * i) : b.writeInt32BE(v, o + 8 + 4 * i)));
  return b;
}

/** Reads a datagram back (tests, and a check of what was sent). */
export function decodeSockSample(b: Buffer, bits: TimevalBits, littleEndian = endianness() === 'LE'): SockSample & { magic: number } {
  if (b.length !== sampleBytes(bits)) throw new RangeError(`a ${bits}-bit sample is ${sampleBytes(bits)} bytes, not ${b.length}`);
  const le = littleEndian;
  const i32 = (at: number) => (le ? b.readInt32LE(at) : b.readInt32BE(at));
  const o = bits === 64 ? 16 : 8;
  const tvSec = bits === 64 ? Number(le ? b.readBigInt64LE(0) : b.readBigInt64BE(0)) : i32(0);
  const tvUsec = bits === 64 ? Number(le ? b.readBigInt64LE(8) : b.readBigInt64BE(8)) : i32(4);
  return {
    tvSec, tvUsec, offsetS: le ? b.readDoubleLE(o) : b.readDoubleBE(o), pulse: i32(o + 8) !== 0,
    leap: i32(o + 12) as 0 | 1 | 2, magic: i32(o + 20),
  };
}

/**
 * A full-timestamp sample (pulse 0) for a PPS edge seen at system time S whose true time is T: the
 * offset is T - S, true minus system time (positive when the system clock is behind), to the
 * nanosecond; tv is S cut to the microsecond (all a timeval holds). chronyd reads the pair as "at
 * system time tv the true time was tv + offset": the same offset a fraction of a microsecond earlier,
 * which the clock's rate error (ppm) cannot change by a measurable amount. (Folding the cut into the
 * offset instead, T - tv, would be wrong by up to a microsecond: it claims the edge happened at tv.)
 */
export function sampleForEdge(systemNs: Nanos, trueNs: Nanos, leap: 0 | 1 | 2): SockSample {
  const us = systemNs >= 0n ? systemNs / 1000n : (systemNs - 999n) / 1000n;
  const tvSec = Number(us >= 0n ? us / 1_000_000n : (us - 999_999n) / 1_000_000n);
  const tvUsec = Number(us - BigInt(tvSec) * 1_000_000n);
  return { tvSec, tvUsec, offsetS: Number(trueNs - systemNs) / 1e9, pulse: false, leap };
}

/** The socket calls the sender needs (the native addon's, or a test's). Errors are -errno values. */
export interface UnixDgramIo {
  open(path: string): number;
  send(fd: number, buf: Buffer): number;
  close(fd: number): void;
}

/** The sender's counters: the Status section's own fields (status.ts), and when it next tries. */
export type ChronySockStats = Pick<ChronySockStatus, 'path' | 'connected' | 'samplesSent' | 'sendErrors' | 'samplesSkipped' | 'reconnects' | 'lastError'> & {
  /** Seconds the next connection attempt is away (0 when connected). */
  retryInS: number;
};

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([k, v]) => [v, k]));
export const errnoName = (neg: number): string => ERRNO_NAMES.get(-neg) ?? `errno ${-neg}`;

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 16_000;

/**
 * One connected datagram socket to chronyd's SOCK path. Nothing runs on a timer: a connection is tried
 * when a sample is to be sent and the backoff allows it (1 s doubling to 16 s while chronyd is away;
 * samples arrive once a second, so that is also the retry clock). A send that fails for any reason but
 * a full buffer (EAGAIN: chronyd busy, the sample is dropped and counted) closes the socket: chronyd
 * re-creates its socket file when it restarts, so only a new connect reaches it. The first attempt
 * after losing a connection is immediate.
 */
export class ChronySockSender {
  private fd = -1;
  private everConnected = false;
  private nextTryMs = 0;
  private backoffMs = 0;
  private s = { samplesSent: 0, sendErrors: 0, samplesSkipped: 0, reconnects: 0 };
  private lastError: string | null = null;

  constructor(
    readonly path: string,
    private readonly io: UnixDgramIo,
    private readonly nowMs: () => number,
    private readonly onChange: (what: 'connected' | 'lost' | 'failed', detail: string) => void = () => {},
  ) {}

  /** Sends one datagram, connecting first if need be. Returns whether it went out. */
  send(buf: Buffer): boolean {
    if (this.fd < 0 && !this.connect()) {
      this.s.samplesSkipped++;
      return false;
    }
    const r = this.io.send(this.fd, buf);
    if (r === buf.length) {
      this.s.samplesSent++;
      return true;
    }
    this.s.sendErrors++;
    const err = r < 0 ? errnoName(r) : `short send (${r} of ${buf.length} bytes)`;
    this.lastError = err;
    if (r === -constants.errno.EAGAIN || r === -constants.errno.EWOULDBLOCK) return false;
    this.io.close(this.fd);
    this.fd = -1;
    this.backoffMs = 0;
    this.nextTryMs = this.nowMs();
    this.onChange('lost', err);
    return false;
  }

  private connect(): boolean {
    const now = this.nowMs();
    if (now < this.nextTryMs) return false;
    const fd = this.io.open(this.path);
    if (fd < 0) {
      const err = errnoName(fd);
      const first = this.backoffMs === 0;
      this.backoffMs = first ? BACKOFF_MIN_MS : Math.min(BACKOFF_MAX_MS, this.backoffMs * 2);
      this.nextTryMs = now + this.backoffMs;
      if (first || this.lastError !== err) this.onChange('failed', err);
      this.lastError = err;
      return false;
    }
    this.fd = fd;
    this.backoffMs = 0;
    if (this.everConnected) this.s.reconnects++;
    this.everConnected = true;
    this.onChange('connected', this.path);
    return true;
  }

  stats(): ChronySockStats {
    return {
      path: this.path, connected: this.fd >= 0, ...this.s, lastError: this.lastError,
      retryInS: this.fd >= 0 ? 0 : Math.max(0, (this.nextTryMs - this.nowMs()) / 1000),
    };
  }

  close(): void {
    if (this.fd >= 0) this.io.close(this.fd);
    this.fd = -1;
  }
}
