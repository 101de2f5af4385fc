import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from '../src/log.ts';
import { EventBus } from '../src/status/events.ts';
import { SimClock, NS_PER_S } from '../src/time/index.ts';

test('the logger writes JSON lines and rate-limits a repeated message, counting what it held back', () => {
  const clock = new SimClock(1_764_072_000n * NS_PER_S);
  const lines: string[] = [];
  const log = new Logger(clock, { level: 'info', repeatPerMinute: 3 }, { write: (l) => lines.push(l) });
  log.debug('not shown');
  for (let i = 0; i < 10; i++) log.warn('bad checksum', { n: i });
  log.info('other');
  assert.equal(lines.length, 4);
  const recs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(recs.map((r) => r.msg), ['bad checksum', 'bad checksum', 'bad checksum', 'other']);
  assert.equal(recs[0]!.level, 'warn');
  assert.equal(recs[0]!.ts, '2025-11-25T12:00:00.000000Z');
  clock.advance(61_000);
  log.warn('bad checksum', { n: 11 });
  assert.equal((JSON.parse(lines.at(-1)!) as { suppressed: number }).suppressed, 7);
});

test('a failing event subscriber does not stop the others, and is reported', () => {
  const errors: unknown[] = [];
  const bus = new EventBus(5, (e) => errors.push(e));
  const got: string[] = [];
  bus.on('fixLost', () => { throw new Error('boom'); });
  bus.on('fixLost', (e) => got.push(e.reason));
  for (let i = 0; i < 7; i++) bus.emit({ type: 'fixLost', at: 0n, reason: `r${i}` });
  assert.equal(got.length, 7);
  assert.equal(errors.length, 7);
  assert.equal(bus.recent().length, 5);
  assert.equal(bus.counts.fixLost, 7);
});
