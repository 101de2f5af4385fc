import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decode, encodeTimed, encodeAnnounce, encodeManagement, encodeDelayResp, clockIdentityFromMac, identityHex, ptpTime, ptpTimeNs,
  MSG, MGMT_ACTION, MGMT_ID, ALL_PORTS, FLAG_TWO_STEP, FLAG_PTP_TIMESCALE, FLAG_TIME_TRACEABLE, FLAG_UTC_OFFSET_VALID, TLV_MANAGEMENT_ERROR_STATUS,
  type PortIdentity,
} from '../../src/ptp/codec.ts';
import { GrandmasterCore, scaledLogVariance, compareClocks, timePropertiesFrom, type TimeProperties, type PtpEvent, type GrandmasterOptions } from '../../src/ptp/grandmaster.ts';
import type { Status } from '../../src/status/status.ts';

const ours = clockIdentityFromMac('b8:27:eb:12:34:56');
const other: PortIdentity = { clockIdentity: Buffer.from('0011223344556677', 'hex'), portNumber: 1 };
const props = (clockClass = 6): TimeProperties => ({
  quality: { clockClass, clockAccuracy: 0x27, offsetScaledLogVariance: scaledLogVariance(400) }, currentUtcOffset: 37, utcOffsetValid: true,
  leap59: false, leap61: false, timeTraceable: clockClass === 6, frequencyTraceable: clockClass === 6, timeSource: 0x20,
});
const core = (events: PtpEvent[] = [], over: Partial<GrandmasterOptions> = {}) => new GrandmasterCore({
  clockIdentity: ours, domain: 0, priority1: 128, priority2: 128, logAnnounceInterval: 1, logSyncInterval: 0, logMinDelayReqInterval: 0,
  announceReceiptTimeout: 3, managementPerSecond: 5, maxForeignMasters: 16, delayRespPerSecond: 1000, ...over,
}, props(), (e) => events.push(e));
const T = 1_800_000_037_123_456_789n; // some TAI time

test('clockIdentity is the EUI-64 of the MAC; timestamps are 48+32 bits and round-trip', () => {
  assert.equal(identityHex(ours), 'b827eb.fffe.123456');
  assert.throws(() => clockIdentityFromMac('b8:27:eb:12:34'), /not a MAC address/);
  const t = ptpTime(T);
  assert.deepEqual(t, { seconds: 1_800_000_037n, nanoseconds: 123_456_789 });
  const m = decode(encodeTimed({ messageType: MSG.SYNC, domainNumber: 3, flags: FLAG_TWO_STEP, sourcePortIdentity: other, sequenceId: 65535, logMessageInterval: -3 }, t));
  assert.ok(m.ok && m.kind === 'sync');
  assert.equal(ptpTimeNs(m.timestamp), T);
  assert.equal(m.header.domainNumber, 3);
  assert.equal(m.header.logMessageInterval, -3);
  assert.equal(m.header.sequenceId, 65535);
  assert.equal(m.header.control, 0);
  // Seconds past 2^32 (year 2106) keep their upper 16 bits.
  const far = decode(encodeTimed({ messageType: MSG.FOLLOW_UP, domainNumber: 0, flags: 0, sourcePortIdentity: other, sequenceId: 1, logMessageInterval: 0 }, { seconds: 0x1_0000_0005n, nanoseconds: 7 }));
  assert.ok(far.ok && far.kind === 'follow_up' && far.timestamp.seconds === 0x1_0000_0005n);
});

test('malformed and foreign messages are classified, never thrown', () => {
  const good = encodeTimed({ messageType: MSG.DELAY_REQ, domainNumber: 0, flags: 0, sourcePortIdentity: other, sequenceId: 1, logMessageInterval: 0 }, ptpTime(0n));
  const v1 = Buffer.from(good);
  v1[1] = 1;
  const badLen = Buffer.from(good);
  badLen.writeUInt16BE(200, 2);
  const shortAnnounce = Buffer.from(good);
  shortAnnounce[0] = MSG.ANNOUNCE;
  const unknown = Buffer.from(good);
  unknown[0] = 0x5;
  const mgmt = encodeManagement({ messageType: MSG.MANAGEMENT, domainNumber: 0, flags: 0, sourcePortIdentity: other, sequenceId: 1, logMessageInterval: 0x7f }, ALL_PORTS, 0, 0, MGMT_ACTION.GET, MGMT_ID.DEFAULT_DATA_SET, Buffer.alloc(0));
  const badTlv = Buffer.from(mgmt);
  badTlv.writeUInt16BE(400, 50);
  const cases: [Buffer, string][] = [[Buffer.alloc(10), 'short'], [v1, 'version'], [badLen, 'length'], [shortAnnounce, 'length'], [unknown, 'type'], [badTlv, 'tlv']];
  for (const [b, reason] of cases) {
    const d = decode(b);
    assert.ok(!d.ok && d.reason === reason, `${reason}: ${JSON.stringify(d)}`);
  }
  let seed = 99;
  const r = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const c = core();
  for (let i = 0; i < 20_000; i++) {
    const b = Buffer.alloc(Math.floor(r() * 100));
    for (let k = 0; k < b.length; k++) b[k] = Math.floor(r() * 256);
    if (b.length > 4 && i % 2) b[1] = 2;
    if (b.length > 4 && i % 4 === 1) b.writeUInt16BE(b.length, 2);
    c.receive(b, T); // must not throw
  }
  assert.ok(Object.values(c.counters.malformed).reduce((a, b) => a + b, 0) > 10_000);
});

test('Announce carries the clock quality and time properties; a Delay_Req gets its receive time back', () => {
  const c = core();
  const a = decode(c.announce(T).msg);
  assert.ok(a.ok && a.kind === 'announce');
  assert.equal(a.announce.grandmasterClockQuality.clockClass, 6);
  assert.equal(a.announce.currentUtcOffset, 37);
  assert.equal(a.announce.timeSource, 0x20);
  assert.ok(a.announce.grandmasterIdentity.equals(ours));
  assert.equal(a.header.flags & 0xff, FLAG_PTP_TIMESCALE | FLAG_TIME_TRACEABLE | FLAG_UTC_OFFSET_VALID | 0x20);
  c.setProperties(props(52));
  const b = decode(c.announce(T).msg);
  assert.ok(b.ok && b.kind === 'announce' && b.announce.grandmasterClockQuality.clockClass === 52 && (b.header.flags & FLAG_TIME_TRACEABLE) === 0);
  const s = c.sync();
  const sd = decode(s.msg);
  assert.ok(sd.ok && (sd.header.flags & FLAG_TWO_STEP) !== 0 && s.sync === sd.header.sequenceId);
  const f = decode(c.followUp(s.sync!, T).msg);
  assert.ok(f.ok && f.kind === 'follow_up' && ptpTimeNs(f.timestamp) === T && f.header.sequenceId === s.sync);
  const req = encodeTimed({ messageType: MSG.DELAY_REQ, domainNumber: 0, flags: 0, sourcePortIdentity: other, sequenceId: 77, logMessageInterval: 0x7f, correction: 1234n }, ptpTime(0n));
  const [resp] = c.receive(req, T + 5n);
  const r = decode(resp!.msg);
  assert.ok(r.ok && r.kind === 'delay_resp');
  assert.equal(ptpTimeNs(r.timestamp), T + 5n);
  assert.equal(r.header.sequenceId, 77);
  assert.equal(r.header.correction, 1234n);
  assert.ok(r.requestingPortIdentity.clockIdentity.equals(other.clockIdentity));
  // Another domain: counted, not answered.
  const other3 = encodeTimed({ messageType: MSG.DELAY_REQ, domainNumber: 3, flags: 0, sourcePortIdentity: other, sequenceId: 1, logMessageInterval: 0 }, ptpTime(0n));
  assert.deepEqual(c.receive(other3, T), []);
  assert.equal(c.counters.otherDomain, 1);
  assert.equal(c.counters.sent.delay_resp, 1);
});

test('Management: GETs of the five data sets answered, anything else refused, a flood limited', () => {
  const c = core();
  const get = (id: number, action: number = MGMT_ACTION.GET, target = ALL_PORTS) =>
    c.receive(encodeManagement({ messageType: MSG.MANAGEMENT, domainNumber: 0, flags: 0, sourcePortIdentity: other, sequenceId: 9, logMessageInterval: 0x7f }, target, 1, 1, action, id, Buffer.alloc(0)), T);
  const sizes: Record<number, number> = { [MGMT_ID.DEFAULT_DATA_SET]: 20, [MGMT_ID.CURRENT_DATA_SET]: 18, [MGMT_ID.PARENT_DATA_SET]: 32, [MGMT_ID.TIME_PROPERTIES_DATA_SET]: 4, [MGMT_ID.PORT_DATA_SET]: 26 };
  for (const [id, size] of Object.entries(sizes)) {
    const [out] = get(Number(id));
    const d = decode(out!.msg);
    assert.ok(d.ok && d.kind === 'management');
    assert.equal(d.management.action, MGMT_ACTION.RESPONSE);
    assert.equal(d.management.managementId, Number(id));
    assert.equal(d.management.data.length, size);
    assert.ok(d.management.targetPortIdentity.clockIdentity.equals(other.clockIdentity));
  }
  const dds = c.dataSet(MGMT_ID.DEFAULT_DATA_SET)!;
  assert.equal(dds[5], 6); // clockClass
  assert.ok(dds.subarray(10, 18).equals(ours));
  const err = (out: ReturnType<typeof get>) => out[0]!.msg.readUInt16BE(48);
  const fresh = core();
  const ask = (id: number, action: number) => fresh.receive(encodeManagement({ messageType: MSG.MANAGEMENT, domainNumber: 0, flags: 0, sourcePortIdentity: other, sequenceId: 1, logMessageInterval: 0x7f }, ALL_PORTS, 0, 0, action, id, Buffer.alloc(2)), T);
  assert.equal(err(ask(0x2005 /* PRIORITY1 */, MGMT_ACTION.SET)), TLV_MANAGEMENT_ERROR_STATUS);
  assert.equal(err(ask(MGMT_ID.CLOCK_DESCRIPTION, MGMT_ACTION.GET)), TLV_MANAGEMENT_ERROR_STATUS);
  assert.equal(err(ask(0x7777, MGMT_ACTION.GET)), TLV_MANAGEMENT_ERROR_STATUS);
  // Addressed to another clock: silence.
  assert.deepEqual(get(MGMT_ID.DEFAULT_DATA_SET, MGMT_ACTION.GET, other), []);
  // At most managementPerSecond (5) answers in a second.
  const before = c.counters.managementDropped;
  let answered = 0;
  for (let i = 0; i < 20; i++) answered += get(MGMT_ID.PORT_DATA_SET).length;
  assert.ok(answered <= 5);
  assert.ok(c.counters.managementDropped - before >= 15);
});

test('a better master on the domain is reported, not obeyed; its silence is reported too', () => {
  const events: PtpEvent[] = [];
  const c = core(events);
  const announce = (priority1: number, clockClass: number) => encodeAnnounce({ messageType: MSG.ANNOUNCE, domainNumber: 0, flags: 0, sourcePortIdentity: other, sequenceId: 1, logMessageInterval: 1 }, {
    originTimestamp: ptpTime(T), currentUtcOffset: 37, grandmasterPriority1: priority1, grandmasterClockQuality: { clockClass, clockAccuracy: 0x21, offsetScaledLogVariance: 0x4000 },
    grandmasterPriority2: 128, grandmasterIdentity: other.clockIdentity, stepsRemoved: 0, timeSource: 0x20,
  });
  c.receive(announce(128, 248), T); // worse: tracked, no event
  assert.equal(events.length, 0);
  assert.equal(c.foreign.size, 1);
  c.receive(announce(10, 6), T + 1_000_000_000n); // better
  assert.equal(events.length, 1);
  assert.equal(events[0]!.kind, 'betterMaster');
  c.receive(announce(10, 6), T + 2_000_000_000n); // still better: once only
  assert.equal(events.length, 1);
  // Our own Announce is unchanged: we stay grandmaster.
  const a = decode(c.announce(T).msg);
  assert.ok(a.ok && a.kind === 'announce' && a.announce.grandmasterIdentity.equals(ours));
  c.expire(T + 2_000_000_000n + 7_000_000_000n); // 3 x 2 s without an Announce
  assert.equal(events.at(-1)!.kind, 'betterMasterGone');
  assert.equal(c.foreign.size, 0);
  assert.ok(compareClocks({ priority1: 128, quality: props().quality, priority2: 128, identity: ours }, { priority1: 128, quality: props(7).quality, priority2: 128, identity: ours }) < 0);
});

test('offsetScaledLogVariance from a one-sigma time error', () => {
  assert.equal(scaledLogVariance(null), 0xffff);
  assert.equal(scaledLogVariance(1000), Math.round(Math.log2(1e-12) * 256) + 0x8000);
  assert.ok(scaledLogVariance(100) < scaledLogVariance(10_000));
});

test('Announce follows Status: traceable while synchronized, the variance from the servo\'s own sigma', () => {
  // Mid-slew: the error estimate (2.576 sigma plus the 4.9 us of slew still to do) over errorK would
  // claim a variance a hundred times worse than the servo's.
  const d = { synchronized: true, ptpClockClass: 6, ptpClockAccuracy: 0x23, sigmaNs: 40, timeErrorEstimateNs: 5003, taiUtcS: 37, leapIndicator: 0, everLocked: true };
  const on = timePropertiesFrom({ discipline: d } as unknown as Status, 37);
  assert.equal(on.quality.offsetScaledLogVariance, scaledLogVariance(40));
  assert.notEqual(on.quality.offsetScaledLogVariance, scaledLogVariance(5003 / 2.576));
  assert.equal(on.timeTraceable, true);
  assert.equal(on.frequencyTraceable, true);
  const off = timePropertiesFrom({ discipline: { ...d, synchronized: false, ptpClockClass: 52 } } as unknown as Status, 37);
  assert.equal(off.timeTraceable, false);
  assert.equal(off.quality.offsetScaledLogVariance, 0xffff);
});

test('Delay_Resp encoding carries the requesting port', () => {
  const b = encodeDelayResp({ messageType: MSG.DELAY_RESP, domainNumber: 0, flags: 0, sourcePortIdentity: { clockIdentity: ours, portNumber: 1 }, sequenceId: 5, logMessageInterval: 0 }, ptpTime(T), other);
  const d = decode(b);
  assert.ok(d.ok && d.kind === 'delay_resp' && d.requestingPortIdentity.portNumber === 1 && d.header.control === 3);
});

/** An Announce from `identity` (as source and grandmaster), better than us unless said otherwise. */
const announceFrom = (identity: Buffer, priority1 = 10, gm: Buffer = identity) => encodeAnnounce({ messageType: MSG.ANNOUNCE, domainNumber: 0, flags: 0, sourcePortIdentity: { clockIdentity: identity, portNumber: 1 }, sequenceId: 1, logMessageInterval: 1 }, {
  originTimestamp: ptpTime(T), currentUtcOffset: 37, grandmasterPriority1: priority1, grandmasterClockQuality: { clockClass: 6, clockAccuracy: 0x21, offsetScaledLogVariance: 0x4000 },
  grandmasterPriority2: 128, grandmasterIdentity: gm, stepsRemoved: gm.equals(identity) ? 0 : 1, timeSource: 0x20,
});
const identityOf = (i: number) => { const b = Buffer.alloc(8); b.writeUInt32BE(0xdead0000 + (i >>> 16), 0); b.writeUInt32BE(i, 4); return b; };

test('hostile LAN: 100 000 Announces from new identities keep the foreign master table at its bound, and are one event pair', () => {
  // Found under attack: one million Announces took RSS from 110 to 483 MB and put two events per
  // identity in the history. The table now holds at most maxForeignMasters, and the events report the
  // set of better masters becoming non-empty and empty again.
  const events: PtpEvent[] = [];
  const c = core(events);
  for (let i = 0; i < 100_000; i++) c.receive(announceFrom(identityOf(i)), T + BigInt(i) * 10_000n); // 1 s in all
  assert.equal(c.foreign.size, 16);
  assert.equal(c.counters.foreignDropped, 100_000 - 16);
  assert.deepEqual(events.map((e) => e.kind), ['betterMaster']);
  c.expire(T + 10_000_000_000n);
  assert.equal(c.foreign.size, 0);
  assert.deepEqual(events.map((e) => e.kind), ['betterMaster', 'betterMasterGone']);
  // A known master keeps being heard while the table is full of others.
  const d = core();
  d.receive(announceFrom(other.clockIdentity), T);
  for (let i = 0; i < 100; i++) d.receive(announceFrom(identityOf(i)), T);
  d.receive(announceFrom(other.clockIdentity), T + 1n);
  assert.equal(d.foreign.get(identityHex(other.clockIdentity))!.announces, 2);
});

test('an Announce naming our own clock as grandmaster is no foreign master and no better-master report', () => {
  // Found under attack: it was reported as a better master, naming ourselves.
  const events: PtpEvent[] = [];
  const c = core(events);
  c.receive(announceFrom(other.clockIdentity, 0, ours), T); // a boundary clock passing ours on, priority1 0
  assert.equal(c.foreign.size, 0);
  assert.equal(events.length, 0);
  assert.equal(c.counters.ownGrandmaster, 1);
});

test('Delay_Req floods: one port is held to its rate, many spoofed ports to the overall cap', () => {
  // Found under attack: every Delay_Req was answered, each by multicast to the whole segment.
  const req = (id: PortIdentity, seq: number) => encodeTimed({ messageType: MSG.DELAY_REQ, domainNumber: 0, flags: 0, sourcePortIdentity: id, sequenceId: seq, logMessageInterval: 0x7f }, ptpTime(0n));
  const c = core();
  let answered = 0;
  for (let i = 0; i < 1000; i++) answered += c.receive(req(other, i), T + BigInt(i) * 1_000_000n).length; // 1000 in 1 s
  // A burst of 8, then one per 0.5 s (twice the rate logMinDelayReqInterval 0 asks for).
  assert.ok(answered >= 8 && answered <= 11, `${answered} answered`);
  assert.equal(c.counters.delayReqDropped, 1000 - answered);
  // A well-behaved slave, once a second for a minute: every request answered.
  const slave: PortIdentity = { clockIdentity: Buffer.from('a0a1a2a3a4a5a6a7', 'hex'), portNumber: 1 };
  let ok = 0;
  for (let s = 0; s < 60; s++) ok += c.receive(req(slave, s), T + 10_000_000_000n + BigInt(s) * 1_000_000_000n).length;
  assert.equal(ok, 60);
  // 5000 spoofed identities in one second: no more than the cap.
  const capped = core([], { delayRespPerSecond: 100 });
  let out = 0;
  for (let i = 0; i < 5000; i++) out += capped.receive(req({ clockIdentity: identityOf(i), portNumber: 1 }, i), T + BigInt(i) * 200_000n).length;
  assert.equal(out, 100);
});
