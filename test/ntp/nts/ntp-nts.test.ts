/** NTS in the NTP server core (RFC 8915 section 5), pure: authenticated replies with the unique
 * identifier echoed and fresh cookies inside the authenticator, never larger than the request; NTS
 * NAK for a cookie we cannot open or a request that fails authentication; malformed NTS dropped. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { NtpServerCore, type NtpServerState, type NtpServerOptions } from '../../../src/ntp/server.ts';
import { CookieKeys } from '../../../src/ntp/nts/cookies.ts';
import { parseNtsRequest } from '../../../src/ntp/nts/ntp-ext.ts';
import { AesSivCmac256 } from '../../../src/ntp/nts/siv.ts';
import { toNtp64, fromDate, NS_PER_S } from '../../../src/time/index.ts';
import type { NtsCounters } from '../../../src/status/status.ts';
import { ntsRequest, readNtsReply, extField } from '../../helpers/nts.ts';

const NOW = fromDate(new Date('2026-11-25T12:00:00Z'));
const LOCKED: NtpServerState = { leapIndicator: 0, stratum: 1, refId: 'GPS', rootDispersionS: 0.000026, rootDelayS: 0, refTime: NOW - NS_PER_S, precisionLog2: -23 };

function setup() {
  const keys = new CookieKeys({ rotationS: 86400, graceS: 86400 });
  keys.rotate(1_800_000_000);
  const counters: NtsCounters = { keConnections: 0, keSessions: 0, keFailures: {}, requests: 0, replied: 0, naks: 0, failures: {}, cookiesIssued: 0 };
  const o: NtpServerOptions = { rateLimit: { enabled: false, intervalS: 2, burst: 16, slots: 1024, kod: false }, denyAction: 'drop', nts: { keys, counters } };
  const session = { c2s: randomBytes(32), s2c: randomBytes(32) };
  return { keys, counters, core: new NtpServerCore(o, undefined), session, cookie: keys.make(session) };
}

test('an NTS request gets an authenticated reply: unique identifier echoed, origin = transmit, a fresh cookie, no larger than the request', () => {
  const { core, session, cookie, keys, counters } = setup();
  const req = ntsRequest(cookie, session.c2s);
  const h = core.handle(req.packet, NOW, LOCKED, '192.0.2.1', 0);
  assert.ok(h.reply && h.seal, 'a reply to seal');
  if (!h.reply || !h.seal) return;
  const tx = toNtp64(NOW + 1000n);
  h.seal(tx);
  assert.ok(h.reply.length <= req.packet.length, `reply ${h.reply.length} <= request ${req.packet.length}`);
  assert.equal(h.reply.readBigUInt64BE(40), tx, 'transmit written by seal');
  assert.equal(h.reply.readBigUInt64BE(32), toNtp64(NOW), 'receive time');
  const r = readNtsReply(h.reply, session.s2c);
  assert.deepEqual([r.stratum, r.refId, r.origin], [1, 'GPS', req.transmit]);
  assert.deepEqual(r.uid, req.uid);
  assert.ok(r.authenticated, 'the authenticator verifies under S2C');
  assert.equal(r.cookies.length, 1);
  assert.notDeepEqual(r.cookies[0], cookie, 'a new cookie, not the one sent');
  const o = keys.open(r.cookies[0]!);
  assert.ok(o.ok && o.c2s.equals(session.c2s) && o.s2c.equals(session.s2c), 'the new cookie holds the same session keys');
  assert.deepEqual([counters.requests, counters.replied, counters.naks, counters.cookiesIssued], [1, 1, 0, 1]);
  assert.deepEqual(r.types, [0x0104, 0x0404], 'only the unique identifier and the authenticator in the clear');
});

test('a cookie and 7 placeholders get 8 cookies, and the reply is exactly as large as the request', () => {
  const { core, session, cookie } = setup();
  const req = ntsRequest(cookie, session.c2s, 7);
  const h = core.handle(req.packet, NOW, LOCKED, '192.0.2.1', 0);
  h.seal!(1n);
  assert.equal(h.reply!.length, req.packet.length);
  const r = readNtsReply(h.reply!, session.s2c);
  assert.ok(r.authenticated, 'authenticated');
  assert.equal(r.cookies.length, 8);
});

test('short placeholders: fewer cookies, so the reply is still no larger than the request', () => {
  const { core, session, cookie } = setup();
  const base = ntsRequest(cookie, session.c2s, 0);
  // Rebuild with three 12-byte placeholders (each 16 bytes on the wire): room for no more cookies.
  const withShort = ntsRequestWithFields(cookie, session.c2s, [extField(0x0304, Buffer.alloc(12)), extField(0x0304, Buffer.alloc(12)), extField(0x0304, Buffer.alloc(12))]);
  const h = core.handle(withShort, NOW, LOCKED, '192.0.2.1', 0);
  h.seal!(1n);
  assert.ok(h.reply!.length <= withShort.length, `${h.reply!.length} <= ${withShort.length}`);
  const r = readNtsReply(h.reply!, session.s2c);
  assert.ok(r.authenticated && r.cookies.length === 1, `one cookie fits: ${r.cookies.length}`);
  assert.ok(base.packet.length < withShort.length, 'the request with placeholders is larger');
});

function ntsRequestWithFields(cookie: Buffer, c2s: Buffer, extra: Buffer[]): Buffer {
  // The helper's request with `extra` fields inserted after the cookie (and authenticated).
  const one = ntsRequest(cookie, c2s, 0);
  const p = parseNtsRequest(one.packet);
  assert.ok(p.kind === 'nts', 'the helper builds a valid request');
  const ad = Buffer.concat([p.associated, ...extra]);
  const nonce = randomBytes(16);
  const ct = new AesSivCmac256(c2s).seal(Buffer.alloc(0), [ad], nonce);
  const body = Buffer.alloc(4);
  body.writeUInt16BE(16, 0);
  body.writeUInt16BE(ct.length, 2);
  return Buffer.concat([ad, extField(0x0404, Buffer.concat([body, nonce, ct]))]);
}
test('a cookie under an unknown key gets an NTS NAK: stratum 0, NTSN, the unique identifier, no cookie', () => {
  const { core, session, counters } = setup();
  const stranger = new CookieKeys({ rotationS: 86400, graceS: 86400 });
  stranger.rotate(1_800_000_000);
  const req = ntsRequest(stranger.make(session), session.c2s, 2);
  const h = core.handle(req.packet, NOW, LOCKED, '192.0.2.2', 0);
  assert.ok(h.reply && !h.seal, 'an unsealed NAK');
  const r = readNtsReply(h.reply!, session.s2c);
  assert.deepEqual([r.stratum, r.refId, r.origin, r.types], [0, 'NTSN', req.transmit, [0x0104]]);
  assert.deepEqual(r.uid, req.uid);
  assert.ok(h.reply!.length < req.packet.length, 'smaller than the request');
  assert.deepEqual([counters.naks, counters.failures['unknown-key']], [1, 1]);
});

test('a request whose authenticator fails (altered header, wrong C2S key) gets an NTS NAK', () => {
  const { core, session, cookie, counters } = setup();
  const req = ntsRequest(cookie, session.c2s);
  req.packet[2] = 10; // poll altered after signing
  const h1 = core.handle(req.packet, NOW, LOCKED, '192.0.2.3', 0);
  assert.equal(readNtsReply(h1.reply!, undefined).refId, 'NTSN');
  const h2 = core.handle(ntsRequest(cookie, randomBytes(32)).packet, NOW, LOCKED, '192.0.2.4', 0);
  assert.equal(readNtsReply(h2.reply!, undefined).refId, 'NTSN');
  assert.equal(counters.failures.authenticator, 2);
});

test('NAKs are rate limited like every kiss-o\'-death: a second to the same client within the interval is dropped', () => {
  const { core, session, counters } = setup();
  const bad = Buffer.alloc(100, 7);
  const h1 = core.handle(ntsRequest(bad, session.c2s).packet, NOW, LOCKED, '192.0.2.5', 0);
  const h2 = core.handle(ntsRequest(bad, session.c2s).packet, NOW, LOCKED, '192.0.2.5', 1);
  assert.ok(h1.reply, 'first NAK sent');
  assert.equal(h2.reply, undefined, 'second dropped');
  assert.deepEqual([counters.naks, counters.failures['nak-suppressed']], [1, 1]);
});

test('malformed NTS (two cookies, authenticator not last, no unique identifier, short unique identifier) is dropped', () => {
  const { core, session, cookie, counters } = setup();
  const ok = ntsRequest(cookie, session.c2s).packet;
  const hdr = ok.subarray(0, 48);
  const uid = extField(0x0104, randomBytes(32));
  const ck = extField(0x0204, cookie);
  const auth = ok.subarray(ok.length - 40);
  const cases: [string, Buffer][] = [
    ['two cookies', Buffer.concat([hdr, uid, ck, ck, auth])],
    ['authenticator not last', Buffer.concat([hdr, uid, ck, auth, extField(0x0304, Buffer.alloc(100))])],
    ['no unique identifier', Buffer.concat([hdr, ck, auth])],
    ['short unique identifier', Buffer.concat([hdr, extField(0x0104, Buffer.alloc(12)), ck, auth])],
    ['no authenticator', Buffer.concat([hdr, uid, ck])],
  ];
  for (const [name, pkt] of cases) {
    const h = core.handle(pkt, NOW, LOCKED, '192.0.2.6', 0);
    assert.equal(h.reply, undefined, name);
  }
  assert.equal(counters.failures.malformed, cases.length);
});

test('without NTS configured, a request with NTS fields is answered as plain NTP (48 bytes, nothing echoed)', () => {
  const { session, cookie } = setup();
  const core = new NtpServerCore({ rateLimit: { enabled: false, intervalS: 2, burst: 16, slots: 1024, kod: false }, denyAction: 'drop' }, undefined);
  const h = core.handle(ntsRequest(cookie, session.c2s).packet, NOW, LOCKED, '192.0.2.7', 0);
  assert.ok(h.reply && !h.seal && h.reply.length === 48, 'a plain 48-byte reply');
});
