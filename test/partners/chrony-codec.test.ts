/**
 * chronyd's command protocol codec: the requests' byte layout (header, index, the padding chronyd
 * requires), chrony's 32-bit float, and replies recorded from a real chronyd 4.3 (Debian's, `-x`)
 * decoded to what `chronyc` printed from the same replies; malformed replies give error values. Also
 * the round of questions and the Status facts, on a scripted daemon.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeRequest, decodeReply, decodeFloat, encodeFloat, refIdText, refIdHex, REQ, RPY, type ChronyRequest, type ChronyReply, type Decoded, type Tracking,
} from '../../src/partners/chrony-codec.ts';
import { pollChrony, chronyFacts, chronyTransitions, NO_CHRONY_FACTS, type Ask } from '../../src/partners/chrony.ts';
import { formatChronyPartner, chronycOffset, chronycInterval } from '../../src/partners/chrony-format.ts';
import { PARTNER_CHRONY_DISABLED, type PartnerChronySource } from '../../src/status/status.ts';
import { REC } from './chrony-recorded.ts';

const hex = (h: string) => Buffer.from(h, 'hex');

function ok<T>(d: Decoded<T>): T {
  assert.ok(d.ok, `decodes: ${d.ok ? '' : d.error}`);
  return d.value;
}

test('requests: header, index and the padding chronyd requires (as long as the reply, per request)', () => {
  const cases: [ChronyRequest, number, number][] = [
    [{ command: 'tracking' }, REQ.TRACKING, 104], [{ command: 'n_sources' }, REQ.N_SOURCES, 32],
    [{ command: 'source_data', index: 3 }, REQ.SOURCE_DATA, 76], [{ command: 'sourcestats', index: 3 }, REQ.SOURCESTATS, 84],
    // Padded for chrony 4.4's 64-bit server stats (28 + 168 bytes); chrony 4.3 takes it too (recorded above).
    [{ command: 'server_stats' }, REQ.SERVER_STATS, 196],
  ];
  for (const [req, code, len] of cases) {
    const b = encodeRequest(req, 0xdeadbeef, 2);
    assert.equal(b.length, len, `${req.command}: ${len} bytes`);
    assert.deepEqual([...b.subarray(0, 4)], [6, 1, 0, 0], `${req.command}: version 6, request, reserved zero`);
    assert.equal(b.readUInt16BE(4), code, `${req.command}: command ${code}`);
    assert.equal(b.readUInt16BE(6), 2, 'attempt');
    assert.equal(b.readUInt32BE(8), 0xdeadbeef, 'sequence');
    assert.equal(b.readUInt32BE(12), 0, 'pad1');
    assert.equal(b.readUInt32BE(16), 0, 'pad2');
    const dataLen = 'index' in req ? 4 : 0;
    if (dataLen) assert.equal(b.readUInt32BE(20), 3, `${req.command}: the index`);
    assert.ok(b.subarray(20 + dataLen).every((x) => x === 0), `${req.command}: zero padding`);
  }
  assert.equal(encodeRequest({ command: 'source_data', index: 2 ** 32 - 1 }, 1).readUInt32BE(20), 0xffffffff, 'a 32-bit index');
});

test("chrony's 32-bit float: 7-bit exponent over a 25-bit coefficient, value coef * 2^(exp - 25)", () => {
  assert.equal(decodeFloat(0), 0, 'zero');
  assert.equal(decodeFloat(1), 2 ** -25, 'exp 0, coef 1');
  assert.equal(decodeFloat(0x01000000), -0.5, 'exp 0, the most negative coefficient');
  assert.equal(decodeFloat(0x01ffffff), -(2 ** -25), 'exp 0, coef -1');
  assert.equal(decodeFloat(0x04800000), 1, '1.0 as chronyd sends it: exp 2, coef 2^23');
  assert.equal(decodeFloat(0x80000001), 2 ** -89, 'the smallest exponent (-64)');
  assert.equal(decodeFloat(0x7effffff), (2 ** 24 - 1) * 2 ** 38, 'the largest value');
  assert.equal(encodeFloat(1), 0x04800000, 'chronyd rounds 1.0 so');
  assert.equal(encodeFloat(-1), 0x03000000, 'and -1.0 as -2^24 at exp 1 (the negative range is one wider)');
  assert.equal(decodeFloat(0x03000000), -1, 'which is -1');
  assert.equal(encodeFloat(Number.NaN), 0, 'NaN is sent as 0');
  assert.equal(decodeFloat(encodeFloat(1e300)), (2 ** 24 - 1) * 2 ** 38, 'too large: the largest value');
  assert.equal(decodeFloat(encodeFloat(1e-30)), 0, 'too small: 0');
  for (const x of [1.5e-9, -2.769464231278107e-7, 0.000036714, 123.456, -0.46986478567123413, 1e6, -3e-20]) {
    const y = decodeFloat(encodeFloat(x));
    assert.ok(Math.abs(y - x) <= Math.abs(x) * 2 ** -23, `${x} round-trips within chrony's precision (${y})`);
  }
});

test('replies recorded from chronyd 4.3 decode to what chronyc printed', () => {
  const tr = ok(decodeReply(hex(REC.tracking), { command: REQ.TRACKING, sequence: 0x5eed0001 }));
  assert.equal(tr.kind, 'tracking', 'a tracking reply');
  const t = (tr as Extract<ChronyReply, { kind: 'tracking' }>).value;
  assert.equal(refIdHex(t.refId), '7F000001', 'Reference ID');
  assert.deepEqual(t.address, { family: 'ipv4', text: '127.0.0.1' }, 'its address');
  assert.equal(t.stratum, 2, 'Stratum');
  assert.equal(t.leapStatus, 'normal', 'Leap status');
  assert.equal(new Date(t.refTime.seconds * 1000).toUTCString(), 'Tue, 01 Dec 2026 21:06:04 GMT', 'Ref time');
  assert.equal(t.lastOffsetS.toFixed(9), '-0.000000277', 'Last offset');
  assert.equal(t.rmsOffsetS.toFixed(9), '0.000003454', 'RMS offset');
  assert.equal(t.freqPpm.toFixed(3), '-0.470', 'Frequency 0.470 ppm slow');
  assert.equal(t.residFreqPpm.toFixed(3), '-0.035', 'Residual freq');
  assert.equal(t.skewPpm.toFixed(3), '2.849', 'Skew');
  assert.equal(t.rootDelayS.toFixed(9), '0.000036714', 'Root delay');
  assert.equal(t.lastUpdateIntervalS.toFixed(1), '1.0', 'Update interval');
  assert.equal(t.currentCorrectionS.toFixed(7), '-0.0000156', 'System time 0.0000156.. s fast');
  assert.equal(t.rootDispersionS.toFixed(6), '0.000040', 'Root dispersion 0.0000398..');

  const n = ok(decodeReply(hex(REC.nSources), { command: REQ.N_SOURCES, sequence: 0x5eed0002 }));
  assert.deepEqual(n, { kind: 'n_sources', n: 1 }, 'one source');

  const sd = ok(decodeReply(hex(REC.sourceData), { command: REQ.SOURCE_DATA, sequence: 0x5eed0003 }));
  assert.equal(sd.kind, 'source_data', 'a source');
  const s = (sd as Extract<ChronyReply, { kind: 'source_data' }>).value;
  assert.deepEqual([s.mode, s.state, s.address], ['server', '*', { family: 'ipv4', text: '127.0.0.1' }], '^,*,127.0.0.1');
  assert.deepEqual([s.stratum, s.pollLog2, s.reachability.toString(8), s.sinceSampleS], [1, 0, '377', 0], 'stratum 1, poll 0, reach 377, last rx 0');
  assert.equal(s.latestMeasS.toFixed(9), '0.000000261', 'offset');
  assert.equal(s.origLatestMeasS.toFixed(9), '-0.000000016', 'measured offset');
  assert.equal(s.latestMeasErrS.toFixed(9), '0.000049850', 'error');

  const st = ok(decodeReply(hex(REC.sourcestats), { command: REQ.SOURCESTATS, sequence: 0x5eed0004 }));
  assert.equal(st.kind, 'sourcestats', 'source stats');
  const ss = (st as Extract<ChronyReply, { kind: 'sourcestats' }>).value;
  assert.deepEqual([ss.samples, ss.runs, ss.spanS, refIdHex(ss.refId)], [8, 4, 7, '7F000001'], 'NP 8, NR 4, span 7');

  const sv = ok(decodeReply(hex(REC.serverStats), { command: REQ.SERVER_STATS, sequence: 0x1234 }));
  assert.equal(sv.kind, 'server_stats', 'server stats');
  assert.equal((sv as Extract<ChronyReply, { kind: 'server_stats' }>).value.cmdHits, 9, 'Command packets received : 9');
  assert.equal((sv as Extract<ChronyReply, { kind: 'server_stats' }>).value.ntpHits, 0, 'NTP packets received : 0');

  const local = ok(decodeReply(hex(REC.trackingLocal), { command: REQ.TRACKING, sequence: 1000 }));
  const lt = (local as Extract<ChronyReply, { kind: 'tracking' }>).value;
  assert.deepEqual([refIdHex(lt.refId), lt.address.family, lt.stratum, refIdText(lt.refId)], ['7F7F0101', 'none', 10, ''], 'local stratum 10: no address, no text');
});

test("chrony 4.4's server stats (64-bit counters) decode too", () => {
  const b = Buffer.alloc(28 + 168);
  hex(REC.serverStats).copy(b, 0, 0, 28);
  b.writeUInt16BE(RPY.SERVER_STATS4, 6);
  b.writeUInt32BE(1, 28); // ntp hits: 2^32 + 5
  b.writeUInt32BE(5, 32);
  b.writeUInt32BE(7, 28 + 2 * 8 + 4); // cmd hits 7
  const v = ok(decodeReply(b, { command: REQ.SERVER_STATS, sequence: 0x1234 }));
  assert.deepEqual(v.kind === 'server_stats' && [v.value.ntpHits, v.value.cmdHits], [2 ** 32 + 5, 7], 'wide counters');
});

test('malformed or foreign replies are error values, never exceptions', () => {
  const e = (h: Buffer | string, exp: { command: number; sequence: number }, re: RegExp, what: string) => {
    const d = decodeReply(typeof h === 'string' ? hex(h) : h, exp);
    assert.ok(!d.ok, `${what}: an error`);
    assert.match(d.ok ? '' : d.error, re, `${what}: ${d.ok ? '' : d.error}`);
    return d;
  };
  const unauth = e(REC.serverStatsUnauth, { command: REQ.SERVER_STATS, sequence: 1004 }, /not authorised/, 'server stats over UDP');
  assert.equal(!unauth.ok && unauth.status, 2, 'with its status code');
  e(REC.noSuchSource, { command: REQ.SOURCE_DATA, sequence: 1005 }, /no such source/, 'index past the last');
  e(REC.tracking, { command: REQ.TRACKING, sequence: 0x5eed0002 }, /sequence .* not ours/, 'another sequence');
  e(REC.tracking, { command: REQ.SOURCE_DATA, sequence: 0x5eed0001 }, /reply to command 33/, 'another command');
  const full = hex(REC.tracking);
  for (let len = 0; len < full.length; len++) {
    e(full.subarray(0, len), { command: REQ.TRACKING, sequence: 0x5eed0001 }, /too short|needs/, `cut to ${len} bytes`);
  }
  const v5 = Buffer.from(full);
  v5[0] = 5;
  e(v5, { command: REQ.TRACKING, sequence: 0x5eed0001 }, /version 5/, 'protocol 5');
  const req = Buffer.from(full);
  req[1] = 1;
  e(req, { command: REQ.TRACKING, sequence: 0x5eed0001 }, /not a reply/, 'a request');
  const res = Buffer.from(full);
  res[3] = 1;
  e(res, { command: REQ.TRACKING, sequence: 0x5eed0001 }, /reserved/, 'reserved bytes set');
  const fmt = Buffer.from(full);
  fmt.writeUInt16BE(99, 6);
  e(fmt, { command: REQ.TRACKING, sequence: 0x5eed0001 }, /unknown reply format 99/, 'an unknown format');
  const wrong = Buffer.from(full);
  wrong.writeUInt16BE(RPY.SOURCESTATS, 6);
  e(wrong, { command: REQ.TRACKING, sequence: 0x5eed0001 }, /does not answer command 33/, 'a format that does not answer the command');
  // Odd but well-formed fields: an unknown family, state, mode, leap status; nanoseconds over 1e9.
  const odd = Buffer.from(full);
  odd.writeUInt16BE(9, 28 + 4 + 16);
  odd.writeUInt16BE(7, 28 + 26);
  odd.writeUInt32BE(0xffffffff, 28 + 28 + 8);
  const t = ok(decodeReply(odd, { command: REQ.TRACKING, sequence: 0x5eed0001 }));
  assert.ok(t.kind === 'tracking' && t.value.address.family === 'none' && t.value.leapStatus === 'invalid' && t.value.refTime.nanoseconds === 999_999_999,
    `odd fields decoded as chronyc reads them: ${JSON.stringify(t)}`);
});

/** A scripted chronyd: answers from the recorded replies, re-sequenced to the request. */
function scripted(over: Partial<Record<ChronyRequest['command'], (r: ChronyRequest) => Decoded<ChronyReply>>> = {}): Ask {
  const from = (h: string, command: number): Decoded<ChronyReply> => {
    const b = hex(h);
    b.writeUInt32BE(7, 16);
    return decodeReply(b, { command, sequence: 7 });
  };
  return async (r) => {
    const o = over[r.command];
    if (o) return o(r);
    switch (r.command) {
      case 'tracking': return from(REC.tracking, REQ.TRACKING);
      case 'n_sources': return from(REC.nSources, REQ.N_SOURCES);
      case 'source_data': return r.index === 0 ? from(REC.sourceData, REQ.SOURCE_DATA) : from(REC.noSuchSource, REQ.SOURCE_DATA);
      case 'sourcestats': return from(REC.sourcestats, REQ.SOURCESTATS);
      case 'server_stats': return from(REC.serverStatsUnauth, REQ.SERVER_STATS);
    }
  };
}

test('a round of questions and the facts derived once: reference, synchronised, sources as chronyc shows them', async () => {
  const asked: string[] = [];
  const ask = scripted();
  const r = await pollChrony(async (q) => { asked.push(q.command); return ask(q); });
  assert.deepEqual(asked, ['tracking', 'n_sources', 'source_data', 'sourcestats', 'server_stats'], 'read-only questions, in order');
  const f = chronyFacts(ok(r));
  assert.equal(f.reference, '127.0.0.1', 'the reference by address');
  assert.equal(f.referenceId, '7F000001', 'its ID');
  assert.equal(f.synchronised, true, 'synchronised');
  assert.equal(f.systemOffsetNs! > 0, true, 'fast of NTP time (chronyd\'s correction is negative)');
  assert.match(f.serverStatsProblem ?? '', /Unix socket/, 'server stats: why not');
  assert.deepEqual(f.sources.map((s) => [s.name, s.mode, s.state, s.stratum, s.reach, s.lastRxAgeS]), [['127.0.0.1', 'server', '*', 1, '377', 0]], 'the source');

  // Unsynchronised leap status, or no reference: not synchronised.
  const t0 = (ok(await ask({ command: 'tracking' })) as Extract<ChronyReply, { kind: 'tracking' }>).value;
  const withT = (t: Tracking) => scripted({ tracking: () => ({ ok: true, value: { kind: 'tracking', value: t } }) });
  const unsync = chronyFacts(ok(await pollChrony(withT({ ...t0, leapStatus: 'unsynchronised' }))));
  assert.equal(unsync.synchronised, false, 'leap status unsynchronised');
  const noref = chronyFacts(ok(await pollChrony(withT({ ...t0, refId: 0, stratum: 0, address: { family: 'none' } }))));
  assert.deepEqual([noref.synchronised, noref.reference], [false, null], 'no reference');
  const refclock = chronyFacts(ok(await pollChrony(withT({ ...t0, refId: 0x47505300, stratum: 1, address: { family: 'none' } }))));
  assert.deepEqual([refclock.synchronised, refclock.reference], [true, 'GPS'], 'a refclock reference by its text');

  // A source that went away between the count and the question is skipped; two counted, one there.
  const two = await pollChrony(scripted({ n_sources: () => ({ ok: true, value: { kind: 'n_sources', n: 2 } }) }));
  assert.equal(ok(two).sources.length, 1, 'the missing source skipped');
  const down = await pollChrony(async () => ({ ok: false, error: 'no reply' }));
  assert.deepEqual(down, { ok: false, error: 'no reply' }, 'no tracking: the round fails with its error');
  const many = await pollChrony(scripted({ n_sources: () => ({ ok: true, value: { kind: 'n_sources', n: 1e6 } }) }));
  assert.ok(!many.ok, 'an absurd source count is refused');
});

test('stratum1 status: a block like chronyc tracking and a table like chronyc sources', async () => {
  const f = chronyFacts(ok(await pollChrony(scripted())));
  const text = formatChronyPartner({ ...PARTNER_CHRONY_DISABLED, enabled: true, transport: 'udp 127.0.0.1:323', reachable: true, ...f });
  assert.match(text, /chronyd \(udp 127\.0\.0\.1:323\): synchronised/, text);
  assert.match(text, /Reference ID {4}: 7F000001 \(127\.0\.0\.1\)/, 'Reference ID');
  assert.match(text, /Frequency {7}: 0\.470 ppm slow/, 'Frequency');
  assert.match(text, /System time {5}: 0\.0000156\d\d seconds fast of NTP time/, 'System time');
  assert.match(text, /Last offset {5}: -0\.000000277 seconds/, 'Last offset');
  assert.match(text, /Leap status {5}: Normal/, 'Leap status');
  // chronyc 4.3 printed, from the same reply: ^* 127.0.0.1  1   0   377     0   +261ns[  -16ns] +/-   50us
  assert.match(text, /\^\* 127\.0\.0\.1 {21}1 {3}0 {3}377 {5}0 {3}\+261ns\[ {2}-16ns\] \+\/- {3}50us/, `the sources row:\n${text}`);
  assert.equal(formatChronyPartner(PARTNER_CHRONY_DISABLED), '', 'nothing when the partner is off');
  assert.match(formatChronyPartner({ ...PARTNER_CHRONY_DISABLED, enabled: true, transport: 'udp 127.0.0.1:323', lastError: 'no reply from chronyd' }),
    /UNREACHABLE: no reply from chronyd/, 'unreachable');
  assert.deepEqual([chronycOffset(12.4e-6), chronycOffset(-0.5), chronycOffset(2.5, false), chronycInterval(1500), chronycInterval(null)],
    ['  +12us', ' -500ms', '2500ms', ' 25m', '   -'], "chronyc's units");
});

test('transitions between rounds: sync lost (no reference, or chronyd silent) and regained; a source becoming a falseticker and ceasing to be one; nothing before the first answer', async () => {
  const base = chronyFacts(ok(await pollChrony(scripted())));
  assert.equal(base.synchronised, true, 'the recorded chronyd is synchronised');
  const src = base.sources[0]!;
  const withSources = (states: [string, PartnerChronySource['state']][]) => ({ ...base, sources: states.map(([name, state]) => ({ ...src, name, state })) });
  assert.deepEqual(chronyTransitions(null, base), [], 'the first answer is no change');
  assert.deepEqual(chronyTransitions(base, base), [], 'the same round twice: nothing');

  const lost = chronyTransitions(base, { ...base, synchronised: false, reference: null });
  assert.deepEqual(lost, [{ type: 'chronySyncLost', reference: '127.0.0.1', reason: 'chronyd has no reference' }], `no reference: ${JSON.stringify(lost)}`);
  const leap = chronyTransitions(base, { ...base, synchronised: false, leapStatus: 'unsynchronised' });
  assert.match(leap[0]?.type === 'chronySyncLost' ? leap[0].reason : '', /leap status unsynchronised/, `leap status: ${JSON.stringify(leap)}`);
  const silent = chronyTransitions(base, NO_CHRONY_FACTS, 'no reply from chronyd');
  assert.deepEqual(silent, [{ type: 'chronySyncLost', reference: '127.0.0.1', reason: 'chronyd does not answer: no reply from chronyd' }], 'chronyd silent: lost, and its sources are no change');
  assert.deepEqual(chronyTransitions(NO_CHRONY_FACTS, base), [{ type: 'chronySyncRegained', reference: '127.0.0.1', stratum: base.stratum! }], 'back: regained');

  const three = withSources([['192.0.2.1', '*'], ['192.0.2.2', '+'], ['192.0.2.3', '+']]);
  const x = withSources([['192.0.2.1', '*'], ['192.0.2.2', '+'], ['192.0.2.3', 'x']]);
  assert.deepEqual(chronyTransitions(three, x), [{ type: 'chronySourceFalseticker', name: '192.0.2.3', index: 3 }], 'one source turns falseticker');
  assert.deepEqual(chronyTransitions(x, x), [], 'still a falseticker: no new event');
  assert.deepEqual(chronyTransitions(x, three), [{ type: 'chronySourceFalsetickerEnded', name: '192.0.2.3', index: 3, state: '+' }], 'combined again');
  const gone = withSources([['192.0.2.1', '*'], ['192.0.2.2', '+']]);
  assert.deepEqual(chronyTransitions(x, gone), [{ type: 'chronySourceFalsetickerEnded', name: '192.0.2.3', index: 3, state: 'gone' }], 'removed while a falseticker');
  const moved = withSources([['192.0.2.3', 'x'], ['192.0.2.1', '*']]);
  assert.deepEqual(chronyTransitions(x, moved), [], 'matched by name, not by row');
});
