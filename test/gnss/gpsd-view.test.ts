/**
 * Status gpsd from gpsd's own reports. gpsfake cannot make PPS (it has no pulse to report), so PPS is
 * tested here on lines in gpsd 3.22's format (as `gpspipe -w` prints them from a receiver with a PPS
 * line); TOFF, VERSION and the devices are also checked against a real gpsd in gpsd-gpsfake.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeGpsd } from '../../src/gnss/gpsd-json.ts';
import { GpsdView } from '../../src/gnss/gpsd-view.ts';
import { NS_PER_S } from '../../src/time/index.ts';

const LINES = [
  '{"class":"VERSION","release":"3.22","rev":"3.22","proto_major":3,"proto_minor":14}',
  '{"class":"DEVICES","devices":[{"class":"DEVICE","path":"/dev/ttyAMA0","driver":"u-blox","subtype":"SW ROM CORE 3.01 (107888),HW 00080000","activated":"2026-11-25T11:59:00.120Z","flags":1,"native":1,"bps":115200,"parity":"N","stopbits":1,"cycle":1.00,"mincycle":0.25},{"class":"DEVICE","path":"/dev/pps0","driver":"PPS","activated":"2026-11-25T11:59:00.130Z"}]}',
  '{"class":"TOFF","device":"/dev/ttyAMA0","real_sec":1764072001,"real_nsec":0,"clock_sec":1764072001,"clock_nsec":86512345,"precision":-1}',
  '{"class":"PPS","device":"/dev/pps0","real_sec":1764072001,"real_nsec":0,"clock_sec":1764072000,"clock_nsec":999998765,"precision":-20,"shm":"NTP2","qErr":-2144}',
  '{"class":"PPS","device":"/dev/pps0","real_sec":1764072002,"real_nsec":0,"clock_sec":1764072002,"clock_nsec":1234,"precision":-20,"shm":"NTP2","qErr":512}',
];

function feed(view: GpsdView, lines: string[], rx: bigint): void {
  for (const l of lines) {
    const r = decodeGpsd(l);
    assert.ok(r.ok, `decodes: ${l}`);
    if (r.ok) view.onMessage(r.msg, rx);
  }
}

test('gpsd view: version, devices with driver, speed and activation, the last PPS and TOFF with their offsets', () => {
  const view = new GpsdView('127.0.0.1:2947');
  view.connected = true;
  const rx = 1764072002n * NS_PER_S + 500_000_000n;
  feed(view, LINES, rx);
  const s = view.snapshot(rx + 2n * NS_PER_S);
  assert.equal(s.enabled, true, 'enabled');
  assert.equal(s.connected, true, 'connected');
  assert.equal(s.release, '3.22', 'release from VERSION');
  assert.equal(s.protocol, '3.14', 'protocol major.minor from VERSION');
  assert.deepEqual(s.devices.map((d) => [d.path, d.driver, d.bps, d.activated]), [
    ['/dev/ttyAMA0', 'u-blox', 115200, '2026-11-25T11:59:00.120Z'], ['/dev/pps0', 'PPS', null, '2026-11-25T11:59:00.130Z'],
  ], 'both devices as DEVICES lists them');
  assert.equal(s.devices[0]!.subtype, 'SW ROM CORE 3.01 (107888),HW 00080000', 'the receiver\'s firmware (subtype)');
  assert.equal(s.devices[0]!.cycleS, 1, 'cycle');
  assert.ok(s.pps, 'a PPS report');
  assert.equal(s.pps.count, 2, 'two PPS reports counted');
  assert.equal(s.pps.offsetNs, 1234, 'the last pulse: the clock 1234 ns after the true second');
  assert.equal(s.pps.real, '2025-11-25T12:00:02.000000000Z', 'the true second');
  assert.equal(s.pps.precision, -20, 'precision');
  assert.equal(s.pps.ageS, 2, 'received 2 s before the snapshot');
  assert.ok(s.toff, 'a TOFF report');
  assert.equal(s.toff.offsetNs, 86_512_345, 'the serial time arrived 86.5 ms after its second');
  assert.equal(s.toff.device, '/dev/ttyAMA0', 'TOFF from the serial device');
  assert.equal(s.toff.count, 1, 'one TOFF');
});

test('gpsd view: a pulse before the second is a negative offset; DEVICE merges into DEVICES; a closed device loses its activation; ERROR counted', () => {
  const view = new GpsdView('127.0.0.1:2947');
  feed(view, [LINES[1]!, LINES[3]!], 0n);
  assert.equal(view.snapshot(0n).pps?.offsetNs, -1235, 'the clock 1235 ns before the true second');
  // A DEVICE that says only the speed changed keeps the driver DEVICES gave.
  feed(view, ['{"class":"DEVICE","path":"/dev/ttyAMA0","activated":"2026-11-25T12:01:00.000Z","bps":9600}'], 0n);
  let d = view.snapshot(0n).devices.find((x) => x.path === '/dev/ttyAMA0');
  assert.deepEqual([d?.driver, d?.bps, d?.activated], ['u-blox', 9600, '2026-11-25T12:01:00.000Z'], 'merged');
  feed(view, ['{"class":"DEVICE","path":"/dev/ttyAMA0","activated":0}'], 0n);
  d = view.snapshot(0n).devices.find((x) => x.path === '/dev/ttyAMA0');
  assert.equal(d?.activated, null, 'closed: no activation time');
  assert.equal(d?.driver, 'u-blox', 'still listed with its driver');
  feed(view, ['{"class":"ERROR","message":"Can\'t open /dev/ttyAMA0."}'], 0n);
  const s = view.snapshot(0n);
  assert.equal(s.errors, 1, 'one ERROR');
  assert.equal(s.lastError, 'Can\'t open /dev/ttyAMA0.', 'its message');
  view.disconnected();
  assert.equal(view.snapshot(0n).connected, false, 'disconnected');
  assert.equal(view.snapshot(0n).release, null, 'no VERSION was fed to this view');
});

test('gpsd view: older gpsd\'s numeric activation is converted; at most 16 devices are kept', () => {
  const view = new GpsdView('h:1');
  feed(view, ['{"class":"DEVICES","devices":[{"path":"/dev/ttyS0","activated":1764072000.5}]}'], 0n);
  assert.equal(view.snapshot(0n).devices[0]?.activated, '2025-11-25T12:00:00.500Z', 'Unix seconds as ISO 8601');
  const many = Array.from({ length: 40 }, (_, i) => ({ path: `/dev/tty${i}` }));
  feed(view, [JSON.stringify({ class: 'DEVICES', devices: many })], 0n);
  for (let i = 0; i < 40; i++) feed(view, [JSON.stringify({ class: 'DEVICE', path: `/dev/x${i}` })], 0n);
  assert.equal(view.snapshot(0n).devices.length, 16, 'bounded');
});
