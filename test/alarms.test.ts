import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlarmEngine, type AlarmRule } from '../src/alarms/engine.ts';
import { NS_PER_S } from '../src/time/index.ts';
import { formatAlarm } from '../src/cli/history.ts';

const rule = (over: Partial<AlarmRule> = {}): AlarmRule => ({
  name: 'timeError', metric: 'err', comparison: 'above', warning: 10, critical: 100, hysteresis: 2,
  raiseAfterS: 5, clearAfterS: 10, enabled: true, description: 'time error', ...over,
});
const at = (s: number) => BigInt(s) * NS_PER_S;

test('a value oscillating around a threshold raises once and clears once', () => {
  const e = new AlarmEngine([rule()]);
  const changes: string[] = [];
  for (let s = 0; s < 300; s++) {
    // 100 s of values jittering across 10 (9..11), then 100 s comfortably bad, then 100 s good.
    const v = s < 100 ? 10 + (s % 2 ? 1 : -1) : s < 200 ? 11 + (s % 2) * 0.5 : 5;
    for (const c of e.evaluate(at(s), { err: v })) changes.push(`${c.kind}:${c.alarm.severity}@${s}`);
  }
  // The value last crossed at 99 (an odd second, 11) and stayed bad: raised 5 s later.
  assert.deepEqual(changes, ['raised:warning@104', 'cleared:warning@210']);
});

test('held until raise_after_s and clear_after_s; critical above warning; hysteresis band', () => {
  const e = new AlarmEngine([rule()]);
  assert.deepEqual(e.evaluate(at(0), { err: 50 }), []);
  assert.deepEqual(e.evaluate(at(4), { err: 50 }), []);
  const up = e.evaluate(at(5), { err: 50 });
  assert.equal(up.length, 1);
  assert.equal(up[0]!.kind === 'raised' && up[0]!.alarm.severity, 'warning');
  e.evaluate(at(6), { err: 500 });
  const crit = e.evaluate(at(11), { err: 500 });
  assert.deepEqual(crit.map((c) => `${c.kind}:${c.alarm.severity}`), ['cleared:warning', 'raised:critical']);
  assert.equal(e.active()[0]!.severity, 'critical');
  // 99 is under the critical threshold but inside its hysteresis band: still critical.
  assert.deepEqual(e.evaluate(at(30), { err: 99 }), []);
  assert.deepEqual(e.evaluate(at(50), { err: 99 }), []);
  e.evaluate(at(60), { err: 9 }); // below critical's band, above warning's (10 - 2): warning
  const down = e.evaluate(at(70), { err: 9 });
  assert.deepEqual(down.map((c) => `${c.kind}:${c.alarm.severity}`), ['cleared:critical', 'raised:warning']);
  e.evaluate(at(80), { err: 7 });
  assert.deepEqual(e.evaluate(at(90), { err: 7 }).map((c) => c.kind), ['cleared']);
  assert.deepEqual(e.active(), []);
});

test('below-rules, disabled rules and missing metrics', () => {
  const e = new AlarmEngine([
    rule({ name: 'sats', metric: 'used', comparison: 'below', warning: 4, critical: 1, hysteresis: 1, raiseAfterS: 0, clearAfterS: 0 }),
    rule({ name: 'off', enabled: false }),
  ]);
  assert.deepEqual(e.evaluate(at(0), { used: 3, err: 1e9 }).map((c) => `${c.kind}:${c.alarm.name}:${c.alarm.severity}`), ['raised:sats:warning']);
  assert.deepEqual(e.evaluate(at(1), { used: 4 }), []); // 4 is not above 4 + 1
  assert.deepEqual(e.evaluate(at(2), { used: 6 }).map((c) => c.kind), ['cleared']);
  assert.deepEqual(e.evaluate(at(3), {}), []);
});

test('wired into the service: simulator faults raise and clear the default alarms once each', async () => {
  const { simConfig, virtualService } = await import('./helpers/virtual.ts');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'alarms-'));
  const { clock, svc, events } = virtualService(simConfig((c) => {
    c.discipline.leap_seconds_file = '';
    c.agent.state_dir = dir;
    c.simulator.faults = [
      { at_s: 300, kind: 'antenna_unplugged', duration_s: 120, value: 0 },
      { at_s: 600, kind: 'satellites_drop', duration_s: 120, value: 3 },
    ];
  }));
  await svc.start();
  clock.advance(900_000);
  const st = svc.status();
  await svc.stop();
  rmSync(dir, { recursive: true, force: true });
  const seen = events.filter((e) => e.type === 'alarmRaised' || e.type === 'alarmCleared')
    .map((e) => (e.type === 'alarmRaised' ? `+${e.name}:${e.severity}` : `-${e.name}`));
  for (const name of ['fix_lost', 'pps_missing', 'antenna_fault']) {
    assert.equal(seen.filter((x) => x === `+${name}:critical`).length, 1, `${name}: ${seen.join(' ')}`);
    assert.equal(seen.filter((x) => x === `-${name}`).length, 1, `${name}: ${seen.join(' ')}`);
  }
  // No satellites while the antenna is out: critical (under 1); three for two minutes: a warning
  // (under 4). Each raised after 30 s and cleared after.
  assert.deepEqual(seen.filter((x) => x.includes('satellites_used')), ['+satellites_used:critical', '-satellites_used', '+satellites_used:warning', '-satellites_used']);
  // Two minutes of holdover is under the 600 s warning; the time error estimate stays under 10 us.
  assert.equal(seen.filter((x) => x.includes('holdover_duration') || x.includes('time_error')).length, 0, seen.join(' '));
  assert.ok(st.alarms.every((a) => a.severity === 'none'));
  assert.deepEqual(st.alarms.map((a) => a.index), st.alarms.map((_, i) => i + 1));
});

test('the other default rules on their inputs: holdover_duration and time_error from a PPS outage, ntp_request_rate from a request flood, cpu_temperature from the thermal file', async () => {
  const { simConfig, virtualService } = await import('./helpers/virtual.ts');
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  let thermal = '';
  const { clock, svc, events } = virtualService(simConfig((c) => {
    c.discipline.leap_seconds_file = '';
    thermal = join(c.agent.state_dir, 'temp');
    c.agent.cpu_temperature_file = thermal;
    c.ntp.enabled = true;
    c.ntp.addresses = ['127.0.0.1'];
    c.ntp.port = 0;
    c.ntp.rate_limit.enabled = false;
    c.simulator.faults = [{ at_s: 600, kind: 'pps_lost', duration_s: 1500, value: 0 }];
  }));
  writeFileSync(thermal, '45000\n');
  await svc.start();
  const req = Buffer.alloc(48);
  req[0] = 0x23;
  const state = { leapIndicator: 0, stratum: 1, refId: 'GPS', rootDispersionS: 0, rootDelayS: 0, refTime: 0n, precisionLog2: -20 };
  for (let s = 0; s < 2700; s++) {
    // A flood of 12 000 requests a second from 2400 s to 2600 s (the warning is at 10 000/s).
    if (s >= 2400 && s < 2600) for (let k = 0; k < 12_000; k++) svc.ntpCore!.handle(req, clock.now(), state, '127.0.0.2', s);
    if (s === 100) writeFileSync(thermal, '83500\n'); // over the 80 degC critical
    if (s === 400) writeFileSync(thermal, '50000\n');
    clock.advance(1000);
  }
  const st = svc.status();
  await svc.stop();
  const seen = events.filter((e) => e.type === 'alarmRaised' || e.type === 'alarmCleared')
    .map((e) => (e.type === 'alarmRaised' ? `+${e.name}:${e.severity}` : `-${e.name}`));
  const of = (name: string) => seen.filter((x) => x.startsWith(`+${name}:`) || x === `-${name}`);
  assert.deepEqual(of('cpu_temperature'), ['+cpu_temperature:critical', '-cpu_temperature']);
  // 25 minutes without PPS: holdover passes 600 s (warning); under 3600 s, so never critical.
  assert.deepEqual(of('holdover_duration'), ['+holdover_duration:warning', '-holdover_duration']);
  // The error estimate grows in holdover past 10 us (warning), and clears once locked again.
  assert.equal(of('time_error')[0], '+time_error:warning', seen.join(' '));
  assert.equal(of('time_error').at(-1), '-time_error', seen.join(' '));
  assert.deepEqual(of('ntp_request_rate'), ['+ntp_request_rate:warning', '-ntp_request_rate']);
  assert.ok(st.alarms.every((a) => a.severity === 'none'), JSON.stringify(st.alarms.filter((a) => a.severity !== 'none')));
});

test('every rule is visible before it is raised: its figure now, both thresholds, units; stratum1 alarms says booleans in words', async () => {
  const { simConfig, virtualService } = await import('./helpers/virtual.ts');
  const { svc, clock } = virtualService(simConfig((c) => {
    c.alarms.satellites_used!.enabled = false;
  }));
  await svc.start();
  clock.advance(120_000);
  const st = svc.status();
  await svc.stop();
  const rule = (name: string) => st.alarms.find((a) => a.name === name)!;
  const te = rule('time_error');
  assert.equal(te.severity, 'none', 'not raised');
  // The figure as of the last evaluation (each second): the error estimate of a locked clock.
  assert.ok(typeof te.current === 'number' && te.current > 0 && te.current < 10_000, `time_error's figure now is the error estimate: ${te.current} (${st.discipline.timeErrorEstimateNs} at the snapshot)`);
  assert.deepEqual([te.comparison, te.warning, te.critical, te.units, te.enabled], ['above', 10_000, 100_000, 'ns', true], 'its thresholds as configured');
  assert.equal(rule('pps_missing').current, 1, 'pps_missing: PPS present is 1');
  assert.equal(rule('chrony_unreachable').current, null, 'a rule whose feature is off has no figure');
  assert.equal(rule('satellites_used').enabled, false, 'disabled in the config, and Status says so');
  const lines = st.alarms.map(formatAlarm);
  const line = (name: string) => lines.find((l) => l.includes(` ${name} `))!;
  assert.match(line('time_error'), /^ {2} 1 time_error +ok +now \d+(\.\d+)? ns \(warning above 10000, critical above 100000 ns\) {2}The disciplined clock's time error estimate\.$/);
  assert.match(line('pps_missing'), / ok +now yes \(critical when no\) /, `a boolean in words: ${line('pps_missing')}`);
  assert.match(line('chrony_unreachable'), / ok +now n\/a \(critical when yes\) /, line('chrony_unreachable'));
  assert.match(line('satellites_used'), / off +disabled in the configuration /, line('satellites_used'));
  // Raised: the time it was raised, and never "value 0 vs 0.5".
  const raised = formatAlarm({ ...rule('fix_lost'), severity: 'critical', value: 0, threshold: 0.5, current: 0, raisedAt: '2026-01-01T00:00:00.000Z' });
  assert.match(raised, / CRITICAL +now no \(critical when no\), raised 2026-01-01T00:00:00\.000Z /, raised);
  assert.doesNotMatch(raised, /vs 0\.5/, 'no "value 0 vs 0.5"');
});
