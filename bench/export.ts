/**
 * Export benchmark, against a private influxd (Debian's influxdb) on loopback. Ends with ONE JSON line.
 * 1. Points per second the writer sustains: the exporter fed as fast as it takes them (sets of points
 *    from a real Status of the agent on the simulator, about 20 points a set), drained in batches.
 * 2. Replay after an outage: 100 000 points queued in SQLite while influxd is stopped, then drained.
 * 3. CPU per interval: process.cpuUsage() around 2000 sets made and written, divided; at the default
 *    10 s interval that is the cost per hour and the share of one core.
 * 4. The /metrics exposition: CPU per scrape.
 * No reference beside it: no other exporter of these figures exists here (Telegraf is not in Debian 12).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimClock, fromDate } from '../src/time/index.ts';
import { Logger } from '../src/log.ts';
import { Service } from '../src/service.ts';
import { defaultConfig } from '../src/config/config.ts';
import { InfluxExporter } from '../src/export/influx.ts';
import { exposition } from '../src/export/prometheus.ts';
import { SystemClock } from '../src/time/index.ts';
import { influxd } from '../test/helpers/influxd.ts';

// `--quick` (the smoke test inside npm test): a tenth of every count.
const quick = process.argv.includes('--quick');
const k = quick ? 10 : 1;

// A real Status: the agent on the simulator, ten minutes in (virtual time).
const cfg = defaultConfig();
cfg.receiver.source = 'simulator';
cfg.pps.source = 'simulator';
cfg.ntp.enabled = false;
cfg.store.enabled = false;
cfg.discipline.leap_seconds_file = '';
cfg.agent.state_dir = mkdtempSync(join(tmpdir(), 'bench-export-'));
const sim = new SimClock(fromDate(new Date('2026-11-25T12:00:00Z')));
const svc = new Service(cfg, { clock: sim, simulate: true, log: new Logger(sim, { level: 'error', repeatPerMinute: 1 }, { write: () => {} }), listen: false });
await svc.start();
sim.advance(600_000);
const status = svc.status();
await svc.stop();

const db = await influxd();
const clock = new SystemClock();
const quiet = () => {};
function exporter(name: string, batch = 5000) {
  return new InfluxExporter({
    url: db.url, database: 'bench', retentionPolicy: '', username: '', password: '', createDatabase: true, intervalS: 3600,
    batchPoints: batch, timeoutMs: 10_000, tags: { host: 'bench', source: 'simulator' },
    queue: { path: join(cfg.agent.state_dir, `${name}.db`), maxPoints: 10_000_000, maxAgeS: 86400 * 30 },
  }, clock, () => status, quiet);
}
const waitDrained = async (x: InfluxExporter) => {
  while (x.snapshot(String).queued > 0) await new Promise((r) => setTimeout(r, 5));
};

// 1. Sustained rate.
const e1 = exporter('rate');
e1.start();
await waitDrained(e1);
const sets = 5000 / k;
let t0 = performance.now();
const w0 = e1.stats.written;
for (let i = 0; i < sets; i++) e1.tick(status); // timestamps from the host clock: each set distinct
await waitDrained(e1);
const rateS = (performance.now() - t0) / 1000;
const points1 = e1.stats.written - w0;
const pointsPerSet = points1 / sets;
await e1.stop();
console.log(`sustained: ${points1} points (${pointsPerSet.toFixed(1)} a set) in ${rateS.toFixed(2)} s: ${Math.round(points1 / rateS)} points/s`);

// 2. Replay of a backlog.
await db.stop();
const e2 = exporter('replay');
e2.start();
for (let i = 0; i < Math.ceil(100_000 / k / pointsPerSet); i++) e2.tick(status);
while (e2.stats.failures === 0 || e2.snapshot(String).queued < 90_000 / k) await new Promise((r) => setTimeout(r, 20));
const backlog = e2.snapshot(String).queued;
await db.start();
t0 = performance.now();
await waitDrained(e2);
const replayS = (performance.now() - t0) / 1000;
await e2.stop();
console.log(`replay: ${backlog} queued points in ${replayS.toFixed(2)} s after influxd returned: ${Math.round(backlog / replayS)} points/s (includes the retry back-off wait)`);

// 3. CPU per interval.
const e3 = exporter('cpu');
e3.start();
await waitDrained(e3);
const n = 2000 / k;
const c0 = process.cpuUsage();
for (let i = 0; i < n; i++) {
  e3.tick(status);
  if (i % 50 === 49) await waitDrained(e3); // in small groups, as the agent sends them
}
await waitDrained(e3);
const c1 = process.cpuUsage(c0);
await e3.stop();
const cpuPerSetUs = (c1.user + c1.system) / n;
const perHourS = (cpuPerSetUs * 360) / 1e6;
console.log(`CPU per interval (make and write ${pointsPerSet.toFixed(0)} points): ${cpuPerSetUs.toFixed(0)} us; at 10 s: ${perHourS.toFixed(3)} CPU s an hour (${(perHourS / 36).toFixed(4)} % of a core)`);

// 4. Prometheus exposition.
const p0 = process.cpuUsage();
let bytes = 0;
for (let i = 0; i < 2000 / k; i++) bytes = exposition(status).length;
const p1 = process.cpuUsage(p0);
const scrapeUs = (p1.user + p1.system) / (2000 / k);
console.log(`/metrics: ${bytes} bytes, ${scrapeUs.toFixed(0)} us of CPU a scrape`);

await db.stop();
clock.stop();
console.log(JSON.stringify({
  bench: 'export', quick, pointsPerSet: +pointsPerSet.toFixed(1), sustainedPointsPerS: Math.round(points1 / rateS),
  replayPointsPerS: Math.round(backlog / replayS), replayBacklog: backlog,
  cpuPerIntervalUs: Math.round(cpuPerSetUs), cpuSecondsPerHourAt10s: +perHourS.toFixed(4), coreShareAt10sPercent: +(perHourS / 36).toFixed(5),
  metricsScrapeCpuUs: Math.round(scrapeUs), metricsBytes: bytes,
}));
process.exit(0);
