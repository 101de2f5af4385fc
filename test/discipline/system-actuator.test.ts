/**
 * The system-clock actuator in virtual time: the agent, on the simulator, steers a model of the kernel
 * clock (kernel.ts) through the same adjtimex calls it makes on a real kernel, and serves that clock.
 * The truth is the simulator's true clock. Nothing here touches the host's clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimClock, NS_PER_S, fromDate, toIso } from '../../src/time/index.ts';
import { Logger } from '../../src/log.ts';
import { Service } from '../../src/service.ts';
import type { Config } from '../../src/config/config.ts';
import { ActuatorStartError } from '../../src/discipline/system-actuator.ts';
import { STA_UNSYNC, STA_INS, ADJ_SETOFFSET, ADJ_FREQUENCY, ADJ_STATUS, ADJ_OFFSET, type KernelClockModel, type TimexIn } from '../../src/discipline/kernel.ts';
import { simConfig, virtualService } from '../helpers/virtual.ts';
import { formatStatus } from '../../src/cli/main.ts';
import { INVENTED_INSERTION } from './fixtures.ts';

function systemConfig(patch: (c: Config) => void = () => {}): Config {
  return simConfig((c) => {
    c.discipline.leap_seconds_file = '';
    c.discipline.actuator = 'system';
    Object.assign(c.simulator, { initial_offset_ms: 200, frequency_ppm: 20, wander_ppb_per_sqrt_s: 2, pps_jitter_ns: 1000 });
    patch(c);
  });
}

/** Every call the actuator makes to the kernel model (the model itself keeps only the latest). */
function recordCalls(k: KernelClockModel): TimexIn[] {
  const calls: TimexIn[] = [];
  const orig = k.adjtime.bind(k);
  k.adjtime = (tx: TimexIn) => {
    if (tx.modes !== 0) calls.push({ ...tx });
    return orig(tx);
  };
  return calls;
}

const rms = (xs: number[]) => Math.sqrt(xs.reduce((a, b) => a + b * b, 0) / xs.length);

test('cold start with the actuator: one kernel step of about 200 ms, then frequency steering only; the served clock is the kernel clock, and within 1 us RMS of the truth', async () => {
  const cfg = systemConfig();
  const { clock, svc } = virtualService(cfg);
  const k = svc.kernelModel!;
  assert.ok(k, 'the simulator runs a kernel clock model for the actuator');
  const calls = recordCalls(k);
  await svc.start();
  const start = clock.now();
  // Unsynchronised until LOCKED: the kernel hears so before the first sample.
  clock.advance(1000);
  assert.ok((k.adjtime({ modes: 0 }).status & STA_UNSYNC) !== 0, 'STA_UNSYNC before lock');
  let lockedAt: bigint | undefined;
  svc.bus.on('lockStateChanged', (e) => { if (e.to === 'LOCKED') lockedAt ??= clock.now(); });
  clock.advance(120_000);
  assert.ok(lockedAt !== undefined, 'LOCKED within two minutes');
  const errs: number[] = [];
  const unsynced: number[] = [];
  for (let s = 0; s < 1800; s++) {
    clock.advance(1000);
    if (clock.now() - lockedAt! < 600n * NS_PER_S) continue;
    errs.push(Number(svc.localClock.now() - clock.now()));
    if (k.adjtime({ modes: 0 }).status & STA_UNSYNC) unsynced.push(s);
  }
  const st = svc.status();
  await svc.stop();
  const steps = calls.filter((c) => c.modes & ADJ_SETOFFSET);
  assert.equal(steps.length, 1, `one step: ${steps.map((c) => c.setOffsetNs).join(', ')}`);
  assert.ok(Math.abs(steps[0]!.setOffsetNs! + 200e6) < 1e6, `the step removed the 200 ms: ${steps[0]!.setOffsetNs} ns`);
  assert.ok(calls.some((c) => c.modes & ADJ_FREQUENCY), 'the frequency was steered');
  assert.ok(!calls.some((c) => c.modes & ADJ_OFFSET), 'the kernel PLL was never used');
  assert.equal(unsynced.length, 0, `STA_UNSYNC clear while LOCKED (set at ${unsynced.slice(0, 5).join(', ')})`);
  const r = rms(errs);
  assert.ok(r < 1000, `kernel clock error RMS ${r.toFixed(0)} ns over ${errs.length} s`);
  assert.equal(st.discipline.actuator, 'system');
  // The RMS of the served clock's offsets at the last 64 samples: the PPS's 1 us jitter, not the 200 ms.
  assert.ok(st.discipline.rmsOffsetNs! > 300 && st.discipline.rmsOffsetNs! < 3000, `RMS offset ${st.discipline.rmsOffsetNs} ns`);
  assert.equal(st.discipline.servedClock, 'kernel');
  assert.equal(svc.disciplinedClock.now(), svc.localClock.now(), 'NTP and PTP serve the kernel clock as it is');
  const kern = st.discipline.kernel!;
  assert.ok(Math.abs(kern.kernelFreqPpb + 20_000) < 500, `the kernel runs 20 ppm slow to cancel the oscillator: ${kern.kernelFreqPpb} ppb`);
  assert.ok(kern.maxerrorUs >= 1 && kern.maxerrorUs <= 100, `maxerror from the error estimate: ${kern.maxerrorUs} us`);
  assert.equal(kern.steps, 1, 'Status counts the step');
  assert.match(formatStatus(st), /System clock +: steered by this agent \(served as it is\): frequency -\d+\.\d{3} ppm, TIME_OK, synchronised, maxerror \d+ us, -?\d+\.\d{3} us left to steer, 1 step, 0 leap seconds\n/,
    'stratum1 status says the agent steers the kernel clock');
  assert.ok(Number(clock.now() - start) > 0, 'time passed');
});

test('holdover keeps STA_UNSYNC clear and the learned frequency; once the budget is spent (FREERUN) the kernel is told it is unsynchronised', async () => {
  const cfg = systemConfig((c) => {
    c.discipline.holdover_budget_us = 20;
    c.simulator.faults = [{ at_s: 900, kind: 'pps_lost', duration_s: 100_000, value: 0 }];
  });
  const { clock, svc } = virtualService(cfg);
  const k = svc.kernelModel!;
  await svc.start();
  const seen: { state: string; unsync: boolean; kernelPpb: number; servoPpb: number | null; holdS: number | null }[] = [];
  for (let s = 0; s < 3000; s++) {
    clock.advance(1000);
    const out = k.adjtime({ modes: 0 });
    const d = svc.status().discipline;
    seen.push({ state: d.state, unsync: (out.status & STA_UNSYNC) !== 0, kernelPpb: out.freq / 65.536, servoPpb: d.frequencyPpb, holdS: d.holdoverElapsedS });
  }
  await svc.stop();
  const hold = seen.filter((x) => x.state === 'HOLDOVER');
  const free = seen.filter((x, i) => x.state === 'FREERUN' && i > 900);
  assert.ok(hold.length > 10, `a holdover was seen (${hold.length} s)`);
  assert.ok(free.length > 10, `then FREERUN (${free.length} s)`);
  assert.ok(hold.every((x) => !x.unsync), 'STA_UNSYNC clear through holdover within budget');
  assert.ok(free.every((x) => x.unsync), 'STA_UNSYNC set once the budget is spent');
  // In holdover the kernel runs at the frequency the servo learned (the oscillator's, cancelled), once
  // the last sample's slew (two seconds) is done.
  const settled = hold.filter((x) => (x.holdS ?? 0) > 5);
  const worst = Math.max(...settled.map((x) => Math.abs(x.kernelPpb + x.servoPpb!)));
  assert.ok(settled.length > 0 && worst < 1, `the kernel frequency is minus the learned frequency through the holdover (within ${worst.toFixed(3)} ppb)`);
});

test('a leap second with the actuator: STA_INS on the last day, the kernel inserts it (23:59:59 twice), no step of ours, and the clock stays within microseconds of UTC', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'act-leap-'));
  const leapFile = join(dir, 'leap-seconds.list');
  writeFileSync(leapFile, INVENTED_INSERTION);
  const cfg = systemConfig((c) => {
    c.agent.state_dir = dir;
    c.discipline.leap_seconds_file = leapFile;
  });
  const start = fromDate(new Date('2026-11-25T23:50:00.250Z'));
  const clock = new SimClock(start);
  const svc = new Service(cfg, { clock, simulate: true, log: new Logger(clock, { level: 'error', repeatPerMinute: 1 }, { write: () => {} }), listen: false });
  const k = svc.kernelModel!;
  await svc.start();
  const P = fromDate(new Date('2026-11-26T00:00:00Z'));
  // The true clock of the simulator is continuous; P on it is the start of 23:59:60.
  clock.runUntil(P - 30n * NS_PER_S);
  assert.equal(svc.status().discipline.state, 'LOCKED', 'locked before the leap');
  assert.ok((k.adjtime({ modes: 0 }).status & STA_INS) !== 0, 'STA_INS armed on the leap day');
  // The kernel clock at true time t, rounded to the millisecond (it is within microseconds).
  const readAt = (t: bigint) => {
    clock.runUntil(t);
    return toIso((svc.localClock.now() + 500_000n) / 1_000_000n * 1_000_000n, 3);
  };
  assert.equal(readAt(P - 500_000_000n), '2026-11-25T23:59:59.500Z');
  assert.equal(readAt(P + 500_000_000n), '2026-11-25T23:59:59.500Z', 'the inserted second reads 23:59:59 again, on the kernel clock');
  assert.equal(readAt(P + 1_500_000_000n), '2026-11-26T00:00:00.500Z');
  clock.runUntil(P + 600n * NS_PER_S);
  const errs: number[] = [];
  for (let s = 0; s < 300; s++) {
    clock.advance(1000);
    // UTC is the true clock less the inserted second.
    errs.push(Number(svc.localClock.now() - (clock.now() - NS_PER_S)));
  }
  const st = svc.status();
  await svc.stop();
  rmSync(dir, { recursive: true, force: true });
  const kern = st.discipline.kernel!;
  assert.equal(kern.leapSeconds, 1, 'the actuator booked the kernel\'s insertion');
  assert.equal(kern.steps, 1, 'and made no step of its own for it (only the first one)');
  assert.ok((k.adjtime({ modes: 0 }).status & STA_INS) === 0, 'STA_INS cleared after the leap');
  assert.equal(st.discipline.state, 'LOCKED', 'LOCKED throughout');
  const worst = Math.max(...errs.map(Math.abs));
  assert.ok(worst < 5000, `within 5 us of UTC after the leap: worst ${worst} ns`);
});

test('EPERM from the kernel is a clear refusal at start (ActuatorStartError naming CAP_SYS_TIME), not a crash', async () => {
  const { svc } = virtualService(systemConfig());
  svc.kernelModel!.permitted = false;
  await assert.rejects(svc.start(), (e: unknown) => e instanceof ActuatorStartError && /CAP_SYS_TIME/.test((e as Error).message));
  await svc.stop();
});

test('another time daemon steering the clock: the actuator refuses to start, naming it', async () => {
  const proc = mkdtempSync(join(tmpdir(), 'proc-'));
  mkdirSync(join(proc, '4242'));
  writeFileSync(join(proc, '4242', 'comm'), 'chronyd\n');
  writeFileSync(join(proc, '4242', 'cmdline'), 'chronyd\x00-F\x001\x00');
  const clock = new SimClock(fromDate(new Date('2026-05-10T12:00:00Z')));
  const svc = new Service(systemConfig(), { clock, simulate: true, log: new Logger(clock, { level: 'error', repeatPerMinute: 1 }, { write: () => {} }), listen: false, procRoot: proc });
  await assert.rejects(svc.start(), (e: unknown) => e instanceof ActuatorStartError && /chronyd \(pid 4242\)/.test((e as Error).message));
  const calls = svc.kernelModel!.calls.filter((c) => c.tx.modes & ADJ_STATUS);
  assert.equal(calls.length, 0, 'the kernel clock was not touched');
  await svc.stop();
  rmSync(proc, { recursive: true, force: true });
});
