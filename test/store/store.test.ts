import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, readdirSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { HistoryStore, type StoreOptions, type StoreProblem } from '../../src/store/store.ts';
import { SAMPLE_METRICS, type Sample } from '../../src/store/metrics.ts';
import { summarize, combine } from '../../src/store/rollup.ts';
import { SCHEMA_VERSION, MIGRATIONS } from '../../src/store/schema.ts';
import { Upkeep, runInWorker, type JobName } from '../../src/store/upkeep.ts';
import { SimClock } from '../../src/time/sim-clock.ts';

const T0 = 1_795_000_000 - (1_795_000_000 % 3600); // an hour boundary in 2026
const dir = () => mkdtempSync(join(tmpdir(), 'store-'));
const opts = (path: string, over: Partial<StoreOptions> = {}): StoreOptions => ({
  path, busyTimeoutMs: 50, maxPending: 100_000,
  retention: { samplesDays: 2, minuteDays: 30, hourDays: 730, eventsDays: 365 }, ...over,
});
/** A sample whose offset is a known function of t; other metrics constant. */
const sample = (t: number): Sample => ({ t, values: SAMPLE_METRICS.map((m) => (m.name === 'offset_ns' ? Math.sin(t / 7) * 100 + (t % 60) : m.name === 'state' ? 3 : 9)) });

test('rollup summaries: Welford and the parallel combination agree with a direct computation', () => {
  const xs = Array.from({ length: 3600 }, (_, i) => 1e9 + Math.sin(i) * 50 + i * 0.01);
  const whole = summarize(xs)!;
  const parts = Array.from({ length: 60 }, (_, k) => summarize(xs.slice(k * 60, k * 60 + 60))!);
  const c = combine(parts)!;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  assert.equal(c.n, 3600);
  assert.ok(Math.abs(whole.mean - mean) < 1e-5 && Math.abs(c.mean - mean) < 1e-5, `${whole.mean} ${c.mean} ${mean}`);
  assert.ok(Math.abs(whole.sd - sd) < 1e-5 && Math.abs(c.sd - sd) < 1e-5, `${whole.sd} ${c.sd} vs ${sd}`);
  assert.equal(c.min, Math.min(...xs));
  assert.equal(c.max, Math.max(...xs));
  assert.equal(summarize([]), undefined);
});

test('a new database gets the schema, WAL and synchronous=FULL; samples and events round-trip', () => {
  const d = dir();
  const s = new HistoryStore(opts(join(d, 'h.db')), () => T0);
  assert.ok(s.open());
  const db = s.database!;
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('synchronous', { simple: true }), 2);
  assert.equal(db.pragma('auto_vacuum', { simple: true }), 2);
  for (let t = T0; t < T0 + 10; t++) s.addSample(sample(t));
  s.addEvent({ tNs: BigInt(T0 + 3) * 1_000_000_000n + 5n, type: 'fixLost', data: { reason: 'test' } });
  assert.equal(s.stats.pending, 11);
  assert.ok(s.flush());
  assert.equal(s.stats.pending, 0);
  assert.equal(s.stats.samplesWritten, 10);
  const h = s.history('offset_ns', T0, T0 + 10, 1);
  assert.equal(h.resolution, 'second');
  assert.deepEqual(h.points.map((p) => p.mean), Array.from({ length: 10 }, (_, i) => sample(T0 + i).values[0]));
  const ev = s.eventsBetween(0n, BigInt(T0 + 100) * 1_000_000_000n);
  assert.deepEqual(ev, [{ tNs: BigInt(T0 + 3) * 1_000_000_000n + 5n, type: 'fixLost', data: { reason: 'test' } }]);
  s.close();
  // Reopening applies no migration again and keeps the data.
  const s2 = new HistoryStore(opts(join(d, 'h.db')), () => T0);
  assert.equal(s2.history('offset_ns', T0, T0 + 10, 1).points.length, 10);
  assert.throws(() => s2.history('nonsense', T0, T0 + 1, 1), /unknown metric "nonsense": one of offset_ns/);
  s2.close();
});

test('a database from a newer agent is refused, not touched', () => {
  const path = join(dir(), 'h.db');
  const db = new Database(path);
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  const s = new HistoryStore(opts(path), () => T0);
  assert.equal(s.open(), false);
  assert.match(s.stats.lastError!, new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer than this agent's ${SCHEMA_VERSION}`));
  assert.equal(s.stats.healthy, false);
});

test('a database of schema 1 is migrated: its rows kept, the integrity columns added', () => {
  const path = join(dir(), 'h.db');
  const db = new Database(path);
  db.exec(MIGRATIONS[0]!);
  db.pragma('user_version = 1');
  db.prepare('INSERT INTO samples (t, offset_ns) VALUES (?, ?)').run(T0, 42);
  db.close();
  const s = new HistoryStore(opts(path), () => T0);
  assert.equal(s.open(), true);
  s.addSample(sample(T0 + 1));
  s.flush();
  const pts = s.history('offset_ns', T0, T0 + 2, 1).points;
  assert.equal(pts.length, 2);
  assert.equal(pts[0]!.mean, 42);
  s.close();
  const again = new Database(path, { readonly: true });
  assert.equal(again.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  const cols = (again.prepare('PRAGMA table_info(samples)').all() as { name: string }[]).map((c) => c.name);
  for (const c of ['receiver_minus_upstream_ns', 'position_distance_m', 'cn0_mean_dbhz', 'integrity_failing']) assert.ok(cols.includes(c), c);
  again.close();
});

test('minute and hour rollups equal summaries of the raw seconds; late seconds reopen them', () => {
  const s = new HistoryStore(opts(join(dir(), 'h.db')), () => T0);
  const end = T0 + 2 * 3600;
  for (let t = T0; t < end; t++) if (t < T0 + 1800 || t >= T0 + 1900) s.addSample(sample(t)); // 100 s missing
  s.flush();
  const r = s.rollup(end + 5, 5);
  assert.equal(r.hours, 2);
  assert.equal(r.minutes, 120 - 1); // minute 30 of the first hour has no sample (1800..1859)
  const m = s.history('offset_ns', T0, end, 60);
  assert.equal(m.resolution, 'minute');
  const first = summarize(Array.from({ length: 60 }, (_, i) => sample(T0 + i).values[0]!))!;
  assert.deepEqual({ ...m.points[0] }, { t: T0, ...first });
  const h = s.history('offset_ns', T0, end, 3600);
  assert.equal(h.resolution, 'hour');
  const rawHour = summarize(Array.from({ length: 3600 }, (_, i) => T0 + i).filter((t) => t < T0 + 1800 || t >= T0 + 1900).map((t) => sample(t).values[0]!))!;
  assert.equal(h.points[0]!.n, 3500);
  assert.ok(Math.abs(h.points[0]!.mean - rawHour.mean) < 1e-9 && Math.abs(h.points[0]!.sd - rawHour.sd) < 1e-9);
  // The missing seconds arrive late (a disk outage ended): the rollups that passed them are redone.
  for (let t = T0 + 1800; t < T0 + 1900; t++) s.addSample(sample(t));
  s.flush();
  s.rollup(end + 70, 5);
  const h2 = s.history('offset_ns', T0, end, 3600);
  assert.equal(h2.points[0]!.n, 3600);
  // A query at a 5-minute step combines the minute rollups.
  const five = s.history('offset_ns', T0, T0 + 600, 300);
  assert.deepEqual(five.points.map((p) => p.n), [300, 300]);
  s.close();
});

test('retention prunes each table at its own age, and the query falls back to coarser tables', () => {
  const now = T0 + 40 * 86400;
  const s = new HistoryStore(opts(join(dir(), 'h.db'), { retention: { samplesDays: 1, minuteDays: 3, hourDays: 10, eventsDays: 5 } }), () => now);
  for (const dayAgo of [20, 8, 2, 0.5]) {
    const t0 = Math.floor((now - dayAgo * 86400) / 3600) * 3600;
    for (let t = t0; t < t0 + 3600; t += 1) s.addSample(sample(t));
    s.addEvent({ tNs: BigInt(t0) * 1_000_000_000n, type: 'agentStarted', data: {} });
    s.flush();
    s.rollup(t0 + 3700, 5); // rolled up as they happened
  }
  const del = s.prune(now);
  assert.deepEqual(del, { samples: 3 * 3600, rollup_1m: 2 * 60 * SAMPLE_METRICS.length, rollup_1h: 1 * SAMPLE_METRICS.length, events: 2 });
  assert.equal(s.history('offset_ns', now - 2.5 * 86400, now, 60).resolution, 'minute');
  assert.equal(s.history('offset_ns', now - 9 * 86400, now, 60).resolution, 'hour');
  assert.equal(s.history('offset_ns', now - 86400 / 2 - 3600, now, 1).resolution, 'second');
  assert.ok(s.vacuum(10_000).freed > 0);
  s.close();
});

test('each part of the range is read from the table that holds it: rollups first, then the seconds they have not reached', () => {
  const now = T0 + 3 * 3600;
  const s = new HistoryStore(opts(join(dir(), 'h.db')), () => now);
  for (let t = T0; t < T0 + 3 * 3600; t++) s.addSample(sample(t));
  s.flush();
  // The rollups ran two hours ago and not since: the last hour is only in the seconds.
  s.rollup(T0 + 2 * 3600 + 5, 5);
  const h = s.history('offset_ns', T0, T0 + 3 * 3600, 3600);
  assert.deepEqual(h.parts.map((p) => [p.resolution, p.fromS - T0, p.toS - T0, p.points]), [['hour', 0, 7200, 2], ['second', 7200, 10800, 3600]]);
  assert.deepEqual(h.points.map((p) => p.n), [3600, 3600, 3600]);
  assert.deepEqual([h.resolution, h.stepS], ['hour', 3600]);
  const third = summarize(Array.from({ length: 3600 }, (_, i) => sample(T0 + 7200 + i).values[0]!))!;
  assert.ok(Math.abs(h.points[2]!.mean - third.mean) < 1e-9);
  // With no rollup at all (a new agent), every bucket comes from the seconds.
  const fresh = new HistoryStore(opts(join(dir(), 'h.db')), () => now);
  for (let t = T0; t < T0 + 300; t++) fresh.addSample(sample(t));
  fresh.flush();
  const f = fresh.history('offset_ns', T0 - 6 * 3600, T0 + 300, 600);
  assert.deepEqual([f.resolution, f.stepS, f.points.map((p) => p.n)], ['second', 600, [300]]);
  fresh.close();
  // Seconds pruned up to the middle of a minute: that minute comes whole from its rollup, and the
  // seconds take over after it, so no second is counted twice.
  s.database!.prepare('DELETE FROM samples WHERE t < ?').run(T0 + 90);
  const m = s.history('offset_ns', T0, T0 + 300, 1);
  assert.deepEqual(m.parts.map((p) => [p.resolution, p.fromS - T0, p.toS - T0]), [['minute', 0, 90], ['second', 120, 300]]);
  assert.equal(m.points.reduce((a, p) => a + p.n, 0), 300);
  assert.deepEqual([m.resolution, m.stepS], ['minute', 60]);
  s.close();
});

test('the buffer is bounded while the disk fails: samples go first, each counted', () => {
  const s = new HistoryStore(opts(join(dir(), 'h.db'), { maxPending: 5 }), () => T0);
  s.addEvent({ tNs: 1n, type: 'fixLost', data: {} });
  for (let t = 0; t < 10; t++) s.addSample(sample(T0 + t));
  assert.equal(s.stats.pending, 5);
  assert.equal(s.stats.dropped, 6);
  s.flush();
  assert.equal(s.eventsBetween(0n, 10n).length, 1);
  assert.deepEqual(s.history('offset_ns', T0, T0 + 10, 1).points.map((p) => p.t), [T0 + 6, T0 + 7, T0 + 8, T0 + 9]);
  s.close();
});

test('a truncated database is moved aside, loudly, and a new one started', () => {
  const d = dir();
  const path = join(d, 'h.db');
  const s = new HistoryStore(opts(path), () => T0);
  for (let t = T0; t < T0 + 20_000; t++) s.addSample(sample(t));
  s.flush();
  s.close();
  truncateSync(path, Math.floor(statSync(path).size / 2));
  const problems: StoreProblem[] = [];
  const s2 = new HistoryStore(opts(path), () => T0 + 1, (p) => problems.push(p));
  assert.ok(s2.open());
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.kind, 'movedAside');
  assert.match(problems[0]!.detail, /malformed|not a database/);
  const aside = readdirSync(d).filter((f) => f.includes('.corrupt-'));
  assert.ok(aside.some((f) => /^h\.db\.corrupt-\d{8}T\d{6}$/.test(f)), aside.join(','));
  assert.equal(s2.stats.movedAside.length, 1);
  s2.addSample(sample(T0 + 1));
  assert.ok(s2.flush());
  assert.equal(s2.history('offset_ns', T0, T0 + 5, 1).points.length, 1);
  s2.close();
  // Garbage that is not a database at all is treated the same way.
  writeFileSync(path, 'this is not sqlite'.repeat(100));
  for (const f of ['-wal', '-shm']) if (existsSync(path + f)) writeFileSync(path + f, '');
  const s3 = new HistoryStore(opts(path), () => T0 + 2);
  assert.ok(s3.open());
  assert.equal(s3.stats.movedAside.length, 1);
  s3.close();
});

test('under the unit\'s umask 0077 the history and its backups are still 0640 in a 0750 directory: the agent\'s group reads them (stratum1 history)', async () => {
  const old = process.umask(0o077);
  try {
    const d = dir();
    const s = new HistoryStore(opts(join(d, 'h.db')), () => T0);
    for (let t = T0; t < T0 + 10; t++) s.addSample(sample(t));
    s.flush();
    const u = new Upkeep(s, {
      schedules: { rollup: '* * * * *', prune: '7 * * * *', vacuum: '17 * * * *', integrity: '23 3 * * *', backup: '43 3 * * *' },
      backupDir: join(d, 'backups'), backupsKept: 2, vacuumPages: 100, settleS: 5,
    }, new SimClock(BigInt(T0 + 20) * 1_000_000_000n), () => {});
    const b = await u.run('backup');
    assert.equal(b.ok, true, `the backup ran: ${b.detail}`);
    const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);
    assert.equal(mode(join(d, 'h.db')), '640', 'the history is 0640');
    assert.equal(mode(join(d, 'backups')), '750', 'the backup directory is 0750');
    const files = readdirSync(join(d, 'backups'));
    assert.equal(files.length, 1, `one backup: ${files.join(' ')}`);
    assert.equal(mode(join(d, 'backups', files[0]!)), '640', 'the backup is 0640');
    s.close();
  } finally {
    process.umask(old);
  }
});

test('upkeep jobs: integrity check and backup in a worker, the newest N backups kept, results recorded', async () => {
  const d = dir();
  const s = new HistoryStore(opts(join(d, 'h.db')), () => T0);
  for (let t = T0; t < T0 + 600; t++) s.addSample(sample(t));
  s.flush();
  const clock = new SimClock(BigInt(T0 + 700) * 1_000_000_000n);
  const seen: JobName[] = [];
  const u = new Upkeep(s, {
    schedules: { rollup: '* * * * *', prune: '7 * * * *', vacuum: '17 * * * *', integrity: '23 3 * * *', backup: '43 3 * * *' },
    backupDir: join(d, 'backups'), backupsKept: 2, vacuumPages: 100, settleS: 5,
  }, clock, (j) => seen.push(j));
  const r = await u.run('rollup');
  assert.equal(r.ok, true);
  assert.match(r.detail, /^10 minutes/);
  const i = await u.run('integrity');
  assert.equal(i.ok, true, i.detail);
  assert.equal(i.detail, 'ok');
  for (let k = 0; k < 3; k++) {
    const b = await u.run('backup');
    assert.equal(b.ok, true, b.detail);
    clock.advance(86_400_000); // not started: nothing is scheduled, the clock only dates the backups
  }
  const backups = readdirSync(join(d, 'backups')).sort();
  assert.equal(backups.length, 2);
  const copy = new Database(join(d, 'backups', backups[1]!), { readonly: true });
  assert.equal(copy.prepare('SELECT count(*) FROM samples').pluck().get(), 600);
  assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok');
  copy.close();
  assert.deepEqual(seen, ['rollup', 'integrity', 'backup', 'backup', 'backup']);
  assert.equal(u.jobs.backup.runs, 3);
  // A damaged file fails the worker's integrity check, and it says why. (The store itself, asked to
  // flush, would find the damage with its quick check at open and move the file aside.)
  s.close();
  // The workers' connections were closed when their answers came, so the agent's close was the last
  // and checkpointed everything into the file: the damage below is to the only copy of the pages.
  const wal = join(d, 'h.db-wal');
  assert.ok(!existsSync(wal) || statSync(wal).size === 0, `the WAL is still there after close (${existsSync(wal) ? statSync(wal).size : 0} bytes)`);
  const bytes = readFileSync(join(d, 'h.db'));
  for (let off = 4096 * 3; off < bytes.length; off += 4096) bytes.fill(0x5a, off, off + 12); // b-tree page headers
  writeFileSync(join(d, 'h.db'), bytes);
  const bad = await runInWorker('integrity', join(d, 'h.db'));
  assert.equal(bad.ok, false);
  assert.ok(bad.detail.length > 0 && bad.detail !== 'ok', bad.detail);
});
