/**
 * History store benchmark (the SD-card budget). Ends with ONE JSON line of its figures.
 * 1. Bytes written per hour at 1 Hz: an hour of the agent's writing pattern (one sample a second and a
 *    few events, a flush every 10 s, the rollups every 5 minutes, one prune and one vacuum),
 *    compressed in time, measured from /proc/self/io: `wchar` (what SQLite passed to write calls) and
 *    `write_bytes` (what the kernel sent towards the disk for this process). Then the real agent on the
 *    simulator for 120 s, measured from /proc/PID/io, scaled to an hour.
 * 2. Database size per 30 days with rollups and the default retention (3 days of seconds, 60 of minutes):
 *    30 days of samples written hour by hour with the rollups and daily prunes the agent runs.
 * 3. Query time on that database: 30 days at 1 h and at 1 m steps, 24 h at 1 s; the quick check the
 *    agent runs at open; the integrity check and backup in the worker.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HistoryStore, type Retention } from '../src/store/store.ts';
import { SAMPLE_METRICS, type Sample } from '../src/store/metrics.ts';
import { runInWorker } from '../src/store/upkeep.ts';
import { defaultConfig } from '../src/config/config.ts';

const here = dirname(fileURLToPath(import.meta.url));
// On the real disk beside the checkout, not tmpfs: write_bytes is only counted for a block device.
const work = mkdtempSync(join(resolve(here, '..'), '.bench-store-'));
const cfg = defaultConfig().store;
const RET: Retention = { samplesDays: cfg.retention.samples_days, minuteDays: cfg.retention.minute_days, hourDays: cfg.retention.hour_days, eventsDays: cfg.retention.events_days };
const FLUSH_S = cfg.flush_interval_s;
// `--quick` (the smoke test inside npm test): 2 days instead of 30, the live agent for 5 s.
const quick = process.argv.includes('--quick');
const DAYS = quick ? 2 : 30;
const T0 = 1_790_000_000 - (1_790_000_000 % 86400);

function io(pid: number | 'self' = 'self'): { wchar: number; writeBytes: number } {
  const t = readFileSync(`/proc/${pid}/io`, 'utf8');
  const get = (k: string) => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(t)![1]);
  return { wchar: get('wchar'), writeBytes: get('write_bytes') };
}

/** A plausible second: a locked clock with noise, 9-11 satellites. */
function sample(t: number): Sample {
  const noise = Math.sin(t * 12.9898) * 43758.5453 % 1;
  const v: Record<string, number> = {
    offset_ns: noise * 400, frequency_ppb: 20_000 + noise, time_error_ns: 700 + noise * 50, pps_jitter_ns: 250 + noise * 10,
    satellites_used: 9 + (t % 3), satellites_in_view: 11 + (t % 2), pdop: 1.6 + noise / 10, hdop: 0.9 + noise / 10, fix_mode: 3,
    state: 3, ntp_requests_per_s: Math.abs(noise) * 50, local_offset_ns: 2e8 + t * 20,
  };
  return { t, values: SAMPLE_METRICS.map((m) => v[m.name] ?? null) };
}

const fileSize = (p: string) => { try { return statSync(p).size; } catch { return 0; } };

// 1a. One hour of the agent's pattern.
async function hourOfWrites(): Promise<{ wchar: number; writeBytes: number; sizeAfter: number }> {
  const path = join(work, 'hour.db');
  let now = T0;
  const s = new HistoryStore({ path, busyTimeoutMs: 50, maxPending: 100_000, retention: RET }, () => now);
  s.open();
  // Settle the file first: an hour of history already there, as on a running appliance.
  for (let t = T0 - 3600; t < T0; t++) s.addSample(sample(t));
  s.flush();
  s.rollup(T0, FLUSH_S + 2);
  const before = io();
  for (now = T0; now < T0 + 3600; now++) {
    s.addSample(sample(now));
    if (now % 600 === 0) s.addEvent({ tNs: BigInt(now) * 1_000_000_000n, type: 'alarmRaised', data: { name: 'satellites_used', severity: 'warning', value: 3, threshold: 4 } });
    if ((now + 1) % FLUSH_S === 0) s.flush();
    if (now % 300 === 0) s.rollup(now, FLUSH_S + 2); // the default schedule: every 5 minutes
  }
  s.prune(now);
  s.vacuum(2000);
  const after = io();
  const sizeAfter = s.sizeBytes();
  s.close();
  return { wchar: after.wchar - before.wchar, writeBytes: after.writeBytes - before.writeBytes, sizeAfter };
}

// 1b. The real agent on the simulator for 120 s.
async function liveAgent(seconds: number): Promise<{ wchar: number; writeBytes: number; seconds: number }> {
  const dir = mkdtempSync(join(work, 'agent-'));
  const conf = join(dir, 'agent.yaml');
  writeFileSync(conf, ['receiver:', '  source: simulator', 'control:', '  http: { address: 127.0.0.1, port: 0 }', 'prometheus:', '  port: 0', 'ntp:', '  enabled: false',
    'logging:', '  level: error', 'agent:', `  state_dir: ${JSON.stringify(dir)}`, ''].join('\n'));
  const p = spawn(process.execPath, [resolve(here, '../bin/stratum1.js'), 'run', '--simulate', '--config', conf], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  p.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  while (!out.includes('listening:')) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, quick ? 2000 : 15_000)); // past start-up (the first flushes create the schema)
  const a = io(p.pid!);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const b = io(p.pid!);
  const s = (performance.now() - t0) / 1000;
  p.kill('SIGTERM');
  await new Promise((r) => p.once('exit', r));
  return { wchar: b.wchar - a.wchar, writeBytes: b.writeBytes - a.writeBytes, seconds: s };
}

// 2. Thirty days, written hour by hour (batched: the resulting pages are the same), rolled up and pruned.
function thirtyDays(path: string): { sizeBytes: number; rows: Record<string, number>; buildS: number } {
  let now = T0;
  const s = new HistoryStore({ path, busyTimeoutMs: 50, maxPending: 10_000_000, retention: RET }, () => now);
  s.open();
  const t0 = performance.now();
  for (let h = 0; h < DAYS * 24; h++) {
    for (let k = 0; k < 3600; k++) s.addSample(sample(T0 + h * 3600 + k));
    for (let e = 0; e < 4; e++) s.addEvent({ tNs: BigInt(T0 + h * 3600 + e * 900) * 1_000_000_000n, type: 'lockStateChanged', data: { from: 'LOCKED', to: 'HOLDOVER', reason: 'bench' } });
    now = T0 + (h + 1) * 3600;
    s.flush();
    s.rollup(now + FLUSH_S + 2, FLUSH_S + 2);
    if (h % 24 === 23) {
      s.prune(now);
      s.vacuum(1_000_000);
    }
  }
  const db = s.database!;
  const rows = Object.fromEntries(['samples', 'rollup_1m', 'rollup_1h', 'events'].map((t) => [t, db.prepare(`SELECT count(*) FROM ${t}`).pluck().get() as number]));
  s.close();
  return { sizeBytes: fileSize(path) + fileSize(`${path}-wal`), rows, buildS: (performance.now() - t0) / 1000 };
}

function timeIt(fn: () => unknown, n = 5): number {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)]!;
}

const hour = await hourOfWrites();
console.log(`an hour at 1 Hz (flush every ${FLUSH_S} s): wchar ${(hour.wchar / 1e6).toFixed(2)} MB, write_bytes ${(hour.writeBytes / 1e6).toFixed(2)} MB`);
const live = await liveAgent(quick ? 5 : 120);
const perHour = (b: number) => (b / live.seconds) * 3600;
console.log(`the agent on the simulator, ${live.seconds.toFixed(0)} s: wchar ${(perHour(live.wchar) / 1e6).toFixed(2)} MB/h, write_bytes ${(perHour(live.writeBytes) / 1e6).toFixed(2)} MB/h`);

const path = join(work, 'month.db');
const month = thirtyDays(path);
console.log(`${DAYS} days: ${(month.sizeBytes / 1e6).toFixed(1)} MB (${JSON.stringify(month.rows)}), built in ${month.buildS.toFixed(1)} s`);

const nowS = T0 + DAYS * 86400;
let q: HistoryStore | undefined;
const openMs = timeIt(() => {
  q?.close();
  q = new HistoryStore({ path, busyTimeoutMs: 50, maxPending: 10, retention: RET }, () => nowS);
  q.open(); // includes the quick check
}, 3);
const store = q!;
let points = 0;
const q30h = timeIt(() => { points = store.history('time_error_ns', nowS - DAYS * 86400, nowS, 3600).points.length; });
const p30h = points;
const q30m = timeIt(() => { points = store.history('time_error_ns', nowS - DAYS * 86400, nowS, 60).points.length; });
const p30m = points;
const q24s = timeIt(() => { points = store.history('offset_ns', nowS - 86400, nowS, 1).points.length; });
const p24s = points;
store.close();
let t = performance.now();
const integ = await runInWorker('integrity', path);
const integrityMs = performance.now() - t;
t = performance.now();
const backup = await runInWorker('backup', path, join(work, 'backup.db'));
const backupMs = performance.now() - t;
console.log(`open with quick check ${openMs.toFixed(0)} ms; ${DAYS} days at 1 h: ${q30h.toFixed(1)} ms (${p30h} points, hour table); ` +
  `${DAYS} days at 1 m rollups: ${q30m.toFixed(1)} ms (${p30m} points); 24 h at 1 s: ${q24s.toFixed(1)} ms (${p24s} points); ` +
  `integrity check ${integrityMs.toFixed(0)} ms (${integ.detail}), backup ${backupMs.toFixed(0)} ms (${backup.ok})`);
rmSync(work, { recursive: true, force: true });

console.log(JSON.stringify({
  bench: 'store', quick, days: DAYS, flushIntervalS: FLUSH_S,
  hourPattern: { wcharMBPerHour: +(hour.wchar / 1e6).toFixed(3), writeBytesMBPerHour: +(hour.writeBytes / 1e6).toFixed(3) },
  agent: { seconds: +live.seconds.toFixed(1), wcharMBPerHour: +(perHour(live.wchar) / 1e6).toFixed(3), writeBytesMBPerHour: +(perHour(live.writeBytes) / 1e6).toFixed(3) },
  db30DaysMB: +(month.sizeBytes / 1e6).toFixed(2), rows30Days: month.rows,
  query30DaysHourlyMs: +q30h.toFixed(2), query30DaysMinuteMs: +q30m.toFixed(2), query24hSecondsMs: +q24s.toFixed(2),
  openQuickCheckMs: +openMs.toFixed(1), integrityCheckMs: +integrityMs.toFixed(1), backupMs: +backupMs.toFixed(1),
}));
