/**
 * linuxptp's management protocol codec: the GET as pmc sends it, responses recorded from a real
 * ptp4l 3.1.1 (Debian's) decoded to what pmc printed, refusals and malformed replies as error values;
 * the round of questions and the Status facts on a scripted daemon; the text in pmc's words.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeGet, decodeResponse, pmcPortIdentity, DATA_SET_LEN, PTP4L_IDS, type Ptp4lDataSet, type Ptp4lResponse, type Decoded } from '../../src/partners/ptp4l-codec.ts';
import { pollPtp4l, ptp4lFacts, ptp4lTransitions, NO_PTP4L_FACTS, MAX_PORTS, type Ask } from '../../src/partners/ptp4l.ts';
import { formatPtp4lPartner } from '../../src/partners/ptp4l-format.ts';
import { decode } from '../../src/ptp/codec.ts';
import { PARTNER_PTP4L_DISABLED } from '../../src/status/status.ts';
import { REC } from './ptp4l-recorded.ts';

const hex = (h: string) => Buffer.from(h, 'hex');
const ORDER: Ptp4lDataSet[] = ['DEFAULT_DATA_SET', 'CURRENT_DATA_SET', 'PARENT_DATA_SET', 'TIME_PROPERTIES_DATA_SET', 'PORT_DATA_SET', 'TIME_STATUS_NP'];
/** The sequenceIds the recording asked with. */
const SEQ: Record<Ptp4lDataSet, number> = Object.fromEntries(ORDER.map((k, i) => [k, 0x100 + i])) as Record<Ptp4lDataSet, number>;

function rec(who: 'slave' | 'gm', id: Ptp4lDataSet): Ptp4lResponse {
  const r = decodeResponse(hex(REC[`${who}_${id}`]), { id, sequenceId: SEQ[id] });
  assert.ok(r.ok, `${who} ${id} decodes: ${r.ok ? '' : r.error}`);
  return r.value;
}
const val = <K extends Ptp4lDataSet>(who: 'slave' | 'gm', id: K) => rec(who, id).data.value as Extract<Ptp4lResponse['data'], { id: K }>['value'];

test('GET as pmc -u -b 0 sends it: Management, actionField GET, target all ports, hops 0, one MANAGEMENT TLV with the id and a zeroed data set', () => {
  for (const id of Object.keys(PTP4L_IDS) as Ptp4lDataSet[]) {
    const b = encodeGet(id, 0xbeef, pmcPortIdentity(0x12345678), 3);
    const len = 48 + 4 + 2 + DATA_SET_LEN[id];
    assert.equal(b.length, len, `${id}: ${len} octets`);
    assert.equal(b[0]! & 0x0f, 0xd, 'messageType Management');
    assert.equal(b[1], 2, 'versionPTP 2');
    assert.equal(b.readUInt16BE(2), len, 'messageLength');
    assert.equal(b[4], 3, 'domainNumber');
    assert.deepEqual([...b.subarray(20, 30)], [0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78], 'source: pmc\'s UDS identity from the PID');
    assert.equal(b.readUInt16BE(30), 0xbeef, 'sequenceId');
    assert.equal(b[32], 4, 'controlField management');
    assert.equal(b[33], 0x7f, 'logMessageInterval 0x7f');
    assert.ok(b.subarray(34, 44).every((x) => x === 0xff), 'targetPortIdentity: all clocks, all ports');
    assert.deepEqual([b[44], b[45], b[46]! & 0x0f], [0, 0, 0], 'boundary hops 0, action GET');
    assert.equal(b.readUInt16BE(48), 1, 'TLV MANAGEMENT');
    assert.equal(b.readUInt16BE(50), 2 + DATA_SET_LEN[id], 'TLV length');
    assert.equal(b.readUInt16BE(52), PTP4L_IDS[id], 'managementId');
    assert.ok(b.subarray(54).every((x) => x === 0), 'zeroed data field');
    const d = decode(b);
    assert.ok(d.ok && d.kind === 'management' && d.management.managementId === PTP4L_IDS[id], `${id}: our own PTP codec reads it back`);
  }
  assert.equal(PTP4L_IDS.TIME_STATUS_NP, 0xc000, 'linuxptp\'s TIME_STATUS_NP id');
});

test('responses recorded from ptp4l 3.1.1 decode to what pmc printed (slave)', () => {
  const d = val('slave', 'DEFAULT_DATA_SET');
  assert.deepEqual(d, {
    twoStepFlag: true, slaveOnly: true, numberPorts: 1, priority1: 128, clockQuality: { clockClass: 255, clockAccuracy: 0xfe, offsetScaledLogVariance: 0xffff },
    priority2: 128, clockIdentity: 'daba2f.fffe.820f4f', domainNumber: 0,
  }, 'DEFAULT_DATA_SET');
  const p = rec('slave', 'PORT_DATA_SET');
  assert.equal(p.source, 'daba2f.fffe.820f4f-1', 'answered by port 1');
  assert.deepEqual(p.data.value, {
    portIdentity: 'daba2f.fffe.820f4f-1', portNumber: 1, portState: 'SLAVE', portStateCode: 9, logMinDelayReqInterval: 0, peerMeanPathDelayNs: 0,
    logAnnounceInterval: 1, announceReceiptTimeout: 3, logSyncInterval: 0, delayMechanism: 1, logMinPdelayReqInterval: 0, versionNumber: 2,
  }, 'PORT_DATA_SET');
  assert.deepEqual(val('slave', 'CURRENT_DATA_SET'), { stepsRemoved: 1, offsetFromMasterNs: 203, meanPathDelayNs: 2821 }, 'CURRENT_DATA_SET');
  assert.deepEqual(val('slave', 'PARENT_DATA_SET'), {
    parentPortIdentity: '126584.fffe.4e0d22-1', parentStats: false, observedParentOffsetScaledLogVariance: 0xffff, observedParentClockPhaseChangeRate: 0x7fffffff,
    grandmasterPriority1: 100, grandmasterClockQuality: { clockClass: 6, clockAccuracy: 0x21, offsetScaledLogVariance: 0xffff }, grandmasterPriority2: 128,
    grandmasterIdentity: '126584.fffe.4e0d22',
  }, 'PARENT_DATA_SET');
  assert.deepEqual(val('slave', 'TIME_PROPERTIES_DATA_SET'), {
    currentUtcOffset: 37, leap61: false, leap59: false, currentUtcOffsetValid: false, ptpTimescale: false, timeTraceable: false, frequencyTraceable: false, timeSource: 0x20,
  }, 'TIME_PROPERTIES_DATA_SET');
  const ts = val('slave', 'TIME_STATUS_NP');
  assert.equal(ts.masterOffsetNs, -147n, 'master_offset (signed)');
  assert.equal(ts.ingressTimeNs, 0x18ed42d3d3246463n, 'ingress_time');
  assert.equal(ts.gmPresent, true, 'gmPresent');
  assert.equal(ts.gmIdentity, '126584.fffe.4e0d22', 'gmIdentity');
  assert.equal(ts.lastGmPhaseChange, "0x0000'0000000000000000.0000", 'lastGmPhaseChange as pmc prints it');
});

test('responses recorded from ptp4l 3.1.1 decode to what pmc printed (grandmaster)', () => {
  assert.equal(val('gm', 'PORT_DATA_SET').portState, 'MASTER', 'MASTER');
  assert.deepEqual(val('gm', 'CURRENT_DATA_SET'), { stepsRemoved: 0, offsetFromMasterNs: 0, meanPathDelayNs: 0 }, 'no master: zeros');
  assert.equal(val('gm', 'PARENT_DATA_SET').grandmasterIdentity, '126584.fffe.4e0d22', 'its own grandmaster');
  assert.equal(val('gm', 'DEFAULT_DATA_SET').clockIdentity, '126584.fffe.4e0d22', 'its clock');
  assert.equal(val('gm', 'TIME_STATUS_NP').gmPresent, false, 'gmPresent false');
  assert.equal(val('gm', 'TIME_STATUS_NP').ingressTimeNs, 0n, 'no ingress time');
});

test('a refusal (MANAGEMENT_ERROR_STATUS) is an error naming it; replies to other questions are "not ours"', () => {
  const e = decodeResponse(hex(REC.slave_error), { id: 'CURRENT_DATA_SET', sequenceId: 0x106 });
  assert.ok(!e.ok && /not ours: an error status for 0x2017/.test(e.error), `an error for another id: ${JSON.stringify(e)}`);
  const refused = hex(REC.slave_error);
  refused.writeUInt16BE(PTP4L_IDS.TIME_STATUS_NP, 54);
  const r = decodeResponse(refused, { id: 'TIME_STATUS_NP', sequenceId: 0x106 });
  assert.deepEqual(r, { ok: false, error: 'ptp4l refused GET TIME_STATUS_NP: NOT_SUPPORTED' }, 'a refusal of ours');
  const other = decodeResponse(hex(REC.slave_CURRENT_DATA_SET), { id: 'CURRENT_DATA_SET', sequenceId: 0x999 });
  assert.ok(!other.ok && /^not ours: sequenceId/.test(other.error), 'another sequenceId');
  const otherId = decodeResponse(hex(REC.slave_CURRENT_DATA_SET), { id: 'PARENT_DATA_SET', sequenceId: SEQ.CURRENT_DATA_SET });
  assert.ok(!otherId.ok && /^not ours: a response for CURRENT_DATA_SET/.test(otherId.error), 'another data set');
  const get = decodeResponse(encodeGet('CURRENT_DATA_SET', 5, pmcPortIdentity(1)), { id: 'CURRENT_DATA_SET', sequenceId: 5 });
  assert.ok(!get.ok && /^not ours: actionField 0/.test(get.error), 'a GET is not a response');
});

test('malformed replies are error values, never exceptions: truncated, wrong data set length, not PTP, TLV past the end', () => {
  const good = hex(REC.slave_PARENT_DATA_SET);
  const expect = { id: 'PARENT_DATA_SET' as const, sequenceId: SEQ.PARENT_DATA_SET };
  for (let n = 0; n < good.length; n++) {
    const r = decodeResponse(good.subarray(0, n), expect);
    assert.ok(!r.ok, `${n} octets refused`);
  }
  // A shorter data set, messageLength and TLV length consistent: linuxptp sends exactly 32 octets.
  const short = Buffer.from(good.subarray(0, good.length - 2));
  short.writeUInt16BE(short.length, 2);
  short.writeUInt16BE(short.readUInt16BE(50) - 2, 50);
  assert.deepEqual(decodeResponse(short, expect), { ok: false, error: 'PARENT_DATA_SET of 30 octets, linuxptp sends 32' }, 'wrong length');
  const long = Buffer.from(good);
  long.writeUInt16BE(0x400, 50);
  const l = decodeResponse(long, expect);
  assert.ok(!l.ok && /malformed reply \(tlv/.test(l.error), `TLV past the end: ${JSON.stringify(l)}`);
  const v1 = Buffer.from(good);
  v1[1] = 1;
  assert.ok(!decodeResponse(v1, expect).ok, 'PTPv1 refused');
  assert.ok(!decodeResponse(Buffer.from('hello, world, this is not a PTP message at all'), expect).ok, 'text refused');
  const noTlv = Buffer.from(good.subarray(0, 48));
  noTlv.writeUInt16BE(48, 2);
  const n = decodeResponse(noTlv, expect);
  assert.ok(!n.ok && /without a MANAGEMENT TLV/.test(n.error), `no TLV: ${JSON.stringify(n)}`);
  const unknownState = hex(REC.slave_PORT_DATA_SET);
  unknownState[54 + 10] = 200;
  const u = decodeResponse(unknownState, { id: 'PORT_DATA_SET', sequenceId: SEQ.PORT_DATA_SET });
  assert.ok(u.ok && u.value.data.id === 'PORT_DATA_SET' && u.value.data.value.portState === 'NONE' && u.value.data.value.portStateCode === 200,
    'an unknown port state shows as NONE (as pmc does), its number kept');
});

/** A scripted ptp4l answering from the recordings; `ports` extra copies of port 1 with other numbers. */
function scripted(who: 'slave' | 'gm', opts: { ports?: number; noTimeStatus?: boolean; numberPorts?: number; silentPort?: boolean } = {}): { ask: Ask; asked: string[] } {
  const asked: string[] = [];
  const ask: Ask = async (id, count = 1) => {
    asked.push(`${id}/${count}`);
    if (id === 'TIME_STATUS_NP' && opts.noTimeStatus) return { ok: false, error: 'ptp4l refused GET TIME_STATUS_NP: NOT_SUPPORTED' };
    const r = rec(who, id);
    if (id === 'DEFAULT_DATA_SET' && opts.numberPorts !== undefined) (r.data.value as { numberPorts: number }).numberPorts = opts.numberPorts;
    if (id === 'PORT_DATA_SET') {
      if (opts.silentPort) return { ok: false, error: `GET PORT_DATA_SET: 1 of ${count} ports answered within 1000 ms` };
      const out: Ptp4lResponse[] = [];
      for (let i = (opts.ports ?? 1); i >= 1; i--) {
        const c = structuredClone(r);
        const v = c.data.value as { portNumber: number; portState: string };
        v.portNumber = i;
        if (i > 1) v.portState = 'MASTER';
        out.push(c);
      }
      return { ok: true, value: out };
    }
    return { ok: true, value: [r] } as Decoded<Ptp4lResponse[]>;
  };
  return { ask, asked };
}

test('a round asks each data set once, PORT_DATA_SET for as many ports as DEFAULT_DATA_SET says; facts derived once', async () => {
  const s = scripted('slave');
  const r = await pollPtp4l(s.ask);
  assert.ok(r.ok, 'the round succeeds');
  assert.deepEqual(s.asked, ['DEFAULT_DATA_SET/1', 'PORT_DATA_SET/1', 'CURRENT_DATA_SET/1', 'PARENT_DATA_SET/1', 'TIME_PROPERTIES_DATA_SET/1', 'TIME_STATUS_NP/1'], 'what was asked');
  const f = ptp4lFacts(r.value, 'SLAVE');
  assert.equal(f.portState, 'SLAVE', 'port state');
  assert.equal(f.inExpectedState, true, 'expected SLAVE: in it');
  assert.equal(ptp4lFacts(r.value, 'MASTER').inExpectedState, false, 'expected MASTER: not in it');
  assert.equal(f.grandmasterIdentity, '126584.fffe.4e0d22', 'grandmaster');
  assert.equal(f.isGrandmaster, false, 'not its own grandmaster');
  assert.deepEqual([f.gmClockClass, f.gmClockAccuracy, f.gmOffsetScaledLogVariance], [6, 0x21, 0xffff], 'GM quality');
  assert.deepEqual([f.offsetFromMasterNs, f.meanPathDelayNs, f.stepsRemoved], [203, 2821, 1], 'current data set');
  assert.deepEqual([f.currentUtcOffset, f.currentUtcOffsetValid, f.leap59, f.leap61, f.timeTraceable, f.frequencyTraceable], [37, false, false, false, false, false], 'time properties');
  assert.deepEqual([f.timeSource, f.timeSourceName], [0x20, 'GPS'], 'time source');
  assert.deepEqual([f.masterOffsetNs, f.gmPresent, f.ingressTimeNs], [-147, true, (0x18ed42d3d3246463n).toString()], 'TIME_STATUS_NP');
  const gm = await pollPtp4l(scripted('gm').ask);
  assert.ok(gm.ok, 'gm round');
  const g = ptp4lFacts(gm.value, 'MASTER');
  assert.deepEqual([g.portState, g.inExpectedState, g.isGrandmaster, g.gmPresent], ['MASTER', true, true, false], 'the grandmaster');
});

test('several ports: sorted, every one MASTER for expected MASTER, one SLAVE enough for expected SLAVE; a silent port fails the round', async () => {
  const s = scripted('slave', { ports: 3, numberPorts: 3 });
  const r = await pollPtp4l(s.ask);
  assert.ok(r.ok, 'the round succeeds');
  assert.equal(s.asked[1], 'PORT_DATA_SET/3', 'three ports awaited');
  assert.deepEqual(r.value.ports.map((p) => p.portNumber), [1, 2, 3], 'sorted by port number');
  assert.equal(ptp4lFacts(r.value, 'SLAVE').inExpectedState, true, 'one SLAVE port: a boundary clock following its master');
  assert.equal(ptp4lFacts(r.value, 'MASTER').inExpectedState, false, 'port 1 is not MASTER');
  const silent = await pollPtp4l(scripted('slave', { silentPort: true }).ask);
  assert.ok(!silent.ok && /1 of 1 ports/.test(silent.error), 'a port not answering fails the round');
  const many = await pollPtp4l(scripted('slave', { numberPorts: MAX_PORTS + 1 }).ask);
  assert.ok(!many.ok && /ports \(more than 64\)/.test(many.error), 'an absurd port count is refused');
});

test('TIME_STATUS_NP refused: the round still succeeds, the problem is said; text in pmc\'s words', async () => {
  const r = await pollPtp4l(scripted('slave', { noTimeStatus: true }).ask);
  assert.ok(r.ok, 'the round succeeds');
  const f = ptp4lFacts(r.value, 'SLAVE');
  assert.equal(f.masterOffsetNs, null, 'no master_offset');
  assert.equal(f.timeStatusProblem, 'ptp4l refused GET TIME_STATUS_NP: NOT_SUPPORTED', 'why');
  const full = await pollPtp4l(scripted('slave').ask);
  assert.ok(full.ok, 'full round');
  const text = formatPtp4lPartner({ ...PARTNER_PTP4L_DISABLED, enabled: true, socket: '/var/run/ptp4l', reachable: true, expectedPortState: 'MASTER', ...ptp4lFacts(full.value, 'MASTER') });
  assert.match(text, /ptp4l \(\/var\/run\/ptp4l\): SLAVE \(NOT MASTER, as expected\)/, `heading:\n${text}`);
  assert.match(text, /portState +SLAVE\n/, 'portState line');
  assert.match(text, /offsetFromMaster 203\.0\n/, 'offsetFromMaster with one decimal, as pmc');
  assert.match(text, /gm\.ClockAccuracy +0x21\n/, 'accuracy in hex');
  assert.match(text, /gm\.OffsetScaledLogVariance 0xffff\n/, 'variance in hex');
  assert.match(text, /timeSource +0x20 \(GPS\)\n/, 'time source');
  assert.match(text, /master_offset -147\n/, 'TIME_STATUS_NP');
  const down = formatPtp4lPartner({ ...PARTNER_PTP4L_DISABLED, enabled: true, socket: '/var/run/ptp4l', lastError: 'no reply from ptp4l at /var/run/ptp4l' });
  assert.equal(down, '\nptp4l (/var/run/ptp4l): UNREACHABLE: no reply from ptp4l at /var/run/ptp4l\n  phc2sys: not running\n', 'unreachable (phc2sys is looked for in /proc all the same)');
  assert.equal(formatPtp4lPartner(PARTNER_PTP4L_DISABLED), '', 'disabled: nothing');
});

test('transitions: a port state change and a grandmaster or clockClass change are events; nothing before the first answer', async () => {
  const r = await pollPtp4l(scripted('slave').ask);
  assert.ok(r.ok, 'round');
  const slave = ptp4lFacts(r.value, 'SLAVE');
  assert.deepEqual(ptp4lTransitions(null, slave, 'SLAVE'), [], 'first answer: nothing to compare');
  assert.deepEqual(ptp4lTransitions(slave, structuredClone(slave), 'SLAVE'), [], 'no change: no event');
  const listening = { ...slave, portState: 'LISTENING' as const, inExpectedState: false };
  assert.deepEqual(ptp4lTransitions(slave, listening, 'SLAVE'), [{ type: 'ptp4lPortStateChanged', from: 'SLAVE', to: 'LISTENING', expected: 'SLAVE', inExpectedState: false }], 'left SLAVE');
  const holdover = { ...slave, gmClockClass: 7 };
  assert.deepEqual(ptp4lTransitions(slave, holdover, 'SLAVE'), [{ type: 'ptp4lGrandmasterChanged', fromIdentity: '126584.fffe.4e0d22', toIdentity: '126584.fffe.4e0d22', fromClockClass: 6, toClockClass: 7 }], 'clockClass 6 -> 7');
  assert.deepEqual(ptp4lTransitions(slave, NO_PTP4L_FACTS, 'SLAVE').map((e) => e.type), ['ptp4lPortStateChanged'], 'to no facts: the state, not the grandmaster');
});
