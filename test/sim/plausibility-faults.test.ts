/**
 * The plausibility checks against the real simulator in virtual time: the simulated MTK3339's bytes go
 * through the GNSS monitor (epochs, sky views, labels) and its PPS edges straight in, as the integrity
 * part wires them. Each scripted fault is caught by its check, in the time the check's design says;
 * a clean simulated day (position noise, satellites setting, a midnight) raises nothing.
 * Starts are relative to the host's now, so the tests pass on any date.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimClock, NS_PER_S, floorDiv, type Nanos } from '../../src/time/index.ts';
import { Oscillator } from '../../src/sim/oscillator.ts';
import { GpsSimulator, type Fault } from '../../src/sim/gps-simulator.ts';
import { GnssMonitor } from '../../src/gnss/monitor.ts';
import { Plausibility, DEFAULT_PLAUSIBILITY, type PlausibilityOptions, type PlausibilityCheck } from '../../src/integrity/plausibility.ts';
import { defaultConfig } from '../../src/config/config.ts';
import type { LeapTable } from '../../src/discipline/leap.ts';
import type { AgentEvent } from '../../src/status/events.ts';
import { recentStart } from '../helpers/virtual.ts';

const DAY = 86_400n * NS_PER_S;

interface RunOptions {
  faults?: Fault[];
  seed?: number;
  start?: Nanos;
  /** The leap table the simulated receiver follows, and the one the checks are given. */
  simTable?: LeapTable;
  table?: LeapTable;
  options?: Partial<PlausibilityOptions>;
}

/** The simulator (config defaults), the GNSS monitor and the checks on one SimClock. */
function rig(o: RunOptions = {}) {
  const sc = defaultConfig().simulator;
  const start = o.start ?? recentStart(0);
  const seed = o.seed ?? sc.seed;
  const clock = new SimClock(start);
  const osc = new Oscillator({ initialOffsetNs: sc.initial_offset_ms * 1e6, frequencyPpm: sc.frequency_ppm, wanderPpbPerSqrtS: sc.wander_ppb_per_sqrt_s, seed }, start);
  const events: AgentEvent[] = [];
  const plaus = new Plausibility({ ...DEFAULT_PLAUSIBILITY, ...o.options }, o.table, (e) => events.push(e));
  const epochs: { used: number; t: Nanos }[] = [];
  const monitor: GnssMonitor = new GnssMonitor({ fixLostAfterS: 3, silenceAfterS: 3, externalAntenna: true, minValidDate: 0n }, () => {}, {
    output: (out, rx) => {
      if (out.kind === 'epoch') {
        plaus.onEpoch(out.epoch, rx);
        if (epochs.length < 4000) epochs.push({ used: out.epoch.satellitesUsed, t: rx });
      } else if (out.kind === 'sky') {
        plaus.onSky(monitor.receiver.state.satellites, rx);
      }
    },
    label: (utc, leap, fix, rx) => plaus.onLabel(utc, leap, fix, rx),
  });
  const sim = new GpsSimulator(clock, osc, {
    seed, ppsJitterNs: sc.pps_jitter_ns, nmeaDelayMs: sc.nmea_delay_ms, nmeaJitterMs: sc.nmea_jitter_ms,
    satellites: sc.satellites, latitude: sc.latitude, longitude: sc.longitude, altitudeM: sc.altitude_m,
    baud: 9600, faults: o.faults ?? [], leapTable: o.simTable,
  }, {
    bytes: (chunk, rx) => monitor.onBytes(chunk, rx),
    edge: (e) => plaus.onEdge(e.assert),
  });
  clock.setInterval(() => plaus.tick(osc.localAt(clock.now())), 1000);
  sim.start();
  const localStart = osc.localAt(start);
  const integrity = () => events.filter((e): e is Extract<AgentEvent, { type: 'integrityCheckFailed' | 'integrityCheckPassed' }> =>
    e.type === 'integrityCheckFailed' || e.type === 'integrityCheckPassed');
  const of = (check: PlausibilityCheck) => integrity().filter((e) => e.check === check);
  /** Seconds after the start, on the simulated local clock (off true time by under 2 s a day). */
  const at = (e: AgentEvent) => Math.round(Number(e.at - localStart) / 1e8) / 10;
  const runFor = (s: number) => clock.runUntil(start + BigInt(s) * NS_PER_S);
  return { clock, osc, plaus, monitor, sim, events, integrity, of, at, runFor, epochs, start, snapshot: () => plaus.snapshot(osc.localAt(clock.now())) };
}

const summary = (evs: AgentEvent[], at: (e: AgentEvent) => number) =>
  evs.map((e) => (e.type === 'integrityCheckFailed' || e.type === 'integrityCheckPassed' ? `${e.type.slice(14)} ${e.check} ${e.value.toFixed(1)} @${at(e)}` : e.type)).join('; ');

test('position_walk at 1 m/s: position fails once, after fence / speed plus noise; passes once when the walk ends', () => {
  const r = rig({ faults: [{ at_s: 900, kind: 'position_walk', duration_s: 300, value: 1 }] });
  r.runFor(1500);
  const seen = summary(r.integrity(), r.at);
  const pos = r.of('position');
  assert.equal(pos.length, 2, seen);
  assert.equal(r.integrity().length, 2, seen);
  const [f, p] = pos;
  assert.ok(f!.type === 'integrityCheckFailed' && f!.value > 100 && f!.value < 110 && f!.threshold === 100, seen);
  const detect = r.at(f!) - 900;
  // 100 m at 1 m/s, give or take the few metres of noise and the reference's own error.
  assert.ok(detect >= 88 && detect <= 112, `detected ${detect} s into the walk`);
  assert.ok(p!.type === 'integrityCheckPassed' && r.at(p!) >= 1200 && r.at(p!) <= 1203, seen);
  const s = r.snapshot();
  assert.ok(s.positionDistanceM! < 20, `${s.positionDistanceM} m after the walk`);
  assert.equal(s.checks.position.failures, 1);
  console.log(`# position_walk: failed ${detect.toFixed(1)} s into the walk at ${f!.value.toFixed(1)} m; passed ${(r.at(p!) - 1200).toFixed(1)} s after it ended`);
});

test('jamming of 15 dB: jamming fails once within 60 s, and passes once after it ends', () => {
  const r = rig({ faults: [{ at_s: 900, kind: 'jamming', duration_s: 300, value: 15 }] });
  r.runFor(900);
  const before = r.snapshot();
  const usedBefore = before.satellitesUsed!;
  r.runFor(1100);
  const during = r.snapshot();
  r.runFor(1500);
  const seen = summary(r.integrity(), r.at);
  const jam = r.of('jamming');
  assert.equal(jam.length, 2, seen);
  const [f, p] = jam;
  assert.ok(f!.type === 'integrityCheckFailed' && f!.value >= 10 && f!.threshold === 10, seen);
  const detect = r.at(f!) - 900;
  assert.ok(detect > 0 && detect <= 60, `detected ${detect} s into the jamming`);
  assert.ok(p!.type === 'integrityCheckPassed' && r.at(p!) > 1200 && r.at(p!) <= 1260, seen);
  // The weak satellites were lost: fewer used; the strongest fell by the full 15 dB.
  assert.ok(during.satellitesUsed! < usedBefore, `${during.satellitesUsed} used while jammed, ${usedBefore} before`);
  assert.ok(Math.abs(before.cn0MeanDb! - during.cn0MeanDb! - 15) < 1.5, `C/N0 ${before.cn0MeanDb} -> ${during.cn0MeanDb}`);
  assert.deepEqual([...new Set(r.integrity().map((e) => e.check))].filter((c) => c !== 'jamming' && c !== 'satellites'), [], seen);
  console.log(`# jamming 15 dB: failed ${detect.toFixed(1)} s in (drop ${f!.value.toFixed(1)} dB), passed ${(r.at(p!) - 1200).toFixed(1)} s after; ` +
    `satellites used ${usedBefore} -> ${during.satellitesUsed}; all events: ${seen}`);
});

test('satellites_drop to half: satellites fails once within seconds, and passes once when they return', () => {
  const probe = rig();
  probe.runFor(890);
  const used = probe.snapshot().satellitesUsed!;
  assert.ok(used >= 8, `${used} satellites used`);
  const half = Math.floor(used / 2);
  const r = rig({ faults: [{ at_s: 900, kind: 'satellites_drop', duration_s: 120, value: half }] });
  r.runFor(1500);
  const seen = summary(r.integrity(), r.at);
  const sat = r.of('satellites');
  assert.equal(r.integrity().length, 2, seen);
  assert.equal(sat.length, 2, seen);
  const [f, p] = sat;
  assert.ok(f!.type === 'integrityCheckFailed' && f!.value === half, seen);
  const detect = r.at(f!) - 900;
  assert.ok(detect > 0 && detect <= 8, `detected ${detect} s into the drop`);
  assert.ok(p!.type === 'integrityCheckPassed' && r.at(p!) >= 1020 && r.at(p!) <= 1023, seen);
  console.log(`# satellites_drop ${used} -> ${half}: failed ${detect.toFixed(1)} s in, passed ${(r.at(p!) - 1020).toFixed(1)} s after the return`);
});

test('a receiver 1 s off its pulses for 30 s: pps_count fails once within 4 s, passes once within 5 s of its return; a one-off wrong label raises nothing', () => {
  const r = rig({ faults: [{ at_s: 300, kind: 'time_jump', duration_s: 30, value: 1 }, { at_s: 600, kind: 'time_jump', duration_s: 1, value: 1 }] });
  r.runFor(900);
  const seen = summary(r.integrity(), r.at);
  const pc = r.of('pps_count');
  assert.equal(r.integrity().length, 2, seen);
  const [f, p] = pc;
  assert.ok(f!.type === 'integrityCheckFailed' && f!.value === 1, seen);
  assert.ok(r.at(f!) - 300 <= 4, seen);
  assert.ok(p!.type === 'integrityCheckPassed' && p!.value === 0 && r.at(p!) - 330 <= 5, seen);
  console.log(`# time_jump +1 s for 30 s: pps_count ${seen}`);
});

/** A leap-seconds table with (or without) an insertion at `m`, valid well past it. */
const leapTable = (m: Nanos, insert: boolean): LeapTable => ({
  entries: [{ at: m - 3000n * DAY, taiUtc: 37 }, ...(insert ? [{ at: m, taiUtc: 38 }] : [])], expires: m + 180n * DAY,
});

test('a leap second at the next midnight: agreed, nothing; receiver without the table\'s, -1; receiver with one the table lacks, +1', () => {
  const nowS = BigInt(Math.floor(Date.now() / 1000));
  const midnight = floorDiv(nowS * NS_PER_S, DAY) * DAY + DAY; // the next midnight UTC after now
  const start = midnight - 600n * NS_PER_S + 250_000_000n;
  const cases = [
    { name: 'agreed', simTable: leapTable(midnight, true), table: leapTable(midnight, true), expect: [] as number[] },
    { name: 'receiver missed it', simTable: leapTable(midnight, false), table: leapTable(midnight, true), expect: [-1] },
    { name: 'table lacks it', simTable: leapTable(midnight, true), table: leapTable(midnight, false), expect: [1] },
  ];
  for (const c of cases) {
    const r = rig({ start, simTable: c.simTable, table: c.table });
    r.runFor(1200);
    const seen = summary(r.integrity(), r.at);
    assert.deepEqual(r.integrity().map((e) => `${e.type}:${e.check}:${e.value}`), c.expect.map((v) => `integrityCheckFailed:leap:${v}`), `${c.name}: ${seen}`);
    for (const e of r.integrity()) assert.ok(Math.abs(r.at(e) - 600) <= 2, `${c.name}: ${seen}`);
    assert.equal(r.snapshot().checks.leap.armed, true);
    console.log(`# leap, ${c.name}: ${seen || 'no events'}`);
  }
});

test('a clean simulated day (noise, satellites setting, a midnight, default options, a leap table): no failure at all', () => {
  const start = recentStart(0);
  const r = rig({ start, table: leapTable(start - 100n * DAY, true) });
  const t0 = performance.now();
  r.runFor(86_400);
  const wall = performance.now() - t0;
  const seen = summary(r.integrity(), r.at);
  assert.equal(r.integrity().length, 0, seen);
  const s = r.snapshot();
  for (const [name, c] of Object.entries(s.checks)) assert.equal(c.armed, true, `${name} armed`);
  assert.ok(s.referencePosition!.samples > 80_000);
  console.log(`# clean day: ${(wall / 1000).toFixed(1)} s wall; satellites used ${r.epochs[900]!.used} -> ${s.satellitesUsed} ` +
    `(baseline ${s.satellitesBaseline!.toFixed(1)}); C/N0 ${s.cn0MeanDb!.toFixed(1)} vs baseline ${s.cn0BaselineDb!.toFixed(1)}; ` +
    `distance ${s.positionDistanceM!.toFixed(1)} m; label-PPS offset ${s.labelPpsOffsetS}`);
});
