import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UpstreamPeer } from '../../src/integrity/ntp-client.ts';
import { selectMajority, serverState } from '../../src/integrity/select.ts';
import { decodePacket, encodeHeader, NTP_HEADER, refIdFromAscii } from '../../src/ntp/packet.ts';
import { toNtp64, NS_PER_S, type Clock } from '../../src/time/index.ts';
import { UdpUpstream, canonicalIp } from '../../src/integrity/upstream-udp.ts';
import { createSocket } from 'node:dgram';

const S = NS_PER_S;
const T0 = BigInt(Date.now()) * 1_000_000n;
let cookie = 0n;
const peer = (iburst = true) => new UpstreamPeer({ name: 'srv', minPollLog2: 6, maxPollLog2: 10, iburst }, () => ++cookie + 0x1234_5678_0000n);

/** A server whose clock is `offsetNs` ahead of ours, answering a request sent at t1 after delayNs. */
function answer(req: Buffer, t1: bigint, offsetNs: number, delayNs: number, over: Partial<{ stratum: number; li: number; refId: number; origin: bigint; precision: number; rootDispersion: number }> = {}) {
  const d = decodePacket(req);
  assert.ok(d.ok);
  const srv = t1 + BigInt(delayNs / 2) + BigInt(offsetNs);
  const out = Buffer.alloc(NTP_HEADER);
  encodeHeader({
    li: over.li ?? 0, version: 4, mode: 4, stratum: over.stratum ?? 2, poll: 6, precision: over.precision ?? -20, rootDelay: 0, rootDispersion: over.rootDispersion ?? 0,
    refId: over.refId ?? 0x7f000001, refTime: toNtp64(srv), origin: over.origin ?? d.header.transmit, receive: toNtp64(srv), transmit: toNtp64(srv),
  }, out);
  return { reply: out, t4: t1 + BigInt(delayNs) };
}

test('upstream client: the offset and delay of an exchange, against the served clock', () => {
  const p = peer();
  assert.equal(p.due(T0), true);
  const req = p.request(T0);
  const d = decodePacket(req);
  assert.ok(d.ok && d.header.mode === 3 && d.header.version === 4);
  // The transmit timestamp is a cookie, not our time.
  assert.notEqual(d.header.transmit, toNtp64(T0));
  const { reply, t4 } = answer(req, T0, 2_500_000, 400_000);
  const v = p.onReply(reply, t4);
  assert.ok(v.ok, v.ok ? "" : v.reason);
  assert.ok(Math.abs(v.sample.offsetNs - 2_500_000) < 10, `offset ${v.sample.offsetNs}`);
  assert.ok(Math.abs(v.sample.delayNs - 400_000) < 10);
  const s = p.snapshot(t4);
  assert.equal(s.reach, 1);
  assert.equal(s.stratum, 2);
  assert.equal(s.refId, '127.0.0.1');
  assert.ok(s.rootDistanceNs! >= 200_000, 'root distance holds half the delay');
});

test('upstream client: only a reply to our last request is believed, once', () => {
  const p = peer();
  const req = p.request(T0);
  const forged = answer(req, T0, 0, 1000, { origin: 42n });
  assert.deepEqual((p.onReply(forged.reply, forged.t4) as { reason: string }).reason, 'unexpected');
  const good = answer(req, T0, 0, 1000);
  assert.ok(p.onReply(good.reply, good.t4).ok);
  assert.equal((p.onReply(good.reply, good.t4) as { reason: string }).reason, 'duplicate');
  assert.equal((p.onReply(Buffer.from('short'), good.t4) as { reason: string }).reason, 'malformed');
  assert.equal(p.snapshot(good.t4).counters.received, 1);
});

test('upstream client: an unsynchronized server gives no sample; kiss o\' death RATE slows, DENY stops', () => {
  const p = peer(false);
  let t = T0;
  let r = answer(p.request(t), t, 0, 1000, { li: 3, stratum: 16 });
  assert.equal((p.onReply(r.reply, r.t4) as { reason: string }).reason, 'unsynchronized');
  assert.equal(p.snapshot(r.t4).offsetNs, undefined);
  assert.equal(p.snapshot(r.t4).pollS, 64);
  t += 64n * S;
  assert.ok(p.due(t));
  r = answer(p.request(t), t, 0, 1000, { stratum: 0, refId: refIdFromAscii('RATE') });
  assert.equal((p.onReply(r.reply, r.t4) as { reason: string }).reason, 'kiss');
  assert.equal(p.snapshot(r.t4).pollS, 128);
  t += 128n * S;
  r = answer(p.request(t), t, 0, 1000, { stratum: 0, refId: refIdFromAscii('DENY') });
  p.onReply(r.reply, r.t4);
  assert.equal(p.snapshot(r.t4).state, 'refused');
  assert.equal(p.due(t + 10_000n * S), false);
});

test('upstream client: iburst polls four times 2 s apart, then every 64 s; reach and unreachable', () => {
  const p = peer(true);
  const sends: number[] = [];
  for (let s = 0; s < 300; s++) {
    const t = T0 + BigInt(s) * S;
    if (p.due(t)) {
      sends.push(s);
      const req = p.request(t);
      if (s < 100) {
        const r = answer(req, t, 0, 1000);
        p.onReply(r.reply, r.t4);
      }
    }
  }
  assert.deepEqual(sends.slice(0, 6), [0, 2, 4, 6, 70, 134]);
  const snap = p.snapshot(T0 + 300n * S);
  // Answered: 0, 2, 4, 6, 70; lost: 134, 198, 262 (the last three polls).
  assert.equal(snap.reach, 0b11111000);
  let t = T0 + 300n * S;
  for (let i = 0; i < 10; i++) {
    t += 1100n * S;
    if (p.due(t)) p.request(t);
  }
  assert.equal(p.snapshot(t).state, 'unreachable');
});

test('upstream client: a step of the served clock moves the kept offsets', () => {
  const p = peer(false);
  const r = answer(p.request(T0), T0, 1_000_000, 1000);
  p.onReply(r.reply, r.t4);
  p.servedClockStepped(400_000);
  assert.ok(Math.abs(p.snapshot(r.t4).offsetNs! - 600_000) < 10);
});

test('select: the majority\'s interval, and the falseticker named', () => {
  const ms = 1_000_000;
  const sel = selectMajority([
    { name: 'a', offsetNs: 0.2 * ms, rootDistanceNs: 1 * ms },
    { name: 'b', offsetNs: -0.3 * ms, rootDistanceNs: 1 * ms },
    { name: 'c', offsetNs: 5000 * ms, rootDistanceNs: 1 * ms },
  ], 3);
  assert.equal(sel.required, 2);
  assert.deepEqual(sel.majority?.members, ['a', 'b']);
  assert.deepEqual(sel.falsetickers, ['c']);
  assert.ok(sel.majority!.lowNs === -0.8 * ms && sel.majority!.highNs === 0.7 * ms);
});

test('select: no majority of those configured, no verdict; touching intervals agree', () => {
  const ms = 1_000_000;
  const two = [{ name: 'a', offsetNs: 0, rootDistanceNs: ms }, { name: 'b', offsetNs: 0, rootDistanceNs: ms }];
  assert.equal(selectMajority(two, 5).majority, undefined, 'two of five is no majority');
  assert.equal(selectMajority([{ name: 'a', offsetNs: 0, rootDistanceNs: ms }, { name: 'b', offsetNs: 10 * ms, rootDistanceNs: ms }], 2).majority, undefined);
  const touch = selectMajority([{ name: 'a', offsetNs: 0, rootDistanceNs: ms }, { name: 'b', offsetNs: 2 * ms, rootDistanceNs: ms }], 2);
  assert.deepEqual(touch.majority?.members, ['a', 'b']);
  assert.equal(touch.majority?.lowNs, ms);
});

test('upstream client: a server may vote only while it answers, says it is synchronized, and vouches for under a second', () => {
  const fitAfter = (over: Parameters<typeof answer>[4]) => {
    const p = peer(false);
    const r = answer(p.request(T0), T0, 0, 1000, over);
    p.onReply(r.reply, r.t4);
    return p.snapshot(r.t4);
  };
  assert.equal(fitAfter({}).fit, true);
  const vague = fitAfter({ precision: 127 });
  assert.equal(vague.fit, false);
  assert.match(vague.unfit, /root distance .* over 1 s/);
  assert.equal(fitAfter({ rootDispersion: 3 * 65536 }).fit, false, 'a root dispersion of 3 s vouches for nothing');
  // Synchronized, then not: its earlier sample no longer votes.
  const p = peer(false);
  let r = answer(p.request(T0), T0, 0, 1000);
  p.onReply(r.reply, r.t4);
  const t = T0 + 64n * S;
  r = answer(p.request(t), t, 0, 1000, { li: 3, stratum: 16 });
  p.onReply(r.reply, r.t4);
  assert.equal(p.snapshot(r.t4).fit, false);
  assert.match(p.snapshot(r.t4).unfit, /not synchronized/);
  // Silent for eight polls: reach 0, no vote.
  const q = peer(false);
  r = answer(q.request(T0), T0, 0, 1000);
  q.onReply(r.reply, r.t4);
  let u = T0;
  for (let i = 0; i < 8; i++) {
    u += 2000n * S;
    if (q.due(u)) q.request(u);
  }
  assert.equal(q.snapshot(u).reach, 0);
  assert.equal(q.snapshot(u).fit, false);
});

test('upstream client: a step of the served clock moves the next poll with it', () => {
  const p = peer(false);
  p.request(T0);
  assert.equal(p.due(T0 + 63n * S), false);
  p.servedClockStepped(-100 * 1e9); // the served clock went back 100 s
  assert.equal(p.due(T0 - 100n * S + 63n * S), false);
  assert.equal(p.due(T0 - 100n * S + 64n * S), true);
});

test('upstream socket: a reply from ::1 reaches a server configured as 0:0:0:0:0:0:0:1 (addresses compared in canonical form)', async (t) => {
  const srv = createSocket({ type: 'udp6', ipv6Only: true });
  try {
    await new Promise<void>((res, rej) => { srv.once('error', rej); srv.bind(0, '::1', () => res()); });
  } catch {
    t.skip('no IPv6 loopback on this machine');
    return;
  }
  srv.on('message', (m, r) => {
    const d = decodePacket(m);
    if (!d.ok) return;
    const out = Buffer.alloc(NTP_HEADER);
    encodeHeader({ ...d.header, mode: 4, stratum: 2, origin: d.header.transmit, receive: toNtp64(BigInt(Date.now()) * 1_000_000n), transmit: toNtp64(BigInt(Date.now()) * 1_000_000n) }, out);
    srv.send(out, r.port, r.address);
  });
  const port = (srv.address() as { port: number }).port;
  const got: number[][] = [];
  const clock = { now: () => BigInt(Date.now()) * 1_000_000n, monotonic: () => process.hrtime.bigint() } as unknown as Clock;
  const u = new UdpUpstream([{ host: '0:0:0:0:0:0:0:1', port }, { host: '::1', port }], clock, (idx) => got.push(idx));
  const p = peer(false);
  u.send(0, p.request(clock.now()));
  for (let i = 0; i < 50 && !got.length; i++) await new Promise((r) => setTimeout(r, 20));
  u.close();
  srv.close();
  assert.deepEqual(got, [[0, 1]], 'both servers at that address are offered the reply');
  assert.equal(u.strays, 0);
  assert.equal(canonicalIp('2001:DB8:0:0::1'), '2001:db8::1');
});

test('select: what the selection makes of each server', () => {
  const ms = 1_000_000;
  const sel = selectMajority([{ name: 'a', offsetNs: 0, rootDistanceNs: ms }, { name: 'b', offsetNs: 0, rootDistanceNs: ms }, { name: 'c', offsetNs: 9e9, rootDistanceNs: ms }], 3);
  const peer = (name: string, over: Partial<Parameters<typeof serverState>[0]> = {}) => ({ name, state: 'polling' as const, fit: true, offsetNs: 0, ...over });
  assert.equal(serverState(peer('a'), sel), 'majority');
  assert.equal(serverState(peer('c'), sel), 'falseticker');
  assert.equal(serverState(peer('d', { offsetNs: undefined }), sel), 'polling');
  assert.equal(serverState(peer('e', { fit: false }), sel), 'unfit');
  assert.equal(serverState(peer('f', { state: 'refused' }), sel), 'refused');
  assert.equal(serverState(peer('a'), selectMajority([], 3)), 'candidate');
});
