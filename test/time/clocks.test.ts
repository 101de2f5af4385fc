import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimClock, SystemClock, calibrateRealtimeOffset, NS_PER_MS } from '../../src/time/index.ts';

test('SystemClock agrees with Date.now() and resolves well below a microsecond', () => {
  const c = new SystemClock({ recalibrateEveryMs: 0 });
  const cal = calibrateRealtimeOffset();
  assert.ok(cal.uncertaintyNs < 100_000n, `edge located to ${cal.uncertaintyNs} ns`);
  let distinct = 0;
  let prev = c.now();
  let minStep = 1n << 62n;
  for (let i = 0; i < 2000; i++) {
    const t = c.now();
    const coarse = BigInt(Date.now()) * NS_PER_MS;
    assert.ok(t - coarse > -2n * NS_PER_MS && t - coarse < 3n * NS_PER_MS, 'within the millisecond of Date.now()');
    assert.ok(t >= prev, 'never goes backwards without a step');
    if (t !== prev) {
      distinct++;
      if (t - prev < minStep) minStep = t - prev;
    }
    prev = t;
  }
  assert.ok(distinct > 1000, `${distinct} distinct readings of 2000`);
  assert.ok(minStep < 1000n, `smallest step between readings ${minStep} ns`);
  assert.equal(c.steps, 0);
  c.stop();
});

test('SimClock fires timers in time order, intervals repeat, cancel works', () => {
  const c = new SimClock(1_000n * 1_000_000_000n);
  const log: string[] = [];
  c.setTimeout(() => log.push('b@200'), 200);
  c.setTimeout(() => log.push('a@100'), 100);
  const iv = c.setInterval(() => log.push(`tick@${Number((c.now() - 1_000_000_000_000n) / NS_PER_MS)}`), 150);
  const x = c.setTimeout(() => log.push('never'), 250);
  x.cancel();
  c.advance(300);
  iv.cancel();
  c.advance(1000);
  assert.deepEqual(log, ['a@100', 'tick@150', 'b@200', 'tick@300']);
  assert.equal(c.now(), 1_000n * 1_000_000_000n + 1300n * NS_PER_MS);
});

test('SimClock runs a day of 1 Hz timers quickly and deterministically', () => {
  const c = new SimClock(0n);
  let n = 0;
  c.setInterval(() => { n++; }, 1000);
  c.advance(86_400_000);
  assert.equal(n, 86_400);
});
