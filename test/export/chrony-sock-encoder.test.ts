/** The chronyd feed's pure parts: the struct sock_sample encoder, the sample for an edge, the sender's reconnects. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import {
  encodeSockSample, decodeSockSample, sampleForEdge, sampleBytes, timevalBits, ChronySockSender, SOCK_MAGIC, type UnixDgramIo,
} from '../../src/export/chrony-sock.ts';

const E = constants.errno;

test('64-bit time_t: 40 bytes, tv_sec and tv_usec as int64, the offset at 16, then pulse, leap, pad and magic', () => {
  const b = encodeSockSample({ tvSec: 1_800_000_123, tvUsec: 456_789, offsetS: -1.25e-6, pulse: false, leap: 1 }, 64, true);
  assert.equal(b.length, 40, 'sizeof(struct sock_sample) on x86-64 and arm64');
  assert.equal(b.readBigInt64LE(0), 1_800_000_123n, 'tv_sec');
  assert.equal(b.readBigInt64LE(8), 456_789n, 'tv_usec');
  assert.equal(b.readDoubleLE(16), -1.25e-6, 'offset');
  assert.equal(b.readInt32LE(24), 0, 'pulse');
  assert.equal(b.readInt32LE(28), 1, 'leap');
  assert.equal(b.readInt32LE(32), 0, '_pad');
  assert.equal(b.readInt32LE(36), 0x534f434b, 'magic');
  assert.equal(b.subarray(36).toString('latin1'), 'KCOS', "the magic is 'SOCK' as a little-endian int");
});

test('32-bit time_t (Debian 12 armhf, chrony 4.3): 32 bytes, the offset at 8', () => {
  const b = encodeSockSample({ tvSec: 1_800_000_123, tvUsec: 999_999, offsetS: 0.5, pulse: true, leap: 2 }, 32, true);
  assert.equal(b.length, 32, 'sizeof(struct sock_sample) with an 8-byte timeval');
  assert.equal(b.readInt32LE(0), 1_800_000_123, 'tv_sec');
  assert.equal(b.readInt32LE(4), 999_999, 'tv_usec');
  assert.equal(b.readDoubleLE(8), 0.5, 'offset');
  assert.equal(b.readInt32LE(16), 1, 'pulse');
  assert.equal(b.readInt32LE(20), 2, 'leap');
  assert.equal(b.readInt32LE(24), 0, '_pad');
  assert.equal(b.readInt32LE(28), SOCK_MAGIC, 'magic');
  assert.throws(() => encodeSockSample({ tvSec: 2 ** 31, tvUsec: 0, offsetS: 0, pulse: false, leap: 0 }, 32), RangeError,
    'a time past 2038 does not fit a 32-bit time_t: refused, not wrapped');
});

test('byte order follows the machine: a big-endian encoding decodes to the same sample', () => {
  const s = { tvSec: 1_700_000_000, tvUsec: 12, offsetS: 3.5e-9, pulse: false, leap: 0 } as const;
  for (const bits of [32, 64] as const) {
    const be = encodeSockSample(s, bits, false);
    assert.equal(be.readInt32BE(sampleBytes(bits) - 4), SOCK_MAGIC, `${bits}: magic big-endian`);
    assert.deepEqual(decodeSockSample(be, bits, false), { ...s, magic: SOCK_MAGIC }, `${bits}: round trip`);
  }
});

test('the width: the addon\'s sizeof(struct timeval) decides; without it the architecture', () => {
  assert.equal(timevalBits(16, 'arm'), 64, 'an armhf system built with a 64-bit time_t');
  assert.equal(timevalBits(8, 'x64'), 32, 'what the headers say wins');
  assert.equal(timevalBits(undefined, 'arm'), 32, 'armhf up to Debian 12');
  assert.equal(timevalBits(undefined, 'ia32'), 32, 'i386');
  assert.equal(timevalBits(undefined, 'arm64'), 64, 'arm64');
  assert.equal(timevalBits(undefined, 'x64'), 64, 'x86-64');
});

test('sample for an edge: offset is true minus system time (positive when the system clock is behind), to the nanosecond', () => {
  const T = 1_800_000_000n * 1_000_000_000n;
  // The system clock 212 ns ahead of GPS at the edge.
  const ahead = sampleForEdge(T + 212n, T, 0);
  assert.deepEqual([ahead.tvSec, ahead.tvUsec], [1_800_000_000, 0], 'tv: the system time cut to the microsecond');
  assert.equal(ahead.offsetS, -212e-9, 'ahead: negative');
  assert.equal(ahead.pulse, false, 'a full timestamp: the second is ours, from the trusted label');
  // 1 ms behind, and the cut carrying across a microsecond.
  const behind = sampleForEdge(T - 1_000_000n + 1_999n, T, 1);
  assert.deepEqual([behind.tvSec, behind.tvUsec], [1_799_999_999, 999_001], 'tv');
  assert.ok(Math.abs(behind.offsetS - (1_000_000 - 1_999) / 1e9) < 1e-15, `behind: positive, exact (${behind.offsetS})`);
  assert.equal(behind.leap, 1, 'the leap flag passes through');
  // Before 1970 (a clock that is very wrong): floor, not truncation toward zero.
  const neg = sampleForEdge(-1_500n, 0n, 0);
  assert.deepEqual([neg.tvSec, neg.tvUsec], [-1, 999_998], 'tv for -1.5 us');
  assert.equal(encodeSockSample(sampleForEdge(T, T, 2), 64).readInt32LE(28), 2, 'leap 2 (delete) in the datagram');
});

/** A socket stand-in: what each open and send returns, scripted; what was sent, kept. */
function fakeIo(): UnixDgramIo & { openResult: number; sendResult: number | undefined; sent: Buffer[]; opened: number; closed: number[] } {
  const io = {
    openResult: -E.ENOENT, sendResult: undefined as number | undefined, sent: [] as Buffer[], opened: 0, closed: [] as number[],
    open: () => { io.opened++; return io.openResult; },
    send: (_fd: number, b: Buffer) => { if (io.sendResult === undefined) { io.sent.push(b); return b.length; } return io.sendResult; },
    close: (fd: number) => { io.closed.push(fd); },
  };
  return io;
}

test('sender: backs off while chronyd is away, reconnects when it is back, and again after it restarts', () => {
  let now = 0;
  const io = fakeIo();
  const changes: string[] = [];
  const s = new ChronySockSender('/run/chrony.sock', io, () => now, (what, d) => changes.push(`${what} ${d}`));
  const buf = Buffer.alloc(40);
  assert.equal(s.send(buf), false, 'nobody listening');
  assert.equal(io.opened, 1, 'one attempt');
  now = 500;
  assert.equal(s.send(buf), false, 'within the first second of backoff');
  assert.equal(io.opened, 1, 'no attempt inside the backoff');
  now = 1000;
  s.send(buf);
  assert.equal(io.opened, 2, 'tried again after 1 s');
  now = 2999; s.send(buf);
  assert.equal(io.opened, 2, 'then waits 2 s');
  now = 3000; s.send(buf);
  assert.equal(io.opened, 3, 'tried again after 2 s');
  assert.equal(s.stats().samplesSkipped, 5, 'every sample not sent is counted');
  assert.equal(s.stats().lastError, 'ENOENT', 'the reason');
  io.openResult = 7;
  now = 7000;
  assert.equal(s.send(buf), true, 'chronyd is there');
  assert.equal(io.sent.length, 1, 'sent');
  assert.equal(s.stats().connected, true, 'connected');
  assert.equal(s.stats().reconnects, 0, 'the first connection is not a reconnect');
  io.sendResult = -E.EAGAIN;
  assert.equal(s.send(buf), false, 'a full buffer drops the sample');
  assert.equal(s.stats().connected, true, 'but keeps the connection');
  io.sendResult = -E.ECONNREFUSED;
  assert.equal(s.send(buf), false, 'chronyd stopped');
  assert.deepEqual(io.closed, [7], 'the dead socket is closed');
  assert.equal(s.stats().connected, false, 'not connected');
  assert.equal(s.stats().sendErrors, 2, 'EAGAIN and ECONNREFUSED counted');
  io.sendResult = undefined;
  io.openResult = 9;
  assert.equal(s.send(buf), true, 'the first attempt after a lost connection is immediate');
  assert.equal(s.stats().reconnects, 1, 'one reconnect');
  assert.deepEqual(changes, ['failed ENOENT', 'connected /run/chrony.sock', 'lost ECONNREFUSED', 'connected /run/chrony.sock'],
    'one message per change, not one per retry');
  s.close();
  assert.deepEqual(io.closed, [7, 9], 'closed on stop');
});
