import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  toNtp64, fromNtp64, ntpEra, toIsoLabel, toPtp, fromPtp, fromUtcFields, toIso, NS_PER_S, toNtpShort, fromNtpShort,
  floorDiv,
} from '../../src/time/index.ts';

const at = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;

test('NTP epoch and Unix epoch map to the published constants', () => {
  assert.equal(toNtp64(0n), 2_208_988_800n << 32n);
  // 1900-01-01T00:00:00Z is NTP 0 in era 0.
  assert.equal(toNtp64(-2_208_988_800n * NS_PER_S), 0n);
});

test('NTP era 1 begins 2036-02-07T06:28:16Z and wraps the seconds field to zero', () => {
  const eraStart = at('2036-02-07T06:28:16Z');
  assert.equal(ntpEra(eraStart - 1n), 0n);
  assert.equal(ntpEra(eraStart), 1n);
  assert.equal(toNtp64(eraStart), 0n);
  assert.equal(toNtp64(eraStart - NS_PER_S), 0xffffffffn << 32n);
  // Decoding picks the era closest to the pivot, on both sides of the rollover.
  assert.equal(fromNtp64(0n, eraStart - 10n * NS_PER_S), eraStart);
  assert.equal(fromNtp64(0xffffffffn << 32n, eraStart + 10n * NS_PER_S), eraStart - NS_PER_S);
  assert.equal(fromNtp64(toNtp64(at('2040-01-01T00:00:00Z')), at('2026-11-25T00:00:00Z')), at('2040-01-01T00:00:00Z'));
});

test('NTP fraction rounds to nearest and round-trips to within half a nanosecond', () => {
  // 0.5 s is exactly 2^31.
  assert.equal(toNtp64(500_000_000n) & 0xffffffffn, 1n << 31n);
  // 1 ns is 4.294967296 units: rounds to 4.
  assert.equal(toNtp64(1n) & 0xffffffffn, 4n);
  // 999 999 999.9 ns cannot occur, but the largest fraction must not overflow into the next second.
  const t = at('2026-11-25T12:00:00Z') + 999_999_999n;
  const n = toNtp64(t);
  assert.equal(n >> 32n, (toNtp64(at('2026-11-25T12:00:00Z')) >> 32n));
  const pivot = at('2026-01-01T00:00:00Z');
  for (const frac of [0n, 1n, 2n, 3n, 123_456_789n, 500_000_000n, 999_999_998n, 999_999_999n]) {
    const x = at('2026-11-25T12:00:00Z') + frac;
    assert.equal(fromNtp64(toNtp64(x), pivot), x, `fraction ${frac}`);
  }
});

test('a carry from a rounded-up fraction lands in the seconds field', () => {
  // 2^32 units per second; 999 999 999.9 ns would round up, but our input is whole ns: check the
  // boundary just below the second rounds to 0xffffffff or to the next second, never to a wrapped 0.
  const x = at('2030-01-01T00:00:00Z') + 999_999_999n;
  const v = toNtp64(x);
  const frac = v & 0xffffffffn;
  assert.ok(frac === 0xfffffffcn || frac === 0xfffffffbn || frac === 0xfffffffdn, `frac ${frac.toString(16)}`);
});

test('PTP timestamps are TAI: UTC plus the TAI-UTC offset, 48+32 bits', () => {
  const t = at('2026-11-25T00:00:00Z') + 123n;
  const p = toPtp(t, 37);
  assert.equal(p.seconds, BigInt(Date.parse('2026-11-25T00:00:00Z') / 1000) + 37n);
  assert.equal(p.nanoseconds, 123);
  assert.equal(fromPtp(p, 37), t);
  assert.throws(() => fromPtp({ seconds: 1n, nanoseconds: 1e9 }, 37), /nanoseconds/);
  assert.throws(() => fromPtp({ seconds: 1n << 48n, nanoseconds: 0 }, 37), /seconds/);
  assert.throws(() => toPtp(-100n * NS_PER_S, 37), /before the PTP epoch/);
});

test('UTC fields map a leap second 23:59:60 onto the next minute, as POSIX time does', () => {
  assert.equal(fromUtcFields(2016, 12, 31, 23, 59, 60), at('2017-01-01T00:00:00Z'));
  assert.equal(toIso(fromUtcFields(2015, 4, 13, 20, 26, 40, 500_000_000)), '2015-04-13T20:26:40.5Z');
  assert.equal(toIso(at('2015-04-13T20:26:40Z'), 3), '2015-04-13T20:26:40.000Z');
  assert.equal(toIsoLabel(fromUtcFields(2016, 12, 31, 23, 59, 60), true, 3), '2016-12-31T23:59:60.000Z');
  assert.equal(toIsoLabel(fromUtcFields(2016, 12, 31, 23, 59, 60), false), '2017-01-01T00:00:00Z');
});

test('NTP short format and floor division', () => {
  assert.equal(toNtpShort(1), 65536);
  assert.equal(toNtpShort(-1), 0);
  assert.equal(toNtpShort(1e9), 0xffffffff);
  assert.equal(fromNtpShort(toNtpShort(0.25)), 0.25);
  assert.equal(floorDiv(-1n, 2n), -1n);
  assert.equal(floorDiv(3n, 2n), 1n);
});
