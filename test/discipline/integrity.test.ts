/**
 * The integrity gate, in virtual time on the simulator: a receiver whose labels jump (one second, one
 * hour, one day, 1024 weeks) while the clock is LOCKED is refused, once announced and once ended, with
 * one alarm raise and clear; the served clock never follows it, measured against the truth the
 * simulated oscillator knows. With `accept_jump: after` a jump that persists is believed, and the
 * clock steps to it, saying by how much.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simConfig, virtualService } from '../helpers/virtual.ts';
import type { Config } from '../../src/config/config.ts';
import type { AgentEvent } from '../../src/status/events.ts';

const JUMP_AT_S = 120;
const JUMP_FOR_S = 300;

/** Runs the agent for `seconds`, sampling the served clock's true error once a second after lock. */
async function run(patch: (c: Config) => void, seconds: number) {
  const cfg = simConfig((c) => {
    c.discipline.leap_seconds_file = '';
    c.store.enabled = false;
    patch(c);
  });
  const { clock, svc, events } = virtualService(cfg);
  await svc.start();
  const errs: { s: number; errNs: number }[] = [];
  const states: string[] = [];
  for (let s = 1; s <= seconds; s++) {
    clock.advance(1000);
    const local = svc.localClock.now();
    // The served clock is local - correction; the truth is local - phase: its error is phase - correction.
    errs.push({ s, errNs: svc.oscillator!.phaseAt(clock.now()) - svc.discipline.correctionAt(local) });
    states.push(svc.status().discipline.state);
  }
  const last = svc.status();
  await svc.stop();
  return { events, errs, states, last };
}

const of = (events: AgentEvent[], type: AgentEvent['type']) => events.filter((e) => e.type === type);
const alarms = (events: AgentEvent[]) => events.flatMap((e) =>
  (e.type === 'alarmRaised' || e.type === 'alarmCleared') && e.name === 'time_jump' ? [e.type] : []);

for (const [what, jumpS] of [['one second', 1], ['one hour', 3600], ['one day', 86_400], ['1024 weeks', 1024 * 7 * 86_400]] as const) {
  test(`a jump of ${what} for ${JUMP_FOR_S} s while LOCKED is refused once, alarmed once, and never followed`, async () => {
    const r = await run((c) => {
      c.simulator.faults = [{ at_s: JUMP_AT_S, kind: 'time_jump', duration_s: JUMP_FOR_S, value: jumpS }];
    }, JUMP_AT_S + JUMP_FOR_S + 60);
    const locked = r.states.indexOf('LOCKED');
    assert.ok(locked > 0 && locked < JUMP_AT_S, `LOCKED at ${locked} s`);
    // The served clock stays on true time throughout, within a millisecond (it is microseconds here).
    const worst = Math.max(...r.errs.filter((x) => x.s > locked + 10).map((x) => Math.abs(x.errNs)));
    assert.ok(worst < 1e6, `the served clock was ${worst} ns off the truth`);
    assert.equal(of(r.events, 'clockStepped').length, 1, 'only the first phase set at start');
    const refused = of(r.events, 'timeJumpRefused');
    assert.equal(refused.length, 1);
    assert.ok(refused[0]!.type === 'timeJumpRefused' && Math.abs(refused[0]!.jumpNs / 1e9 - jumpS) < 0.01, `refused ${JSON.stringify(refused[0], (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
    const ended = of(r.events, 'timeJumpEnded');
    assert.deepEqual(ended.map((e) => e.type === 'timeJumpEnded' && e.outcome), ['agreed']);
    assert.deepEqual(alarms(r.events), ['alarmRaised', 'alarmCleared']);
    // Held over while refusing, locked again once the receiver agreed.
    assert.ok(r.states.slice(JUMP_AT_S + 10, JUMP_AT_S + JUMP_FOR_S - 5).every((s) => s === 'HOLDOVER'), 'HOLDOVER during the jump');
    assert.equal(r.last.discipline.state, 'LOCKED');
    assert.equal(r.last.discipline.timeJumpRefused, false);
    assert.ok(r.last.discipline.samplesRefused >= JUMP_FOR_S - 5, `${r.last.discipline.samplesRefused} samples refused`);
  });
}

test('accept_jump: after 60 s, a persistent jump of +1 s is believed: the clock steps by it, once, and follows', async () => {
  const r = await run((c) => {
    c.integrity.accept_jump = 'after';
    c.integrity.accept_after_s = 60;
    c.simulator.faults = [{ at_s: JUMP_AT_S, kind: 'time_jump', duration_s: 100_000, value: 1 }];
  }, JUMP_AT_S + 240);
  const steps = of(r.events, 'clockStepped');
  assert.equal(steps.length, 2, 'the first phase set, then the accepted jump');
  const step = steps[1]!;
  assert.ok(step.type === 'clockStepped' && Math.abs(Math.abs(step.stepNs) - 1e9) < 1e6, `stepped ${step.type === 'clockStepped' ? step.stepNs : ''} ns`);
  assert.deepEqual(of(r.events, 'timeJumpEnded').map((e) => e.type === 'timeJumpEnded' && e.outcome), ['accepted']);
  assert.deepEqual(alarms(r.events), ['alarmRaised', 'alarmCleared']);
  // Now serving the receiver's time: one second ahead of the truth.
  const end = r.errs.at(-1)!;
  assert.ok(Math.abs(Math.abs(end.errNs) - 1e9) < 1e6, `the served clock is ${end.errNs} ns off the truth`);
  assert.equal(r.last.discipline.state, 'LOCKED');
});
