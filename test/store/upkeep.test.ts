import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import cron from 'node-cron';
import { nextFire, onCron, parseCron } from '../../src/store/schedule.ts';
import { Upkeep, JOB_NAMES, type JobName, type UpkeepOptions } from '../../src/store/upkeep.ts';
import { HistoryStore } from '../../src/store/store.ts';
import { SAMPLE_METRICS } from '../../src/store/metrics.ts';
import { SimClock } from '../../src/time/sim-clock.ts';
import type { Clock } from '../../src/time/clock.ts';

// Every expectation is written in local time (Date's local constructor and getters), on fixed dates
// chosen here, so the file passes on any day and in any time zone. The tests that are about summer
// time set their own zone and put the host's back.

const MIN = 60_000;
const local = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0) => new Date(y, mo - 1, d, h, mi, s).getTime();
const next = (expr: string, after: number) => nextFire(parseCron(expr), after);
const ns = (ms: number) => BigInt(ms) * 1_000_000n;

/** Runs fn with the process in another time zone (Node re-reads TZ when it is assigned). */
function inZone(tz: string, fn: () => void): void {
  const saved = process.env.TZ;
  process.env.TZ = tz;
  try {
    fn();
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
}

test('nextFire: the first match strictly after a time, in local time', () => {
  assert.equal(next('*/5 * * * *', local(2026, 1, 15, 10, 2, 30)), local(2026, 1, 15, 10, 5));
  assert.equal(next('*/5 * * * *', local(2026, 1, 15, 10, 5)), local(2026, 1, 15, 10, 10), 'strictly after: not the same moment');
  assert.equal(next('*/5 * * * *', local(2026, 1, 15, 10, 4, 59) + 999), local(2026, 1, 15, 10, 5));
  assert.equal(next('7 * * * *', local(2026, 1, 15, 10, 7) + 500), local(2026, 1, 15, 11, 7));
  assert.equal(next('23 3 * * *', local(2026, 1, 15, 3, 23)), local(2026, 1, 16, 3, 23));
  assert.equal(next('0 0 1 1 *', local(2026, 12, 31, 23, 59, 59)), local(2027, 1, 1), 'across a year');
  assert.equal(next('0 0 1-10/3 jan,jul *', local(2026, 1, 10, 0, 0, 1)), local(2026, 7, 1), 'ranges, steps, lists, names');
  assert.equal(next('30 6 * * mon-fri', local(2026, 1, 16, 7)), local(2026, 1, 19, 6, 30), 'Friday after 06:30: Monday');
  assert.equal(next('0 0 * * 7', local(2026, 1, 15)), local(2026, 1, 18), '7 is Sunday too');
  assert.equal(next('0 12 13 * fri', local(2026, 1, 1)), local(2026, 2, 13, 12), 'day and weekday must both match, as in node-cron');
  assert.equal(next('0 0 29 2 *', local(2026, 3, 1)), local(2028, 2, 29), 'the next leap day');
  assert.equal(next('*/10 * * * * *', local(2026, 1, 15, 10, 0, 5)), local(2026, 1, 15, 10, 0, 10), 'six fields: seconds');
  assert.equal(next('@daily', local(2026, 1, 15, 10)), local(2026, 1, 16));
  assert.equal(next('0 0 29 2 1', local(2026, 1, 1)), local(2044, 2, 29), 'a leap day that is a Monday, 18 years on');
  // node-cron refuses a day no month has; a schedule made by hand may still ask for one.
  assert.equal(nextFire({ ...parseCron('0 0 29 2 *'), dayOfMonth: new Set([30]) }, local(2026, 1, 1)), null, 'never');
});

test('parseCron: refuses what node-cron refuses, and the L, W and # days', () => {
  for (const bad of ['', 'at three', '0 0 30 2 *', '61 * * * *', '* * * *', '0 0 L * *', '0 0 * * 5L', '0 0 * * 1#2', '0 0 15W * *']) {
    assert.throws(() => parseCron(bad), Error, bad);
  }
});

test('nextFire agrees with node-cron\'s own matcher, and no match is skipped', () => {
  const exprs = ['*/5 * * * *', '7 * * * *', '17 * * * *', '23 3 * * *', '43 3 * * *', '0,30 8-17 * * 1-5', '*/20 */3 * * *', '15 10 1,15 * *', '0 0 * * sun'];
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const from = local(2025, 1, 1);
  for (const expr of exprs) {
    const task = cron.createTask(expr, () => {});
    try {
      const s = parseCron(expr);
      for (let k = 0; k < 12; k++) {
        let after = from + Math.floor(rand() * 4 * 365 * 86_400) * 1000;
        for (let r = 0; r < 3; r++) {
          const at = nextFire(s, after)!;
          assert.ok(at > after, `${expr} after ${new Date(after).toString()}`);
          assert.ok(task.match(new Date(at)), `${expr}: ${new Date(at).toString()} does not match`);
          if (at - after <= 3 * 86_400_000) {
            for (let t = Math.floor(after / MIN) * MIN + MIN; t < at; t += MIN) {
              assert.ok(!task.match(new Date(t)), `${expr}: ${new Date(t).toString()} matches before ${new Date(at).toString()}`);
            }
          }
          after = at;
        }
      }
    } finally {
      void task.destroy();
    }
  }
});

test('nextFire where the UTC offset changes: summer time, half an hour, at midnight, off the hour', () => {
  inZone('America/New_York', () => {
    // 2026-03-08: 02:00 EST becomes 03:00 EDT.
    assert.equal(next('*/5 * * * *', Date.UTC(2026, 2, 8, 6, 55)), Date.UTC(2026, 2, 8, 7, 0), '01:55 EST, then 03:00 EDT');
    assert.equal(next('30 2 * * *', Date.UTC(2026, 2, 8, 5, 0)), Date.UTC(2026, 2, 9, 6, 30), '02:30 does not exist that day');
    assert.equal(next('0 * * * *', Date.UTC(2026, 2, 8, 6, 0)), Date.UTC(2026, 2, 8, 7, 0), '01:00 EST, then 03:00 EDT');
    // 2026-11-01: 02:00 EDT becomes 01:00 EST; 01:00 to 01:59 happen twice.
    assert.equal(next('*/5 * * * *', Date.UTC(2026, 10, 1, 5, 55)), Date.UTC(2026, 10, 1, 6, 0), '01:55 EDT, then 01:00 EST');
    const runs = [Date.UTC(2026, 10, 1, 4, 0)];
    for (let i = 0; i < 3; i++) runs.push(next('30 1 * * *', runs.at(-1)!)!);
    assert.deepEqual(runs.slice(1), [Date.UTC(2026, 10, 1, 5, 30), Date.UTC(2026, 10, 1, 6, 30), Date.UTC(2026, 10, 2, 6, 30)], 'a repeated 01:30 runs twice');
  });
  inZone('Australia/Lord_Howe', () => {
    // 2026-10-04: 02:00 (+10:30) becomes 02:30 (+11:00): half an hour goes missing.
    assert.equal(next('*/10 * * * *', Date.UTC(2026, 9, 3, 15, 20)), Date.UTC(2026, 9, 3, 15, 30), '01:50, then 02:30');
    assert.equal(next('45 2 * * *', Date.UTC(2026, 9, 3, 15, 20)), Date.UTC(2026, 9, 3, 15, 45));
    assert.equal(next('15 2 * * *', Date.UTC(2026, 9, 3, 15, 20)), Date.UTC(2026, 9, 4, 15, 15), '02:15 does not exist that day');
  });
  // Every minute node-cron's matcher accepts over two days around each change, and no other: in
  // zones that change by an hour at 02:00, by half an hour, at midnight (Santiago) and off the hour.
  const around: [string, number][] = [
    ['America/New_York', Date.UTC(2026, 2, 7)], ['America/New_York', Date.UTC(2026, 9, 31)],
    ['Australia/Lord_Howe', Date.UTC(2026, 3, 4)], ['Australia/Lord_Howe', Date.UTC(2026, 9, 3)],
    ['America/Santiago', Date.UTC(2026, 3, 4)], ['America/Santiago', Date.UTC(2026, 8, 5)],
    ['America/Caracas', Date.UTC(2016, 3, 30)], // 2016-05-01 02:30 (-04:30) became 03:00 (-04:00), off the hour
  ];
  for (const [tz, from] of around) {
    inZone(tz, () => {
      for (const expr of ['*/5 * * * *', '7 * * * *', '30 1 * * *', '15 2 * * *', '10 3 * * *', '0 0 * * *', '45 23 * * *', '0 */2 * * *']) {
        // The zone named: node-cron keeps the formatter it made for the host's zone the first time.
        const task = cron.createTask(expr, () => {}, { timezone: tz });
        try {
          const want: number[] = [];
          for (let t = from + MIN; t <= from + 2 * 86_400_000; t += MIN) if (task.match(new Date(t))) want.push(t);
          const got: number[] = [];
          for (let t = nextFire(parseCron(expr), from); t !== null && t <= from + 2 * 86_400_000; t = nextFire(parseCron(expr), t)) got.push(t);
          assert.deepEqual(got.map((t) => new Date(t).toISOString()), want.map((t) => new Date(t).toISOString()), `${tz} ${expr}`);
        } finally {
          void task.destroy();
        }
      }
    });
  }
});

/** A store with a few minutes of samples, and an Upkeep on the clock with the schedules given. */
function setup(clock: Clock, schedules: Partial<Record<JobName, string>>, over: Partial<UpkeepOptions> = {}) {
  const d = mkdtempSync(join(tmpdir(), 'upkeep-'));
  const nowS = () => Math.floor(Number(clock.now() / 1_000_000_000n));
  const store = new HistoryStore({
    path: join(d, 'h.db'), busyTimeoutMs: 50, maxPending: 100_000,
    retention: { samplesDays: 2, minuteDays: 30, hourDays: 730, eventsDays: 365 },
  }, nowS);
  for (let t = nowS() - 600; t < nowS(); t++) store.addSample({ t, values: SAMPLE_METRICS.map(() => 1) });
  store.flush();
  const runs: { job: JobName; atMs: number; ok: boolean | null; detail: string }[] = [];
  const all = Object.fromEntries(JOB_NAMES.map((j) => [j, schedules[j] ?? ''])) as Record<JobName, string>;
  const u = new Upkeep(store, { schedules: all, backupDir: join(d, 'backups'), backupsKept: 2, vacuumPages: 100, settleS: 5, ...over },
    clock, (job, s) => runs.push({ job, atMs: Number(clock.now() / 1_000_000n), ok: s.ok, detail: s.detail }));
  return { d, store, u, runs, times: (j: JobName) => runs.filter((r) => r.job === j).map((r) => r.atMs) };
}

test('upkeep on virtual time: each job at its moments, an empty schedule never, stop() cancels', async () => {
  const startMs = local(2026, 1, 15, 10, 2, 30);
  const clock = new SimClock(ns(startMs));
  const { store, u, times } = setup(clock, { rollup: '*/5 * * * *', prune: '7 * * * *', vacuum: '' });
  u.start();
  clock.advance(3 * 3600 * 1000); // in one advance: the timers fire in virtual time order
  const rollups = times('rollup');
  assert.equal(rollups.length, 36);
  assert.equal(rollups[0], local(2026, 1, 15, 10, 5), 'the first 5-minute mark after the start');
  for (let i = 1; i < rollups.length; i++) assert.equal(rollups[i]! - rollups[i - 1]!, 5 * MIN);
  for (const t of rollups) assert.equal(new Date(t).getMinutes() % 5 + new Date(t).getSeconds() + new Date(t).getMilliseconds(), 0);
  assert.deepEqual(times('prune'), [local(2026, 1, 15, 10, 7), local(2026, 1, 15, 11, 7), local(2026, 1, 15, 12, 7)]);
  assert.equal(times('vacuum').length, 0, 'an empty schedule never runs');
  assert.equal(u.jobs.vacuum.runs, 0);
  assert.equal(u.jobs.rollup.runs, 36);
  assert.equal(u.jobs.rollup.lastRunS, (local(2026, 1, 15, 13, 0)) / 1000);
  assert.ok(u.jobs.rollup.ok);

  await u.stop();
  clock.advance(3 * 3600 * 1000);
  assert.equal(times('rollup').length, 36, 'stop() cancelled the schedules');
  assert.equal(times('prune').length, 3);
  // Started again, it goes on from the present.
  u.start();
  clock.advance(5 * MIN);
  assert.deepEqual(times('rollup').slice(36), [local(2026, 1, 15, 16, 5)]);
  await u.stop();
  store.close();
});

test('upkeep: nothing runs on host time', async () => {
  const startMs = local(2026, 1, 15, 10, 2, 30);
  const clock = new SimClock(ns(startMs));
  const { store, u, times } = setup(clock, { rollup: '* * * * * *' }); // every second
  u.start();
  await new Promise((r) => setTimeout(r, 1500)); // host time passes, virtual time does not
  assert.deepEqual(times('rollup'), []);
  clock.advance(1000);
  assert.deepEqual(times('rollup'), [startMs + 1000]);
  await u.stop();
  await new Promise((r) => setTimeout(r, 1100));
  assert.deepEqual(times('rollup'), [startMs + 1000]);
  store.close();
});

test('upkeep: a step of the clock forward runs a missed job once; a step back finds the next match again', () => {
  const sim = new SimClock(ns(local(2026, 1, 15, 10, 2, 30)));
  let stepMs = 0;
  // The agent's clock can be stepped; its timers run on the same (monotonic) time base.
  const clock: Clock = {
    now: () => sim.now() + ns(stepMs), monotonic: () => sim.monotonic(),
    setTimeout: (fn, ms) => sim.setTimeout(fn, ms), setInterval: (fn, ms) => sim.setInterval(fn, ms),
  };
  const fired: number[] = [];
  const t = onCron(clock, parseCron('0 * * * *'), () => fired.push(Number(clock.now() / 1_000_000n)));
  sim.advance(30 * MIN);
  assert.deepEqual(fired, [], '10:32: not yet');
  stepMs = 5 * 3600 * 1000; // 10:32 becomes 15:32: the hours between are missed
  sim.advance(61 * 1000);
  assert.equal(fired.length, 1, 'once, not once per hour missed');
  assert.ok(fired[0]! - local(2026, 1, 15, 15, 32, 30) <= MIN, 'within a minute of the step');
  sim.advance(28 * MIN);
  assert.equal(fired.at(-1), local(2026, 1, 15, 16), 'then on the hour again');
  stepMs -= 24 * 3600 * 1000; // a day back: 16:00 becomes 16:00 the day before
  sim.advance(61 * MIN);
  assert.equal(fired.at(-1), local(2026, 1, 14, 17), 'the next hour on the new time, not a day late');
  t.cancel();
  sim.advance(5 * 3600 * 1000);
  assert.equal(fired.at(-1), local(2026, 1, 14, 17), 'cancelled');
});

test('upkeep: a worker job never overlaps itself, and stop() ends one under way', async () => {
  const clock = new SimClock(ns(local(2026, 1, 15, 10, 2, 30)));
  const { d, store, u, runs } = setup(clock, { integrity: '* * * * * *', backup: '' });
  u.start();
  clock.advance(10_000); // due ten times; the first run's worker cannot answer during the advance
  assert.equal(u.jobs.integrity.runs, 0);
  await new Promise<void>((r) => {
    const poll = () => (u.jobs.integrity.runs ? r() : void setTimeout(poll, 10));
    poll();
  });
  assert.equal(u.jobs.integrity.runs, 1, 'one run for the ten seconds it was due');
  assert.deepEqual(runs.map((x) => [x.job, x.ok, x.detail]), [['integrity', true, 'ok']]);
  clock.advance(1000); // the next run starts...
  await u.stop(); // ...and is ended
  assert.equal(u.jobs.integrity.runs, 2);
  assert.deepEqual(runs.at(-1), { job: 'integrity', atMs: local(2026, 1, 15, 10, 2, 41), ok: false, detail: 'stopped before it finished' });

  // A backup ended by stop() leaves no partial copy behind.
  const b = u.run('backup');
  await u.stop();
  assert.deepEqual(await b.then((s) => [s.ok, s.detail]), [false, 'stopped before it finished']);
  assert.deepEqual(readdirSync(join(d, 'backups')), []);
  // And the next one, after the stop, is whole.
  const ok = await u.run('backup');
  assert.equal(ok.ok, true, ok.detail);
  assert.equal(readdirSync(join(d, 'backups')).length, 1);
  store.close();
});
