/**
 * Integrity benchmark, on the simulator in virtual time: how fast each fault is detected, and how
 * many false alarms a clean day raises.
 *
 * Detection (each over several seeds; the fault starts at 900 s, once the position fence and the
 * C/N0 and satellite baselines have learned): time from the fault's start to the integrity check's
 * failure event and to its alarm, for
 *   - the position walking off at 1 m/s (position, alarm position_fence; fence 100 m),
 *   - every satellite 15 dB weaker (jamming, gnss_jamming; threshold 10 dB),
 *   - the satellites used halved (satellites, satellites_drop),
 *   - the receiver's labels +2 s for good, with three simulated upstream servers (the gate's refusal
 *     timeJumpRefused, the upstream check, gps_falseticker; and the labels against the PPS count),
 *   - one upstream server 5 s off from the start: time until it is named the falseticker.
 * False alarms: clean simulated days (several seeds) with three upstream servers: alarms raised and
 * integrity failures per day.
 *
 * There is no reference to run beside: chronyd, gpsd and ptp4l have no position, C/N0 or PPS-count
 * checks, and chronyd's own source selection is compared with ours against real servers in
 * test/integrity/chronyd-upstream.test.ts instead.
 *
 * Ends with ONE JSON line. `--quick`: one seed, and two clean hours instead of days.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimClock, fromDate } from '../src/time/index.ts';
import { Logger } from '../src/log.ts';
import { Service } from '../src/service.ts';
import { defaultConfig, type Config } from '../src/config/config.ts';
import type { AgentEvent } from '../src/status/events.ts';

const quick = process.argv.includes('--quick');
const SEEDS = quick ? [1] : [1, 2, 3, 4, 5];
const CLEAN_SEEDS = quick ? [1] : [1, 2, 3];
const CLEAN_S = quick ? 7200 : 86_400;
const FAULT_AT_S = 900;
// Any fixed date works: nothing here is stored, and the leap second table is off.
const START = fromDate(new Date('2026-03-01T00:00:00.250Z'));
const server = (offset_ms = 0) => ({ offset_ms, delay_ms: 20, jitter_ms: 1, stratum: 2, lost: 0 });

/** Each run gets a state directory of its own: a frequency saved by one seed's oscillator must not
 * seed the next (that is a restart with another board's drift file, not a clean day). */
function config(seed: number, root: string, patch: (c: Config) => void): Config {
  const stateDir = mkdtempSync(join(root, 'run-'));
  const c = defaultConfig();
  c.receiver.source = 'simulator';
  c.pps.source = 'simulator';
  c.ntp.enabled = false;
  c.store.enabled = false;
  c.agent.state_dir = stateDir;
  c.discipline.leap_seconds_file = '';
  c.simulator.seed = seed;
  c.simulator.ntp_servers = [server(), server(), server()];
  patch(c);
  return c;
}

async function run(cfg: Config, seconds: number): Promise<{ events: AgentEvent[]; at: (e: AgentEvent) => number; wallMs: number }> {
  const clock = new SimClock(START);
  const svc = new Service(cfg, { clock, simulate: true, log: new Logger(clock, { level: 'error', repeatPerMinute: 1 }, { write: () => {} }), listen: false });
  const events: AgentEvent[] = [];
  svc.bus.onAny((e) => events.push(e));
  const w0 = performance.now();
  await svc.start();
  for (let s = 0; s < seconds; s += 60) clock.advance(Math.min(60, seconds - s) * 1000);
  await svc.stop();
  return { events, at: (e) => Number(e.at - START) / 1e9, wallMs: performance.now() - w0 };
}

const firstAfter = (r: Awaited<ReturnType<typeof run>>, from: number, pred: (e: AgentEvent) => boolean) => {
  const e = r.events.find((x) => pred(x) && r.at(x) >= from);
  return e === undefined ? null : Math.round((r.at(e) - from) * 10) / 10;
};
const failed = (check: string) => (e: AgentEvent) => e.type === 'integrityCheckFailed' && e.check === check;
const alarm = (name: string) => (e: AgentEvent) => e.type === 'alarmRaised' && e.name === name;
const stats = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return { median: v.length ? v[Math.floor(v.length / 2)]! : null, max: v.length ? v[v.length - 1]! : null, missed: xs.length - v.length };
};

const dir = mkdtempSync(join(tmpdir(), 'bench-integrity-'));
const detect: Record<string, Record<string, ReturnType<typeof stats>>> = {};
const scenarios: [string, (c: Config) => void, Record<string, (e: AgentEvent) => boolean>][] = [
  ['position_walk_1mps', (c) => { c.simulator.faults = [{ at_s: FAULT_AT_S, kind: 'position_walk', duration_s: 600, value: 1 }]; },
    { check: failed('position'), alarm: alarm('position_fence') }],
  ['jamming_15db', (c) => { c.simulator.faults = [{ at_s: FAULT_AT_S, kind: 'jamming', duration_s: 600, value: 15 }]; },
    { check: failed('jamming'), alarm: alarm('gnss_jamming') }],
  ['satellites_halved', (c) => { c.simulator.faults = [{ at_s: FAULT_AT_S, kind: 'satellites_drop', duration_s: 600, value: 0.5 }]; },
    { check: failed('satellites'), alarm: alarm('satellites_drop') }],
  ['spoof_plus_2s', (c) => { c.simulator.faults = [{ at_s: FAULT_AT_S, kind: 'time_jump', duration_s: 1e6, value: 2 }]; },
    { refused: (e) => e.type === 'timeJumpRefused', upstream: failed('upstream'), alarm: alarm('gps_falseticker'), pps_count: failed('pps_count') }],
];
let wallMs = 0;
let virtualS = 0;
for (const [name, patch, marks] of scenarios) {
  const per: Record<string, (number | null)[]> = {};
  for (const seed of SEEDS) {
    const r = await run(config(seed, dir, patch), FAULT_AT_S + 300);
    wallMs += r.wallMs;
    virtualS += FAULT_AT_S + 300;
    for (const [k, pred] of Object.entries(marks)) (per[k] ??= []).push(firstAfter(r, FAULT_AT_S, pred));
  }
  detect[name] = Object.fromEntries(Object.entries(per).map(([k, v]) => [k, stats(v)]));
  console.log(`${name}: ${Object.entries(detect[name]!).map(([k, v]) => `${k} median ${v.median} s, max ${v.max} s${v.missed ? `, MISSED ${v.missed}` : ''}`).join('; ')}`);
}

// One upstream server 5 s off from the start: named a falseticker once the others answer.
const named: (number | null)[] = [];
for (const seed of SEEDS) {
  const clock = new SimClock(START);
  const svc = new Service(config(seed, dir, (c) => { c.simulator.ntp_servers = [server(), server(5000), server()]; }), { clock, simulate: true, log: new Logger(clock, { level: 'error', repeatPerMinute: 1 }, { write: () => {} }), listen: false });
  await svc.start();
  let at: number | null = null;
  for (let s = 1; s <= 120 && at === null; s++) {
    clock.advance(1000);
    if (svc.status().integrity.upstream.falsetickers.includes('sim2')) at = s;
  }
  await svc.stop();
  named.push(at);
}
detect.upstream_falseticker_named = { from_start: stats(named) };
console.log(`upstream falseticker named: median ${detect.upstream_falseticker_named.from_start!.median} s after start`);

// Clean days.
let alarms = 0;
let failures = 0;
const byName: Record<string, number> = {};
for (const seed of CLEAN_SEEDS) {
  const r = await run(config(seed, dir, () => {}), CLEAN_S);
  wallMs += r.wallMs;
  virtualS += CLEAN_S;
  for (const e of r.events) {
    if (e.type === 'alarmRaised') {
      alarms++;
      byName[e.name] = (byName[e.name] ?? 0) + 1;
    }
    if (e.type === 'integrityCheckFailed') failures++;
  }
}
const days = (CLEAN_SEEDS.length * CLEAN_S) / 86_400;
console.log(`clean: ${days} simulated days, ${alarms} alarms raised, ${failures} integrity failures${alarms ? ` (${JSON.stringify(byName)})` : ''}`);
rmSync(dir, { recursive: true, force: true });

console.log(JSON.stringify({
  bench: 'integrity', quick, seeds: SEEDS.length, fault_at_s: FAULT_AT_S, detect_s: detect,
  clean: { days, alarms_per_day: alarms / days, integrity_failures_per_day: failures / days, alarms_by_name: byName },
  virtual_s: virtualS, wall_s: Math.round(wallMs) / 1000,
}));
