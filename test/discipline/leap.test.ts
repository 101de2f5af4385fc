import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLeapSecondsList, taiUtcAt, nextLeap, leapIndicator, labelToTai, isExpired, LeapFileError } from '../../src/discipline/leap.ts';
import { fromDate, NS_PER_S } from '../../src/time/index.ts';
import { existsSync, readFileSync } from 'node:fs';
import { INVENTED_INSERTION, EXPIRED } from './fixtures.ts';

const at = (iso: string) => fromDate(new Date(iso));

test('TAI-UTC, the next leap and the leap indicator during the last day only', () => {
  const t = parseLeapSecondsList(INVENTED_INSERTION);
  assert.equal(taiUtcAt(t, at('2016-12-31T23:59:59Z')), 36);
  assert.equal(taiUtcAt(t, at('2017-01-01T00:00:00Z')), 37);
  assert.deepEqual(nextLeap(t, at('2026-11-01T00:00:00Z')), { at: at('2026-11-26T00:00:00Z'), delta: 1 });
  assert.equal(leapIndicator(t, at('2026-11-24T23:59:59Z')), 0);
  assert.equal(leapIndicator(t, at('2026-11-25T00:00:00Z')), 1);
  assert.equal(leapIndicator(t, at('2026-11-25T23:59:59Z')), 1);
  assert.equal(leapIndicator(t, at('2026-11-26T00:00:00Z')), 0);
  assert.equal(leapIndicator(undefined, at('2026-11-25T12:00:00Z')), 0);
});

test('labels map to a continuous count: 23:59:59, 23:59:60, 00:00:00 are three seconds', () => {
  const t = parseLeapSecondsList(INVENTED_INSERTION);
  const p = at('2026-11-26T00:00:00Z');
  const a = labelToTai(t, p - NS_PER_S, false);
  const b = labelToTai(t, p, true);
  const c = labelToTai(t, p, false);
  assert.equal(b - a, NS_PER_S);
  assert.equal(c - b, NS_PER_S);
  assert.equal(a, p - NS_PER_S + 37n * NS_PER_S);
});

test('expiry is read and checked; broken files are refused with the line', () => {
  assert.equal(isExpired(parseLeapSecondsList(EXPIRED), at('2026-11-25T00:00:00Z')), true);
  assert.equal(isExpired(parseLeapSecondsList(INVENTED_INSERTION), at('2026-11-25T00:00:00Z')), false);
  assert.throws(() => parseLeapSecondsList('# nothing\n'), LeapFileError);
  assert.throws(() => parseLeapSecondsList('3692217600 37\nabc\n'), /line 2/);
  assert.throws(() => parseLeapSecondsList('3692217600 37\n3644697600 36\n'), /out of order/);
  assert.throws(() => parseLeapSecondsList('#@ soon\n3692217600 37\n'), /expiry/);
});

test("the system's own leap-seconds.list parses, when tzdata has it", (t) => {
  const f = '/usr/share/zoneinfo/leap-seconds.list';
  if (!existsSync(f)) {
    t.skip('no tzdata leap-seconds.list here');
    return;
  }
  const table = parseLeapSecondsList(readFileSync(f, 'utf8'));
  assert.equal(taiUtcAt(table, at('2020-01-01T00:00:00Z')), 37);
  assert.ok(table.expires !== undefined);
});
