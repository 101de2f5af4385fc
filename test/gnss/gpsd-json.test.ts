import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeGpsd, watchCommand } from '../../src/gnss/gpsd-json.ts';

test('TPV, SKY, PPS and TOFF decode into our types', () => {
  const tpv = decodeGpsd('{"class":"TPV","device":"/dev/ttyS0","mode":3,"time":"2026-11-25T12:00:01.500Z","lat":44.1,"lon":-121.3,"altMSL":1127.7}');
  assert.ok(tpv.ok && tpv.msg.class === 'TPV');
  if (tpv.ok && tpv.msg.class === 'TPV') {
    assert.equal(tpv.msg.fix.utc, BigInt(Date.parse('2026-11-25T12:00:01Z')) * 1_000_000n + 500_000_000n);
    assert.equal(tpv.msg.fix.altMsl, 1127.7);
  }
  const sky = decodeGpsd('{"class":"SKY","hdop":0.9,"satellites":[{"PRN":9,"gnssid":0,"svid":9,"el":88,"az":89,"ss":31,"used":true},{"PRN":66,"gnssid":6,"svid":2,"used":false},{"bogus":1}]}');
  assert.ok(sky.ok && sky.msg.class === 'SKY');
  if (sky.ok && sky.msg.class === 'SKY') {
    assert.deepEqual(sky.msg.satellites.map((s) => [s.constellation, s.prn, s.used]), [['GPS', 9, true], ['GLONASS', 2, false]]);
    assert.equal(sky.msg.hdop, 0.9);
  }
  const pps = decodeGpsd('{"class":"PPS","device":"/dev/pps0","real_sec":1764072001,"real_nsec":0,"clock_sec":1764072000,"clock_nsec":999998765,"precision":-20}');
  assert.ok(pps.ok && pps.msg.class === 'PPS');
  if (pps.ok && pps.msg.class === 'PPS') {
    assert.equal(pps.msg.real, 1764072001n * 1_000_000_000n);
    assert.equal(pps.msg.clock, 1764072000n * 1_000_000_000n + 999_998_765n);
  }
  const toff = decodeGpsd('{"class":"TOFF","real_sec":1764072001,"real_nsec":0,"clock_sec":1764072001,"clock_nsec":512000000}');
  assert.ok(toff.ok && toff.msg.class === 'TOFF');
});

test('hostile or broken reports are classified, never thrown', () => {
  const bad = [
    'not json', '[]', 'null', '{"mode":3}', '{"class":"TPV","mode":9}', '{"class":"TPV","mode":"3"}',
    '{"class":"TPV","mode":2,"time":"yesterday"}', '{"class":"PPS","real_sec":1,"real_nsec":1e9,"clock_sec":1,"clock_nsec":0}',
    '{"class":"PPS","real_sec":"1","real_nsec":0,"clock_sec":1,"clock_nsec":0}', '{"class":"TOFF"}',
  ];
  for (const line of bad) {
    const r = decodeGpsd(line);
    assert.equal(r.ok, false, line);
  }
  const odd = decodeGpsd('{"class":"SKY","satellites":"many"}');
  assert.ok(odd.ok && odd.msg.class === 'OTHER');
  assert.ok(decodeGpsd('{"class":"WATCH","enable":true}').ok);
});

test('WATCH asks for JSON with PPS, optionally for one device', () => {
  assert.equal(watchCommand(''), '?WATCH={"enable":true,"json":true,"pps":true};\n');
  assert.equal(watchCommand('/dev/ttyS0'), '?WATCH={"enable":true,"json":true,"pps":true,"device":"/dev/ttyS0"};\n');
});
