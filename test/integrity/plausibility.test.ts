/**
 * The GNSS plausibility checks on synthetic inputs: each failure is raised once and cleared once, with
 * the figure that caused it; ordinary life (noise, satellites setting, an odd epoch, a skipped
 * sentence, a correct leap second) raises nothing. Times are fixed offsets from a constant: the core is
 * pure and never reads a clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Plausibility, DEFAULT_PLAUSIBILITY, type PlausibilityOptions, type PlausibilityCheck } from '../../src/integrity/plausibility.ts';
import { FixMode, type Epoch, type SatelliteView } from '../../src/gnss/receiver.ts';
import type { LeapTable } from '../../src/discipline/leap.ts';
import type { AgentEvent } from '../../src/status/events.ts';
import { NS_PER_S, fromUtcFields, type Nanos } from '../../src/time/index.ts';
import { Rng } from '../../src/sim/random.ts';

/** A midnight UTC to hang everything on (a leap second, when there is one, ends the day before it). */
const M = fromUtcFields(2031, 1, 1, 0, 0, 0);
const T0 = M - 7200n * NS_PER_S;
const S = (s: number): Nanos => T0 + BigInt(Math.round(s * 1e9));
const DAY = 86_400n * NS_PER_S;

const LAT = 44.0688;
const LON = -121.3142;
const M_PER_DEG = (Math.PI / 180) * 6_371_000;

function setup(o: Partial<PlausibilityOptions> = {}, table?: LeapTable) {
  const events: AgentEvent[] = [];
  const p = new Plausibility({ ...DEFAULT_PLAUSIBILITY, ...o }, table, (e) => events.push(e));
  const of = (check: PlausibilityCheck, type?: 'integrityCheckFailed' | 'integrityCheckPassed') =>
    events.filter((e) => (e.type === 'integrityCheckFailed' || e.type === 'integrityCheckPassed') && e.check === check && (!type || e.type === type));
  const integrity = () => events.filter((e) => e.type === 'integrityCheckFailed' || e.type === 'integrityCheckPassed');
  return { p, events, of, integrity };
}

const secondsOf = (e: AgentEvent) => Number(e.at - T0) / 1e9;

function epoch(lat: number, lon: number, alt: number, used = 9, mode = FixMode.Fix3D): Epoch {
  return { time: 0n, leapSecond: false, mode, lat, lon, altMsl: alt, satellitesUsed: used, satellitesInView: 12 };
}

/** A receiver's position noise: first-order Gauss-Markov, sigma 3 m horizontal, 5 m vertical, 60 s. */
function noisyPosition(seed: number) {
  const rng = new Rng(seed);
  const a = Math.exp(-1 / 60);
  const b = Math.sqrt(1 - a * a);
  let n = 3 * rng.normal();
  let e = 3 * rng.normal();
  let u = 5 * rng.normal();
  return (walkN = 0, walkE = 0) => {
    n = a * n + 3 * b * rng.normal();
    e = a * e + 3 * b * rng.normal();
    u = a * u + 5 * b * rng.normal();
    const lat = LAT + (n + walkN) / M_PER_DEG;
    return epoch(lat, LON + (e + walkE) / (M_PER_DEG * Math.cos(LAT * Math.PI / 180)), 1127.7 + u);
  };
}

// ------------------------------------------------------------------------------------------ position

test('position: learned for 600 s, then a walk at 1 m/s fails once past the fence and passes once back inside 0.8 of it; the reference is not dragged', () => {
  const { p, of, integrity } = setup();
  const next = noisyPosition(1);
  let t = 0;
  for (; t < 600; t++) {
    p.onEpoch(next(), S(t));
    if (t === 598) assert.equal(p.snapshot(S(t)).checks.position.armed, false, 'not armed while learning');
  }
  const s0 = p.snapshot(S(t));
  assert.equal(s0.checks.position.armed, true);
  assert.ok(s0.referencePosition && Math.abs(s0.referencePosition.lat - LAT) * M_PER_DEG < 3, 'the learned reference is within metres of the truth');
  assert.equal(s0.referencePosition!.samples, 600);
  // The spoofer walks north-east at 1 m/s for 300 s, holds 300 m off for a minute, then lets go.
  const walkStart = 1000;
  for (; t < 1800; t++) {
    const d = t < walkStart ? 0 : Math.min(300, t - walkStart);
    const off = t >= 1360 ? 0 : d;
    p.onEpoch(next(off / Math.SQRT2, off / Math.SQRT2), S(t));
  }
  const failed = of('position', 'integrityCheckFailed');
  const passed = of('position', 'integrityCheckPassed');
  assert.equal(failed.length, 1);
  assert.equal(passed.length, 1);
  assert.equal(integrity().length, 2, 'no other check moved');
  const f = failed[0]!;
  assert.ok(f.type === 'integrityCheckFailed' && f.value > 100 && f.value < 115 && f.threshold === 100, JSON.stringify(f, (_, v) => typeof v === 'bigint' ? String(v) : v));
  const detectS = secondsOf(f) - walkStart;
  assert.ok(detectS >= 90 && detectS <= 115, `detected ${detectS} s into the walk`);
  assert.equal(secondsOf(passed[0]!), 1360, 'passes on the first fix back');
  assert.ok(passed[0]!.type === 'integrityCheckPassed' && Math.abs(passed[0]!.durationS - (1360 - secondsOf(f))) < 1e-6);
  const s1 = p.snapshot(S(t));
  assert.ok(Math.abs(s1.referencePosition!.lat - LAT) * M_PER_DEG < 3, 'the walk did not drag the reference');
  assert.equal(s1.checks.position.failing, false);
  assert.equal(s1.checks.position.failures, 1);
  assert.ok(s1.positionDistanceM! < 15);
});

test('position: a noisy but static antenna for 48 h raises nothing; a fence of 0 is off', () => {
  const { p, integrity } = setup();
  const off = setup({ positionFenceM: 0 });
  const next = noisyPosition(7);
  let maxD = 0;
  for (let t = 0; t < 48 * 3600; t++) {
    const e = next();
    p.onEpoch(e, S(t));
    off.p.onEpoch(e, S(t));
    if (t > 600) maxD = Math.max(maxD, p.snapshot(S(t)).positionDistanceM!);
  }
  assert.equal(integrity().length, 0);
  assert.ok(maxD > 5 && maxD < 30, `largest distance ${maxD.toFixed(1)} m`);
  const s = off.p.snapshot(S(48 * 3600));
  assert.equal(s.checks.position.armed, false);
  assert.equal(s.referencePosition, undefined);
  assert.equal(off.integrity().length, 0);
});

// ------------------------------------------------------------------------------------------ jamming

/** A sky of 10 satellites with fixed C/N0 between 24 and 46 dB-Hz, 1 dB noise, a tracking threshold
 * of 16 dB-Hz, and `jam` dB of jamming. */
function sky(rng: Rng, jam = 0, n = 10): SatelliteView[] {
  return Array.from({ length: n }, (_, i) => {
    const base = 24 + (22 * i) / (n - 1);
    const lost = base - jam < 16;
    return { constellation: 'GPS' as const, prn: i + 1, elevation: 40, azimuth: 36 * i, snr: lost ? undefined : base - jam + rng.normal(), used: !lost };
  });
}

test('jamming: baseline learned over 5 min; 15 dB of jamming fails once within 30 s, with the drop in full; its end passes once', () => {
  const { p, of, integrity } = setup();
  const rng = new Rng(3);
  let t = 0;
  for (; t < 1800; t += 5) {
    p.onSky(sky(rng), S(t));
    p.tick(S(t));
    if (t === 290) assert.equal(p.snapshot(S(t)).checks.jamming.armed, false);
  }
  let s = p.snapshot(S(t));
  assert.equal(s.checks.jamming.armed, true);
  assert.ok(Math.abs(s.cn0BaselineDb! - 42.3) < 0.5, `baseline ${s.cn0BaselineDb}`);
  const jamFrom = t;
  for (; t < jamFrom + 600; t += 5) p.onSky(sky(rng, 15), S(t));
  s = p.snapshot(S(t));
  // Every satellite under 31 dB-Hz is lost, yet the figure falls by the full 15 dB.
  assert.ok(Math.abs(s.cn0BaselineDb! - s.cn0MeanDb! - 15) < 0.8, `${s.cn0BaselineDb} - ${s.cn0MeanDb}`);
  const jamTo = t;
  for (; t < jamTo + 600; t += 5) p.onSky(sky(rng), S(t));
  const failed = of('jamming', 'integrityCheckFailed');
  const passed = of('jamming', 'integrityCheckPassed');
  assert.equal(failed.length, 1);
  assert.equal(passed.length, 1);
  assert.equal(integrity().length, 2);
  const f = failed[0]!;
  assert.ok(f.type === 'integrityCheckFailed' && f.value >= 10 && f.value < 13 && f.threshold === 10);
  assert.ok(secondsOf(f) - jamFrom <= 30, `detected after ${secondsOf(f) - jamFrom} s`);
  assert.ok(secondsOf(passed[0]!) - jamTo <= 30, `cleared ${secondsOf(passed[0]!) - jamTo} s after the jamming ended`);
  // The baseline was frozen while failing.
  assert.ok(Math.abs(p.snapshot(S(t)).cn0BaselineDb! - 42.3) < 0.5);
});

test('jamming: an antenna that is gone (nothing tracked) is not jamming, and 5 dB of fading is not either', () => {
  const { p, integrity } = setup();
  const rng = new Rng(4);
  let t = 0;
  for (; t < 1200; t += 5) p.onSky(sky(rng), S(t));
  for (; t < 1500; t += 5) {
    p.onSky([], S(t));
    p.tick(S(t));
  }
  assert.equal(p.snapshot(S(t)).cn0MeanDb, undefined, 'no evidence while nothing is tracked');
  for (; t < 1800; t += 5) p.onSky(sky(rng).map((x) => ({ ...x, snr: undefined, used: false })), S(t));
  for (; t < 3600; t += 5) p.onSky(sky(rng, 5), S(t));
  assert.equal(integrity().length, 0);
});

// ------------------------------------------------------------------------------------------ satellites

test('satellites: a sudden drop to half fails once after 5 epochs (value, threshold), the return passes once', () => {
  const { p, of, integrity } = setup();
  let t = 0;
  for (; t < 600; t++) {
    p.onEpoch(epoch(LAT, LON, 1127, 10), S(t));
    if (t === 100) assert.equal(p.snapshot(S(t)).checks.satellites.armed, false, 'learning for two minutes');
  }
  assert.equal(p.snapshot(S(t)).checks.satellites.armed, true);
  const dropAt = t;
  for (; t < dropAt + 60; t++) p.onEpoch(epoch(LAT, LON, 1127, 5), S(t));
  for (; t < dropAt + 120; t++) p.onEpoch(epoch(LAT, LON, 1127, 10), S(t));
  const failed = of('satellites', 'integrityCheckFailed');
  const passed = of('satellites', 'integrityCheckPassed');
  assert.equal(failed.length, 1);
  assert.equal(passed.length, 1);
  assert.equal(integrity().length, 2);
  const f = failed[0]!;
  assert.ok(f.type === 'integrityCheckFailed' && f.value === 5 && Math.abs(f.threshold - 5) < 1e-9);
  assert.equal(secondsOf(f), dropAt + 4, 'the fifth low epoch');
  assert.equal(secondsOf(passed[0]!), dropAt + 60);
  assert.ok(Math.abs(p.snapshot(S(t)).satellitesBaseline! - 10) < 1e-6, 'the baseline learned nothing from the drop');
});

test('satellites: one odd epoch, four in a row, no-fix epochs and a slow decline from 12 to 5 over an hour raise nothing', () => {
  const { p, integrity } = setup();
  let t = 0;
  for (; t < 600; t++) p.onEpoch(epoch(LAT, LON, 1127, 12), S(t));
  p.onEpoch(epoch(LAT, LON, 1127, 2), S(t++));
  for (; t < 700; t++) p.onEpoch(epoch(LAT, LON, 1127, 12), S(t));
  for (; t < 704; t++) p.onEpoch(epoch(LAT, LON, 1127, 3), S(t));
  for (; t < 800; t++) p.onEpoch(epoch(LAT, LON, 1127, 12), S(t));
  for (; t < 900; t++) p.onEpoch(epoch(LAT, LON, 1127, 0, FixMode.NoFix), S(t));
  for (; t < 1000; t++) p.onEpoch(epoch(LAT, LON, 1127, 12), S(t));
  // Satellites setting: one every 8.5 minutes or so, 12 down to 5 over an hour.
  for (let k = 0; k < 3600; k++, t++) p.onEpoch(epoch(LAT, LON, 1127, 12 - Math.floor((7 * k) / 3600)), S(t));
  for (let k = 0; k < 1200; k++, t++) p.onEpoch(epoch(LAT, LON, 1127, 5), S(t));
  assert.equal(integrity().length, 0);
  const s = p.snapshot(S(t));
  assert.ok(Math.abs(s.satellitesBaseline! - 5) < 0.5, `baseline ${s.satellitesBaseline}`);
});

// ------------------------------------------------------------------------------------------ pulses and labels

/**
 * A receiver and its PPS, one true second at a time: the edge at the second, the label 0.5 s later.
 * `label(k)` gives the label of true second k (undefined: no sentences that second); `edge(k)` whether
 * its pulse arrives. Labels default to the POSIX time of the second.
 */
function drive(p: Plausibility, from: number, to: number, o: {
  label?: (k: number) => { utc: Nanos; leap?: boolean } | undefined; edge?: (k: number) => boolean; fix?: (k: number) => boolean;
} = {}) {
  for (let k = from; k < to; k++) {
    if (o.edge?.(k) ?? true) p.onEdge(S(k) + 37_000n);
    const l = o.label ? o.label(k) : { utc: S(k) };
    if (l) p.onLabel(l.utc, l.leap ?? false, o.fix?.(k) ?? true, S(k + 0.5));
    p.tick(S(k + 0.6));
  }
}

test('pps_count: a clean hour, a skipped sentence, a missing pulse, a one-off wrong label, no fix and a PPS gap raise nothing', () => {
  const { p, integrity } = setup();
  assert.equal(p.snapshot(S(0)).checks.pps_count.armed, false);
  drive(p, 0, 3600, {
    label: (k) => (k === 100 || k === 200 || k === 201 ? undefined : { utc: S(k + (k === 300 ? 1 : 0)) }),
    edge: (k) => k !== 400 && !(k >= 1000 && k < 1030),
    fix: (k) => !(k >= 2000 && k < 2010),
  });
  assert.equal(integrity().length, 0);
  const s = p.snapshot(S(3600));
  assert.equal(s.checks.pps_count.armed, true);
  assert.equal(s.labelPpsOffsetS, 0);
});

test('pps_count: labels 1 s ahead of the count for 20 s fail once after 3 labels (value +1) and pass once when they come back', () => {
  const { p, of, integrity } = setup();
  drive(p, 0, 200, { label: (k) => ({ utc: S(k + (k >= 100 && k < 120 ? 1 : 0)) }) });
  const failed = of('pps_count', 'integrityCheckFailed');
  const passed = of('pps_count', 'integrityCheckPassed');
  assert.equal(failed.length, 1);
  assert.equal(passed.length, 1);
  assert.equal(integrity().length, 2);
  const f = failed[0]!;
  assert.ok(f.type === 'integrityCheckFailed' && f.value === 1 && f.threshold === 1);
  assert.equal(secondsOf(f), 102.5);
  assert.equal(secondsOf(passed[0]!), 122.5);
  assert.ok(passed[0]!.type === 'integrityCheckPassed' && passed[0]!.value === 0 && passed[0]!.durationS === 20);
});

test('pps_count: labels that step by 2 s and stay there fail once and keep failing until the clock takes them; then they are counted from', () => {
  const { p, of } = setup();
  drive(p, 0, 300, { label: (k) => ({ utc: S(k + (k >= 100 ? 2 : 0)) }) });
  const failed = of('pps_count', 'integrityCheckFailed');
  assert.equal(failed.length, 1);
  assert.ok(failed[0]!.type === 'integrityCheckFailed' && failed[0]!.value === 2);
  assert.equal(secondsOf(failed[0]!), 102.5);
  assert.equal(of('pps_count', 'integrityCheckPassed').length, 0, '200 s on the new labels: still failing');
  assert.equal(p.snapshot(S(300)).labelPpsOffsetS, 2);
  // The discipline steps to the receiver's time: the failure ends, and the labels count from here.
  p.acceptLabels(S(300) + 700_000_000n);
  drive(p, 301, 400, { label: (k) => ({ utc: S(k + 2) }) });
  const passed = of('pps_count', 'integrityCheckPassed');
  assert.equal(passed.length, 1);
  assert.ok(passed[0]!.type === 'integrityCheckPassed' && passed[0]!.value === 2);
  assert.equal(of('pps_count', 'integrityCheckFailed').length, 1);
  assert.equal(p.snapshot(S(400)).labelPpsOffsetS, 0);
});

test('pps_count: labels that jump by 2 s for 200 s and come back are one failure and one pass', () => {
  const { p, of } = setup();
  drive(p, 0, 400, { label: (k) => ({ utc: S(k + (k >= 100 && k < 300 ? 2 : 0)) }) });
  assert.equal(of('pps_count', 'integrityCheckFailed').length, 1);
  const passed = of('pps_count', 'integrityCheckPassed');
  assert.equal(passed.length, 1);
  assert.equal(secondsOf(passed[0]!), 302.5);
});

test('pps_count: a receiver that counts two seconds a second keeps failing (once), however long', () => {
  const { p, of } = setup();
  drive(p, 0, 600, { label: (k) => ({ utc: S(k < 100 ? k : 100 + 2 * (k - 100)) }) });
  assert.equal(of('pps_count', 'integrityCheckFailed').length, 1);
  assert.equal(of('pps_count', 'integrityCheckPassed').length, 0);
  const s = p.snapshot(S(600));
  assert.equal(s.checks.pps_count.failing, true);
  assert.ok(s.labelPpsOffsetS! > 400, `offset ${s.labelPpsOffsetS}`);
});

test('pps_count without a table: a leap second shown by repeating 23:59:59 is no miscount at the end of a month; mid-month it is', () => {
  // The repeated 23:59:59 is not a new label: the monitor reports nothing that second.
  const repeating = (at: number) => (k: number) => (k < at ? { utc: S(k) } : k === at ? undefined : { utc: S(k - 1) });
  const monthEnd = setup();
  drive(monthEnd.p, 7200 - 300, 7200 + 300, { label: repeating(7200) }); // S(7200) is 2031-01-01T00:00:00Z
  assert.equal(monthEnd.integrity().length, 0);
  const midMonth = setup();
  const mid = 7200 + 14 * 86_400; // 2031-01-15T00:00:00Z
  drive(midMonth.p, mid - 300, mid + 300, { label: repeating(mid) });
  const f = midMonth.of('pps_count', 'integrityCheckFailed');
  assert.equal(f.length, 1);
  assert.ok(f[0]!.type === 'integrityCheckFailed' && f[0]!.value === -1);
  assert.equal(midMonth.of('pps_count', 'integrityCheckPassed').length, 0, 'the labels stay a second behind the count: still failing');
  assert.equal(midMonth.p.snapshot(S(mid + 300)).checks.pps_count.failing, true);
});

// ------------------------------------------------------------------------------------------ leap

const YEARS_AGO = M - 2000n * DAY;
const TABLE_WITH_LEAP: LeapTable = { entries: [{ at: YEARS_AGO, taiUtc: 37 }, { at: M, taiUtc: 38 }], expires: M + 150n * DAY };
const TABLE_WITHOUT: LeapTable = { entries: [{ at: YEARS_AGO, taiUtc: 37 }], expires: M + 150n * DAY };
/** True second index of 23:59:60 (or of 00:00:00 when no second is inserted): T0 + 7200 s = M. */
const K = 7200;

/** Labels of a receiver that inserts 23:59:60 before M (true second K is the leap second). */
const inserting = (k: number) => (k < K ? { utc: S(k) } : k === K ? { utc: M, leap: true } : { utc: S(k - 1) });
const plain = (k: number) => ({ utc: S(k) });

test('leap: a correct leap second with the table raises nothing, and neither does one whose 23:59:60 sentence was lost', () => {
  for (const skip of [false, true]) {
    const { p, integrity } = setup({}, TABLE_WITH_LEAP);
    drive(p, K - 600, K + 600, { label: (k) => (skip && k === K ? undefined : inserting(k)) });
    assert.equal(integrity().length, 0, `skip ${skip}`);
    const s = p.snapshot(S(K + 600));
    assert.equal(s.checks.leap.armed, true);
    assert.equal(s.checks.pps_count.failing, false);
  }
});

test('leap: a plain midnight without a leap second raises nothing either', () => {
  const { p, integrity } = setup({}, TABLE_WITHOUT);
  drive(p, K - 300, K + 300, { label: plain });
  assert.equal(integrity().length, 0);
});

test('leap: the table has a leap second the receiver does not insert: fails once (-1), passes once an hour later', () => {
  const { p, of, integrity } = setup({}, TABLE_WITH_LEAP);
  drive(p, K - 300, K + 3700, { label: plain });
  const failed = of('leap', 'integrityCheckFailed');
  const passed = of('leap', 'integrityCheckPassed');
  assert.equal(failed.length, 1);
  assert.equal(passed.length, 1);
  assert.equal(integrity().length, 2, 'pps_count is not disturbed: the receiver still counts as its pulses do');
  const f = failed[0]!;
  assert.ok(f.type === 'integrityCheckFailed' && f.value === -1 && f.threshold === 1 && /did not insert/.test(f.detail), f.type === 'integrityCheckFailed' ? f.detail : '');
  assert.equal(secondsOf(f), K + 0.5, 'on the 00:00:00 label that came a second early');
  assert.ok(passed[0]!.type === 'integrityCheckPassed' && Math.abs(passed[0]!.durationS - 3600) < 1.5);
});

test('leap: the receiver inserts a leap second the table does not have: fails once (+1) on 23:59:60', () => {
  const { p, of, integrity } = setup({}, TABLE_WITHOUT);
  drive(p, K - 300, K + 300, { label: inserting });
  const failed = of('leap', 'integrityCheckFailed');
  assert.equal(failed.length, 1);
  assert.equal(integrity().length, 1);
  const f = failed[0]!;
  assert.ok(f.type === 'integrityCheckFailed' && f.value === 1 && /23:59:60/.test(f.detail) && /does not have/.test(f.detail));
  assert.equal(secondsOf(f), K + 0.5);
  assert.equal(p.snapshot(S(K + 300)).checks.leap.failing, true);
});

test('leap: without a table, or with an expired one, the check is not armed and says nothing', () => {
  const none = setup();
  drive(none.p, K - 100, K + 100, { label: inserting });
  assert.equal(none.p.snapshot(S(K + 100)).checks.leap.armed, false);
  assert.equal(none.integrity().length, 0);
  const expired = setup({}, { ...TABLE_WITHOUT, expires: M - DAY });
  drive(expired.p, K - 100, K + 100, { label: inserting });
  assert.equal(expired.p.snapshot(S(K + 100)).checks.leap.armed, false);
  assert.equal(expired.integrity().length, 0);
});
