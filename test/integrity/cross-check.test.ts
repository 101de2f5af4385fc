/**
 * The receiver against the upstream servers, in virtual time: the simulator's NTP servers answer on
 * the true clock, and the served clock's error is measured against the truth the simulated oscillator
 * knows. A spoofed receiver is refused because the servers agree among themselves; a server outside
 * the majority is named; with accept_jump: with_upstream a jump is believed only once they agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simConfig, virtualService } from '../helpers/virtual.ts';
import type { Config } from '../../src/config/config.ts';
import type { AgentEvent } from '../../src/status/events.ts';
import type { Status } from '../../src/status/status.ts';

const server = (offset_ms = 0) => ({ offset_ms, delay_ms: 20, jitter_ms: 1, stratum: 2, lost: 0 });

async function run(patch: (c: Config) => void, seconds: number, every?: (s: number, st: Status) => void) {
  const cfg = simConfig((c) => {
    c.discipline.leap_seconds_file = '';
    c.store.enabled = false;
    c.integrity.min_poll_s = 16;
    c.integrity.max_poll_s = 64;
    c.simulator.ntp_servers = [server(), server(), server()];
    patch(c);
  });
  const { clock, svc, events } = virtualService(cfg);
  await svc.start();
  const errs: number[] = [];
  const states: string[] = [];
  for (let s = 1; s <= seconds; s++) {
    clock.advance(1000);
    // The served clock is local - correction; the truth is local - phase: its error is phase - correction.
    errs.push(svc.oscillator!.phaseAt(clock.now()) - svc.discipline.correctionAt(svc.localClock.now()));
    const st = svc.status();
    states.push(st.discipline.state);
    every?.(s, st);
  }
  const last = svc.status();
  await svc.stop();
  return { events, errs, states, last };
}

const of = <T extends AgentEvent['type']>(events: AgentEvent[], type: T) => events.filter((e): e is Extract<AgentEvent, { type: T }> => e.type === type);
const alarmTrail = (events: AgentEvent[], name: string) => events.flatMap((e) =>
  (e.type === 'alarmRaised' || e.type === 'alarmCleared') && e.name === name ? [e.type] : []);
const upstreamChecks = (events: AgentEvent[]) => events.flatMap((e) =>
  (e.type === 'integrityCheckFailed' || e.type === 'integrityCheckPassed') && e.check === 'upstream' ? [e.type] : []);

test('a receiver spoofed +2 s is refused because the upstream servers agree among themselves; with_upstream never follows it', async () => {
  const r = await run((c) => {
    c.integrity.accept_jump = 'with_upstream';
    c.simulator.faults = [{ at_s: 120, kind: 'time_jump', duration_s: 300, value: 2 }];
  }, 480);
  const locked = r.states.indexOf('LOCKED');
  assert.ok(locked > 0 && locked < 120, `LOCKED at ${locked} s`);
  const worst = Math.max(...r.errs.slice(locked + 10).map(Math.abs));
  assert.ok(worst < 1e6, `the served clock was ${worst} ns off the truth`);
  assert.equal(of(r.events, 'clockStepped').length, 1, 'only the first phase set');
  assert.equal(of(r.events, 'timeJumpRefused').length, 1);
  assert.deepEqual(of(r.events, 'timeJumpEnded').map((e) => e.outcome), ['agreed']);
  assert.deepEqual(upstreamChecks(r.events), ['integrityCheckFailed', 'integrityCheckPassed']);
  const failed = of(r.events, 'integrityCheckFailed')[0]!;
  assert.ok(Math.abs(failed.value - 2) < 0.05, `the receiver was ${failed.value} s from the majority`);
  assert.deepEqual(alarmTrail(r.events, 'time_jump'), ['alarmRaised', 'alarmCleared']);
  assert.deepEqual(alarmTrail(r.events, 'gps_falseticker'), ['alarmRaised', 'alarmCleared']);
  assert.ok(r.states.slice(130, 415).every((s) => s === 'HOLDOVER'), 'HOLDOVER while refused');
  const u = r.last.integrity.upstream;
  assert.deepEqual(u.majority?.members, ['sim1', 'sim2', 'sim3']);
  assert.ok(u.servers.every((s) => s.state === 'majority' && s.reach > 0 && s.stratum === 2));
  assert.equal(r.last.discipline.state, 'LOCKED');
});

test('an upstream server 5 s off is named the falseticker, and the receiver is kept', async () => {
  const r = await run((c) => {
    c.simulator.ntp_servers = [server(0), server(5000), server(0)];
  }, 180);
  const u = r.last.integrity.upstream;
  assert.deepEqual(u.falsetickers, ['sim2']);
  assert.deepEqual(u.servers.map((s) => s.state), ['majority', 'falseticker', 'majority']);
  assert.ok(Math.abs(u.servers[1]!.offsetS! - 5) < 0.01, `sim2 offset ${u.servers[1]!.offsetS}`);
  assert.ok(Math.abs(u.receiverMinusMajorityS!) < 0.005, `receiver - majority ${u.receiverMinusMajorityS}`);
  assert.equal(upstreamChecks(r.events).length, 0);
  assert.equal(r.last.discipline.state, 'LOCKED');
  assert.equal(r.last.integrity.checks.find((c) => c.name === 'upstream')!.failing, false);
});

/** The receiver is 1 s ahead from the start while the servers cannot be reached: the clock locks to
 * the wrong second. The servers then answer and contradict it (it is refused), and at 400 s the
 * receiver corrects itself. */
const lateUpstream = (c: Config) => {
  c.simulator.faults = [
    { at_s: 0, kind: 'time_jump', duration_s: 400, value: 1 },
    { at_s: 0, kind: 'upstream_down', duration_s: 200, value: 0 },
  ];
};

test('with_upstream: a receiver wrong before the servers answered is refused once they do, and its correction is believed at once', async () => {
  const r = await run((c) => {
    c.integrity.accept_jump = 'with_upstream';
    lateUpstream(c);
  }, 470);
  // Locked on the wrong second first (1 s ahead of the truth: the error is -1 s, served - true = +1 s).
  assert.ok(Math.abs(Math.abs(r.errs[150]!) - 1e9) < 1e6, `at 150 s the served clock was ${r.errs[150]} ns off`);
  assert.deepEqual(upstreamChecks(r.events), ['integrityCheckFailed', 'integrityCheckPassed']);
  const failedAt = r.events.findIndex((e) => e.type === 'integrityCheckFailed');
  assert.ok(failedAt >= 0);
  assert.deepEqual(of(r.events, 'timeJumpEnded').map((e) => e.outcome), ['accepted']);
  const steps = of(r.events, 'clockStepped');
  assert.equal(steps.length, 2, 'the first phase set, then the correction');
  assert.ok(Math.abs(Math.abs(steps[1]!.stepNs) - 1e9) < 2e6, `stepped ${steps[1]!.stepNs} ns`);
  assert.ok(Math.abs(r.errs[r.errs.length - 1]!) < 1e6, `the served clock ends ${r.errs[r.errs.length - 1]} ns off`);
  assert.equal(r.last.discipline.state, 'LOCKED');
});

test('accept_jump: never keeps holding over in the same case: the correction is not believed while the clock vouches for itself', async () => {
  const r = await run(lateUpstream, 470);
  assert.equal(of(r.events, 'clockStepped').length, 1);
  assert.ok(Math.abs(Math.abs(r.errs[r.errs.length - 1]!) - 1e9) < 5e6, `the served clock ends ${r.errs[r.errs.length - 1]} ns off`);
  assert.notEqual(r.last.discipline.state, 'LOCKED');
  assert.equal(r.last.discipline.timeJumpRefused, true);
});

test('with_upstream: a 40 ms shift of the receiver\'s time, within what the servers can tell apart, is refused and never believed', async () => {
  const r = await run((c) => {
    c.integrity.accept_jump = 'with_upstream';
    c.simulator.faults = [{ at_s: 120, kind: 'pps_offset', duration_s: 300, value: 40 }];
  }, 480);
  // The gate sees a jump (40 ms is far outside the clock's microseconds); the servers agree with both
  // the old time and the new (their interval is tens of milliseconds wide): no reason to step.
  assert.equal(of(r.events, 'timeJumpRefused').length, 1);
  assert.equal(of(r.events, 'clockStepped').length, 1, 'never stepped to the shift');
  assert.deepEqual(of(r.events, 'timeJumpEnded').map((e) => e.outcome), ['agreed']);
  const worst = Math.max(...r.errs.slice(100).map(Math.abs));
  assert.ok(worst < 1e6, `the served clock was ${worst} ns off the truth`);
});
