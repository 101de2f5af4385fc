import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MtkConfigurator, timingSetup, pmtk314, runMtkSetup } from '../../src/gnss/mtk.ts';
import { parseSentence } from '../../src/gnss/nmea.ts';
import { SimClock } from '../../src/time/index.ts';

test('MTK commands are well-formed sentences with correct checksums', () => {
  for (const c of timingSetup()) {
    assert.match(c.text, /\r\n$/);
    const p = parseSentence(c.text);
    assert.ok(p.ok, `${c.text.trim()}: ${!p.ok && p.error.detail}`);
  }
  // RMC, GGA, GSA every fix, GSV every fifth, ZDA every fix (checksum from the MTK datasheet's rule).
  assert.equal(pmtk314({ rmc: 1, gga: 1 }).text, '$PMTK314,0,1,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0*28\r\n');
});

test('acks are checked: success, failure flags, resend and give up', () => {
  const c = new MtkConfigurator(timingSetup(), 3);
  const first = c.start();
  assert.equal(first.length, 4);
  c.onAck(314, 3);
  c.onAck(999, 3); // not ours
  assert.equal(c.done, false);
  assert.deepEqual(c.onTimeout().map((s) => s.slice(0, 9)), ['$PMTK220,']);
  c.onTimeout();
  assert.deepEqual(c.onTimeout(), []);
  assert.equal(c.done, true);
  assert.deepEqual(c.acked, [314]);
  assert.deepEqual(c.failed, [{ id: 220, reason: 'no acknowledgement after 3 tries' }]);
  const d = new MtkConfigurator(timingSetup());
  d.start();
  d.onAck(314, 1);
  d.onAck(220, 2);
  assert.deepEqual(d.failed.map((f) => f.reason), ['unsupported command', 'valid command, action failed']);
});

test('runMtkSetup resends on a timer and reports once', () => {
  const clock = new SimClock(0n);
  const written: string[] = [];
  const results: unknown[] = [];
  const h = runMtkSetup((t) => written.push(t), (fn, ms) => clock.setTimeout(fn, ms), (acked, failed) => results.push({ acked, failed }), 2000);
  assert.equal(written.length, 4);
  clock.advance(2100);
  assert.equal(written.length, 6); // 314 and 220 again
  h.onAck(314, 3);
  h.onAck(220, 3);
  clock.advance(10_000);
  assert.deepEqual(results, [{ acked: [314, 220], failed: [] }]);
});
