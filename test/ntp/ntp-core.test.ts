/** The NTP server core and codec on hand-made packets (pure: no sockets). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NtpServerCore, type NtpServerState, type NtpServerOptions } from '../../src/ntp/server.ts';
import { decodePacket, encodeHeader, refIdToAscii, NTP_HEADER } from '../../src/ntp/packet.ts';
import { AccessList, parseCidr, cidrContains } from '../../src/ntp/acl.ts';
import { clientKey, RateLimiter, DistinctCounter } from '../../src/net/ratelimit.ts';
import { toNtp64, fromDate, NS_PER_S } from '../../src/time/index.ts';
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const NOW = fromDate(new Date('2026-11-25T12:00:00Z'));
const LOCKED: NtpServerState = { leapIndicator: 0, stratum: 1, refId: 'GPS', rootDispersionS: 0.000026, rootDelayS: 0, refTime: NOW - NS_PER_S, precisionLog2: -23 };
const UNSYNC: NtpServerState = { leapIndicator: 3, stratum: 16, refId: 'INIT', rootDispersionS: 16, rootDelayS: 0, refTime: 0n, precisionLog2: -23 };
const OPEN: NtpServerOptions = { rateLimit: { enabled: false, intervalS: 2, burst: 16, slots: 1024, kod: false }, denyAction: 'drop' };

function request(opts: { version?: number; mode?: number; extra?: Buffer; transmit?: bigint } = {}): Buffer {
  const b = Buffer.alloc(NTP_HEADER);
  encodeHeader({
    li: 0, version: opts.version ?? 4, mode: opts.mode ?? 3, stratum: 0, poll: 6, precision: -20, rootDelay: 0, rootDispersion: 0,
    refId: 0, refTime: 0n, origin: 0n, receive: 0n, transmit: opts.transmit ?? 0x1234_5678_9abc_def0n,
  }, b);
  return opts.extra ? Buffer.concat([b, opts.extra]) : b;
}

function ext(type: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(len, 2);
  return b;
}

test('a client request gets a mode 4 reply with our state, the origin echoed, receive time set', () => {
  const core = new NtpServerCore(OPEN, undefined);
  const h = core.handle(request(), NOW, LOCKED, '127.0.0.1', 0);
  assert.ok(h.reply);
  const d = decodePacket(h.reply);
  assert.ok(d.ok);
  if (!d.ok) return;
  assert.deepEqual([d.header.li, d.header.version, d.header.mode, d.header.stratum, d.header.precision], [0, 4, 4, 1, -23]);
  assert.equal(refIdToAscii(d.header.refId), 'GPS');
  assert.equal(d.header.origin, 0x1234_5678_9abc_def0n);
  assert.equal(d.header.receive, toNtp64(NOW));
  assert.equal(d.header.refTime, toNtp64(NOW - NS_PER_S));
  assert.equal(d.header.rootDispersion, Math.round(0.000026 * 65536));
  assert.equal(d.header.poll, 6);
  assert.equal(h.reply.length, NTP_HEADER);
});

test('an unsynchronized server says so: LI 3, stratum 16, INIT', () => {
  const core = new NtpServerCore(OPEN, undefined);
  const h = core.handle(request(), NOW, UNSYNC, '127.0.0.1', 0);
  const d = decodePacket(h.reply!);
  assert.ok(d.ok && d.header.li === 3 && d.header.stratum === 16 && refIdToAscii(d.header.refId) === 'INIT');
});

test('versions 1 to 4 are answered in their own version; NTPv1 mode 0 counts as a client', () => {
  const core = new NtpServerCore(OPEN, undefined);
  for (const v of [1, 2, 3, 4]) {
    const d = decodePacket(core.handle(request({ version: v }), NOW, LOCKED, '127.0.0.1', 0).reply!);
    assert.ok(d.ok && d.header.version === v && d.header.mode === 4);
  }
  const v1 = decodePacket(core.handle(request({ version: 1, mode: 0 }), NOW, LOCKED, '127.0.0.1', 0).reply!);
  assert.ok(v1.ok && v1.header.mode === 2);
  assert.deepEqual(core.counters.byVersionMode, { 'v1 mode 3': 1, 'v2 mode 3': 1, 'v3 mode 3': 1, 'v4 mode 3': 1, 'v1 mode 0': 1 });
});

test('modes 6 and 7 (and every mode but client) get nothing: no amplification', () => {
  const core = new NtpServerCore(OPEN, undefined);
  for (const mode of [1, 2, 4, 5, 6, 7]) {
    const h = core.handle(request({ mode, version: 2 }), NOW, LOCKED, '127.0.0.1', 0);
    assert.equal(h.reply, undefined, `mode ${mode}`);
  }
  assert.equal(core.counters.dropped.mode, 6);
  // A mode 7 (ntpd's monlist) query shorter than a header is malformed anyway.
  const monlist = Buffer.from([0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0]);
  assert.equal(core.handle(monlist, NOW, LOCKED, '127.0.0.1', 0).reply, undefined);
});

test('malformed packets are classified; extension fields are skipped; a reply is never larger than its request', () => {
  const core = new NtpServerCore(OPEN, undefined);
  const cases: [Buffer, string | undefined][] = [
    [Buffer.alloc(0), 'short'], [Buffer.alloc(47), 'short'],
    [Buffer.from([0x03 | (5 << 3), ...Buffer.alloc(47)]), 'version'],
    [Buffer.from([0x03, ...Buffer.alloc(47)]), 'version'], // version 0
    [request({ extra: Buffer.alloc(7) }), 'length'],
    [request({ extra: ext(0x0104, 12) }), 'extension'],
    [request({ extra: Buffer.concat([ext(0x0104, 28), Buffer.alloc(5)]) }), 'length'],
    [request({ extra: Buffer.concat([ext(0x0104, 16), ext(0x0204, 32)]) }), undefined], // two EFs, fine
    [request({ extra: Buffer.concat([ext(0x0104, 32), Buffer.alloc(20)]) }), undefined], // EF + MAC
    [request({ extra: Buffer.alloc(2000) }), 'extension'],
  ];
  for (const [pkt, reason] of cases) {
    const h = core.handle(pkt, NOW, LOCKED, '127.0.0.1', 0);
    if (reason) {
      assert.equal(h.reply, undefined, reason);
      assert.ok(!h.reply && h.reason === 'malformed');
    } else {
      assert.ok(h.reply && h.reply.length <= pkt.length);
    }
  }
  assert.deepEqual(core.counters.malformed, { short: 2, version: 2, length: 3, extension: 1 });
  // A request with a MAC of a key we do not have: a crypto-NAK, 52 bytes, smaller than the 68 asked.
  const signed = request({ extra: Buffer.alloc(20, 1) });
  const h = core.handle(signed, NOW, LOCKED, '127.0.0.1', 0);
  assert.equal(h.reply!.length, 52);
  assert.ok(h.reply!.subarray(48).equals(Buffer.alloc(4)));
});

test('rate limiting holds a client to its rate, recovers, and can answer with KoD RATE', () => {
  const opts = (kod: boolean): NtpServerOptions => ({ rateLimit: { enabled: true, intervalS: 2, burst: 4, slots: 1024, kod }, denyAction: 'drop' });
  const core = new NtpServerCore(opts(false), undefined);
  const results: boolean[] = [];
  for (let i = 0; i < 10; i++) results.push(core.handle(request(), NOW, LOCKED, '192.0.2.1', i * 0.1).reply !== undefined);
  assert.deepEqual(results, [true, true, true, true, false, false, false, false, false, false]);
  assert.ok(core.handle(request(), NOW, LOCKED, '192.0.2.2', 1).reply, 'another client is not affected');
  assert.ok(core.handle(request(), NOW, LOCKED, '192.0.2.1', 1 + 2.1).reply, 'one token back after 2 s');
  assert.equal(core.handle(request(), NOW, LOCKED, '192.0.2.1', 1 + 2.2).reply, undefined);
  assert.ok(core.handle(request(), NOW, LOCKED, '192.0.2.1', 100).reply, 'recovered');
  assert.equal(core.counters.dropped.rate, 7);
  const kod = new NtpServerCore(opts(true), undefined);
  const replies = Array.from({ length: 6 }, () => kod.handle(request({ transmit: 42n }), NOW, LOCKED, '192.0.2.1', 0).reply);
  const d = decodePacket(replies[4]!);
  assert.ok(d.ok && d.header.stratum === 0 && d.header.li === 3 && refIdToAscii(d.header.refId) === 'RATE' && d.header.origin === 42n);
  // One kiss per client per 16 s: the sixth request, over the limit again at once, is dropped silently.
  assert.equal(replies[5], undefined);
  assert.equal(kod.counters.kod, 1);
});

test('kiss-o\'-death answers are rate limited: no reflection of one packet per packet toward a spoofed address', () => {
  // Found under attack: with kod: true (or deny_action: kod) every over-limit packet got a KoD.
  const core = new NtpServerCore({ rateLimit: { enabled: true, intervalS: 2, burst: 4, slots: 65536, kod: true }, denyAction: 'kod' },
    new AccessList([], ['198.18.0.0/15']));
  // 10 000 requests from one (spoofed) address in 10 s: 4 answered, 1 KoD per 16 s, the rest silent.
  let kods = 0;
  let times = 0;
  for (let i = 0; i < 10_000; i++) {
    const h = core.handle(request(), NOW, LOCKED, '192.0.2.9', i / 1000);
    if (h.reply && h.kind === 'kod') kods++;
    else if (h.reply) times++;
  }
  assert.ok(times <= 4 + 5, `${times} time replies`);
  assert.equal(kods, 1);
  // 10 000 denied addresses in one second (a spoofed sweep): at most 100 KoD DENY in all.
  let deny = 0;
  for (let i = 0; i < 10_000; i++) {
    if (core.handle(request(), NOW, LOCKED, `198.18.${i >> 8}.${i & 255}`, 20 + i / 10_000).reply) deny++;
  }
  assert.equal(deny, 100);
});

test('allow and deny lists, IPv4 and IPv6, with deny as drop or KoD DENY', () => {
  const acl = new AccessList(['192.0.2.0/24', '2001:db8::/32'], ['192.0.2.128/25']);
  const drop = new NtpServerCore(OPEN, acl);
  assert.ok(drop.handle(request(), NOW, LOCKED, '192.0.2.10', 0).reply);
  assert.equal(drop.handle(request(), NOW, LOCKED, '192.0.2.200', 0).reply, undefined);
  assert.equal(drop.handle(request(), NOW, LOCKED, '198.51.100.1', 0).reply, undefined);
  assert.ok(drop.handle(request(), NOW, LOCKED, '2001:db8:1::5', 0).reply);
  assert.ok(drop.handle(request(), NOW, LOCKED, '::ffff:192.0.2.10', 0).reply, 'v4-mapped');
  assert.equal(drop.handle(request(), NOW, LOCKED, '2001:db9::5', 0).reply, undefined);
  assert.equal(drop.counters.dropped.denied, 3);
  const kod = new NtpServerCore({ ...OPEN, denyAction: 'kod' }, acl);
  const d = decodePacket(kod.handle(request(), NOW, LOCKED, '192.0.2.200', 0).reply!);
  assert.ok(d.ok && refIdToAscii(d.header.refId) === 'DENY' && d.header.stratum === 0);
  assert.throws(() => parseCidr('10.0.0.0/33'), /prefix/);
  assert.throws(() => parseCidr('example.org'), /not an IPv4 or IPv6/);
  assert.ok(cidrContains(parseCidr('::/0'), '::1'));
});

test('IPv6 clients are keyed by /64; memory is bounded whatever the number of clients', () => {
  assert.equal(clientKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
  assert.equal(clientKey('::1'), '0:0:0:0::/64');
  assert.equal(clientKey('::ffff:10.1.2.3'), '10.1.2.3');
  const rl = new RateLimiter({ intervalS: 1, burst: 2, slots: 4096 });
  for (let i = 0; i < 200_000; i++) rl.allow(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, i / 1000);
  assert.equal(rl.capacity, 4096);
  assert.ok(rl.evictions > 190_000);
});

test('distinct clients are estimated within a few percent', () => {
  const dc = new DistinctCounter();
  for (let i = 0; i < 100_000; i++) dc.add(`127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  for (let i = 0; i < 50_000; i++) dc.add(`127.0.${(i >> 8) & 255}.${i & 255}`); // repeats
  const e = dc.estimate();
  assert.ok(Math.abs(e - 100_000) / 100_000 < 0.1, `estimate ${e}`);
  const small = new DistinctCounter();
  for (let i = 0; i < 37; i++) small.add(`192.0.2.${i}`);
  assert.ok(Math.abs(small.estimate() - 37) <= 2, `small estimate ${small.estimate()}`);
});

test('a million requests from 100 000 addresses leave the core\'s memory bounded', () => {
  const core = new NtpServerCore({ rateLimit: { enabled: true, intervalS: 2, burst: 16, slots: 65536, kod: false }, denyAction: 'drop' }, undefined);
  const req = request();
  const step = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const a = i % 100_000;
      core.handle(req, NOW, LOCKED, `127.${(a >> 16) & 255}.${(a >> 8) & 255}.${a & 255}`, i / 100_000);
    }
  };
  step(0, 200_000);
  gc();
  const mid = process.memoryUsage().heapUsed;
  step(200_000, 1_000_000);
  gc();
  const end = process.memoryUsage().heapUsed;
  assert.equal(core.counters.received, 1_000_000);
  assert.ok(end - mid < 16 * 1024 * 1024, `heap grew ${((end - mid) / 1e6).toFixed(1)} MB over the last 800 000 requests`);
  assert.ok(Math.abs(core.distinct.estimate() - 100_000) < 10_000);
});
