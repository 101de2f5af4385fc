/**
 * The discipline's states, events and quality figures, driven by simulator faults in virtual time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simConfig, virtualService, secondsAfterStart } from '../helpers/virtual.ts';
import { SimClock, fromDate, NS_PER_S, toIso } from '../../src/time/index.ts';
import { Logger } from '../../src/log.ts';
import { Service } from '../../src/service.ts';
import type { Config } from '../../src/config/config.ts';
import type { AgentEvent } from '../../src/status/events.ts';
import { INVENTED_INSERTION } from './fixtures.ts';

const states = (events: AgentEvent[]) =>
  events.filter((e) => e.type === 'lockStateChanged').map((e) => (e.type === 'lockStateChanged' ? `${e.to}@${Math.floor(secondsAfterStart(e))}` : ''));
const count = (events: AgentEvent[], type: string) => events.filter((e) => e.type === type).length;

function tmpState(patch: (c: Config) => void = () => {}) {
  const dir = mkdtempSync(join(tmpdir(), 'disc-'));
  return {
    dir,
    cfg: simConfig((c) => {
      c.agent.state_dir = dir;
      c.discipline.leap_seconds_file = '';
      patch(c);
    }),
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

test('cold start: FREERUN, ACQUIRING, LOCKED within 60 s, one step; quality figures follow the state', async () => {
  const t = tmpState();
  const { clock, svc, events } = virtualService(t.cfg);
  await svc.start();
  let d = svc.status().discipline;
  assert.deepEqual([d.state, d.stratum, d.leapIndicator, d.ptpClockClass, d.ptpClockAccuracy], ['FREERUN', 16, 3, 248, 0xfe]);
  clock.advance(60_000);
  d = svc.status().discipline;
  await svc.stop();
  t.done();
  const s = states(events);
  assert.equal(s.length, 2, s.join(' '));
  assert.match(s[0]!, /^ACQUIRING@\d$/);
  const lockedAt = Number(s[1]!.split('@')[1]);
  assert.ok(s[1]!.startsWith('LOCKED') && lockedAt < 60, s.join(' '));
  assert.equal(count(events, 'clockStepped'), 1);
  assert.deepEqual([d.state, d.stratum, d.leapIndicator, d.refId, d.ptpClockClass], ['LOCKED', 1, 0, 'GPS', 6]);
  // Accuracy claimed: the clock's own error estimate plus 25 us of software time stamping: 100 us class.
  assert.equal(d.ptpClockAccuracy, 0x27);
  assert.ok(d.timeErrorEstimateNs! < 3000, `error estimate ${d.timeErrorEstimateNs} ns`);
  assert.ok(Math.abs(d.frequencyPpb! - 20_000) < 500, `frequency ${d.frequencyPpb} ppb`);
  assert.ok(Math.abs(d.localOffsetNs! - 200e6) < 3e6, `local oscillator offset ${d.localOffsetNs} ns`);
  assert.ok(d.offsetNs !== null && Math.abs(d.offsetNs) < 3000, `served clock offset ${d.offsetNs} ns`);
  assert.ok(d.nmeaDelayMs! > 500 && d.nmeaDelayMs! < 650, `NMEA delay ${d.nmeaDelayMs} ms`);
  assert.ok(Math.abs(d.rootDispersionS - (d.timeErrorEstimateNs! + 25_000) / 1e9) < 1e-9);
});

test('fix lost for 25 minutes: HOLDOVER (class 7, stratum 1), budget spent: FREERUN (class 52, LI 3), back to LOCKED without a step', async () => {
  const t = tmpState((c) => { c.simulator.faults = [{ at_s: 300, kind: 'antenna_unplugged', duration_s: 1500, value: 0 }]; });
  const { clock, svc, events } = virtualService(t.cfg);
  await svc.start();
  clock.advance(400_000);
  let d = svc.status().discipline;
  assert.deepEqual([d.state, d.stratum, d.leapIndicator, d.ptpClockClass], ['HOLDOVER', 1, 0, 7]);
  assert.ok(d.holdoverElapsedS! > 90 && d.holdoverElapsedS! < 100);
  clock.advance(1300_000); // 1700 s: the estimate passed 100 us
  d = svc.status().discipline;
  assert.deepEqual([d.state, d.stratum, d.leapIndicator, d.ptpClockClass], ['FREERUN', 16, 3, 52]);
  clock.advance(200_000);
  d = svc.status().discipline;
  await svc.stop();
  t.done();
  const s = states(events).map((x) => x.split('@')[0]);
  assert.deepEqual(s, ['ACQUIRING', 'LOCKED', 'HOLDOVER', 'FREERUN', 'ACQUIRING', 'LOCKED']);
  const ho = states(events)[2]!;
  assert.ok(Number(ho.split('@')[1]) >= 300 && Number(ho.split('@')[1]) <= 306, `holdover at ${ho}`);
  assert.equal(count(events, 'holdoverEntered'), 1);
  assert.equal(count(events, 'holdoverExited'), 1);
  assert.equal(count(events, 'clockStepped'), 1, 'only the first lock steps');
  assert.equal(d.state, 'LOCKED');
});

test('PPS lost for 30 s: HOLDOVER and back, once each, stratum 1 throughout, no step', async () => {
  const t = tmpState((c) => { c.simulator.faults = [{ at_s: 200, kind: 'pps_lost', duration_s: 30, value: 0 }]; });
  const { clock, svc, events } = virtualService(t.cfg);
  await svc.start();
  const strata = new Set<number>();
  for (let i = 0; i < 300; i++) {
    clock.advance(1000);
    if (i > 100) strata.add(svc.status().discipline.stratum);
  }
  await svc.stop();
  t.done();
  assert.deepEqual(states(events).map((x) => x.split('@')[0]), ['ACQUIRING', 'LOCKED', 'HOLDOVER', 'LOCKED']);
  assert.deepEqual([...strata], [1]);
  assert.equal(count(events, 'holdoverEntered'), 1);
  assert.equal(count(events, 'holdoverExited'), 1);
  assert.equal(count(events, 'clockStepped'), 1);
});

test('one wrong second label: rejected and counted, no state change, no step', async () => {
  const t = tmpState((c) => { c.simulator.faults = [{ at_s: 120, kind: 'time_jump', duration_s: 1, value: 1 }]; });
  const { clock, svc, events } = virtualService(t.cfg);
  await svc.start();
  clock.advance(200_000);
  const d = svc.status().discipline;
  await svc.stop();
  t.done();
  assert.deepEqual(states(events).map((x) => x.split('@')[0]), ['ACQUIRING', 'LOCKED']);
  assert.ok((d.labelsRejected.contradiction ?? 0) >= 1, JSON.stringify(d.labelsRejected));
  assert.equal(count(events, 'clockStepped'), 1);
  assert.ok(d.timeErrorEstimateNs! < 3000);
});

test('a receiver 1 s off for a minute: HOLDOVER while it is wrong, LOCKED after, the clock never follows it', async () => {
  const t = tmpState((c) => { c.simulator.faults = [{ at_s: 120, kind: 'time_jump', duration_s: 60, value: 1 }]; });
  const { clock, svc, events } = virtualService(t.cfg);
  await svc.start();
  let maxCorrectionJump = 0;
  let prev = svc.discipline.correctionAt(svc.localClock.now());
  for (let i = 0; i < 300; i++) {
    clock.advance(1000);
    const c = svc.discipline.correctionAt(svc.localClock.now());
    if (i > 60) maxCorrectionJump = Math.max(maxCorrectionJump, Math.abs(c - prev - 20_000));
    prev = c;
  }
  const d = svc.status().discipline;
  await svc.stop();
  t.done();
  assert.deepEqual(states(events).map((x) => x.split('@')[0]), ['ACQUIRING', 'LOCKED', 'HOLDOVER', 'LOCKED']);
  assert.equal(count(events, 'clockStepped'), 1);
  assert.ok(maxCorrectionJump < 5_000, `the correction moved ${maxCorrectionJump} ns in a second beyond the frequency`);
  // The wrong seconds are refused by the integrity gate (before the servo could count them as
  // outliers and, after enough of them, believe them): one refusal, ended when the receiver agreed.
  assert.ok(d.samplesRefused > 30, `${d.samplesRefused} samples refused`);
  assert.equal(count(events, 'timeJumpRefused'), 1);
  const ended = events.filter((e) => e.type === 'timeJumpEnded');
  assert.deepEqual(ended.map((e) => e.type === 'timeJumpEnded' && [e.outcome, Math.round(e.jumpNs / 1e9)]), [['agreed', 1]]);
  assert.ok(events.some((e) => e.type === 'timeJump'));
});

test('a leap second: announced on its last day, 23:59:60 paired, the clock repeats a second, TAI-UTC steps, LOCKED throughout', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'leap-'));
  const leapFile = join(dir, 'leap-seconds.list');
  writeFileSync(leapFile, INVENTED_INSERTION);
  const cfg = simConfig((c) => {
    c.agent.state_dir = dir;
    c.discipline.leap_seconds_file = leapFile;
  });
  const start = fromDate(new Date('2026-11-25T23:55:00.250Z'));
  const clock = new SimClock(start);
  const svc = new Service(cfg, { clock, simulate: true, log: new Logger(clock, { level: 'error', repeatPerMinute: 1 }, { write: () => {} }), listen: false });
  const events: AgentEvent[] = [];
  svc.bus.onAny((e) => events.push(e));
  const labels: string[] = [];
  svc.timing.observe({ label: (utc, leap) => { labels.push(leap ? '60' : toIso(utc).slice(17, 19)); } });
  await svc.start();
  clock.runUntil(start + 290n * NS_PER_S);
  let d = svc.status().discipline;
  assert.deepEqual([d.state, d.leapIndicator, d.taiUtcS], ['LOCKED', 1, 37]);
  // The disciplined clock around the leap (P = 2026-11-26T00:00:00Z; the true clock is continuous).
  const P = fromDate(new Date('2026-11-26T00:00:00Z'));
  const readAt = (trueT: bigint) => {
    clock.runUntil(trueT);
    return toIso(svc.disciplinedClock.now(), 1);
  };
  assert.equal(readAt(P - 500_000_000n), '2026-11-25T23:59:59.5Z');
  assert.equal(readAt(P + 500_000_000n), '2026-11-25T23:59:59.5Z'); // the inserted second: 23:59:59 again, as Linux does
  assert.equal(readAt(P + 1_500_000_000n), '2026-11-26T00:00:00.5Z');
  clock.runUntil(P + 120n * NS_PER_S);
  d = svc.status().discipline;
  await svc.stop();
  rmSync(dir, { recursive: true, force: true });
  assert.deepEqual([d.state, d.leapIndicator, d.taiUtcS], ['LOCKED', 0, 38]);
  assert.equal(count(events, 'leapSecondAnnounced'), 1);
  assert.deepEqual(states(events).map((x) => x.split('@')[0]), ['ACQUIRING', 'LOCKED']);
  assert.equal(count(events, 'clockStepped'), 1);
  assert.equal(d.labelsRejected.contradiction ?? 0, 0);
  assert.ok(labels.join(' ').includes('58 59 60 00 01'), 'the receiver labelled 23:59:60');
  assert.ok(!events.some((e) => e.type === 'timeJump'), 'a leap second is not a time jump');
});

test('restart with the saved frequency locks faster; a corrupt file is a warning, not a failure', async () => {
  const t = tmpState();
  const first = virtualService(t.cfg);
  await first.svc.start();
  first.clock.advance(600_000);
  const freq = first.svc.oscillator!.frequencyPpm;
  const phaseMs = first.svc.oscillator!.phaseAt(first.clock.now()) / 1e6;
  await first.svc.stop();
  const file = join(t.dir, 'frequency.json');
  assert.ok(existsSync(file));
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { freqPpb: number };
  assert.ok(Math.abs(saved.freqPpb - freq * 1000) < 100, `saved ${saved.freqPpb} ppb, oscillator ${freq * 1000}`);
  const lockTime = async (stateDir: string) => {
    const cfg = simConfig((c) => {
      c.agent.state_dir = stateDir;
      c.discipline.leap_seconds_file = '';
      c.simulator.frequency_ppm = freq;
      c.simulator.initial_offset_ms = phaseMs;
      c.simulator.seed = 9;
    });
    const r = virtualService(cfg);
    await r.svc.start();
    r.clock.advance(120_000);
    await r.svc.stop();
    const locked = r.events.find((e) => e.type === 'lockStateChanged' && e.to === 'LOCKED');
    return { at: locked ? secondsAfterStart(locked) : Infinity, logs: r.logLines };
  };
  const warm = await lockTime(t.dir);
  const coldDir = mkdtempSync(join(tmpdir(), 'disc-cold-'));
  writeFileSync(join(coldDir, 'frequency.json'), '{"freqPpb": "fast"');
  const cold = await lockTime(coldDir);
  rmSync(coldDir, { recursive: true, force: true });
  t.done();
  assert.ok(warm.at + 5 < cold.at, `LOCKED after ${warm.at} s with the saved frequency, ${cold.at} s without`);
  assert.ok(cold.logs.some((l) => l.includes('frequency file ignored') && l.includes('corrupt')), 'the corrupt file is reported');
});
