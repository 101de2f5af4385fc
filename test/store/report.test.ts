/**
 * The history commands and the HTML report, on a history the agent recorded in virtual time: two
 * hours with the antenna unplugged for 20 minutes (fix lost, holdover, alarms). The report is rendered
 * by headless Chromium (Debian's chromium) and its screenshot checked for non-empty charts. The
 * recording starts relative to the host's now, so the test means the same on any date; the first
 * minutes of a new agent and a range only the minute table still covers are tested here too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { PNG } from 'pngjs';
import { simConfig, virtualService, recentStart } from '../helpers/virtual.ts';
import { requirePeers, ROOT } from '../helpers/env.ts';
import { COLOURS } from '../../src/report/report.ts';
import { BIN } from '../helpers/agent.ts';
import { HistoryStore } from '../../src/store/store.ts';
import { SAMPLE_METRICS } from '../../src/store/metrics.ts';

const HOURS = 2;
// Three hours ago, so the two recorded hours end an hour before now.
const START = recentStart(180);
const startS = Number(START / 1_000_000_000n);
const endS = startS + HOURS * 3600;

async function recordHistory(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'report-'));
  const { clock, svc } = virtualService(simConfig((c) => {
    c.agent.state_dir = dir;
    c.discipline.leap_seconds_file = '';
    c.simulator.faults = [{ at_s: 2400, kind: 'antenna_unplugged', duration_s: 1200, value: 0 }];
  }), START);
  await svc.start();
  clock.advance(HOURS * 3600 * 1000);
  await svc.history!.upkeep.run('rollup');
  await svc.stop();
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(cfg, `agent:\n  state_dir: ${JSON.stringify(dir)}\n  name: report-test\n`);
  return cfg;
}

const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
const until = new Date(endS * 1000).toISOString();
/** Written by the first test, rendered by the second (tests in a file run in order). */
let reportPath = '';

test('history, events and report read what the agent recorded', async () => {
  const cfg = await recordHistory();
  // Minute rollups of the time error: 120 minutes, larger while the antenna was out.
  const h = cli('history', 'time_error_ns', '--config', cfg, '--since', '2h', '--until', until, '--every', '1m', '--json');
  assert.equal(h.status, 0, h.stderr);
  const j = JSON.parse(h.stdout) as { resolution: string; points: { t: number; n: number; mean: number; max: number }[] };
  assert.equal(j.resolution, 'minute');
  assert.ok(j.points.length >= 115 && j.points.length <= 120, `${j.points.length} minutes`);
  const at = (min: number) => j.points.find((p) => p.t === startS + min * 60)!;
  assert.ok(at(55).max > 5 * at(30).max, `holdover error ${at(55).max} vs locked ${at(30).max}`);
  const csv = cli('history', 'satellites_used', '--config', cfg, '--since', '2h', '--until', until, '--every', '10m', '--csv');
  assert.equal(csv.status, 0, csv.stderr);
  const rows = csv.stdout.trim().split('\n');
  assert.equal(rows[0], 'time,t,n,mean,min,max,sd');
  assert.ok(rows.slice(1).some((r) => r.split(',')[4] === '0'), 'a bucket with no satellites used (antenna out)');
  const ev = cli('events', '--config', cfg, '--since', '3h', '--until', until, '--type', 'alarmRaised', '--type', 'fixLost', '--json');
  assert.equal(ev.status, 0, ev.stderr);
  const types = ev.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { type: string; name?: string }));
  assert.equal(types.filter((e) => e.type === 'fixLost').length, 1);
  assert.ok(types.some((e) => e.type === 'alarmRaised' && e.name === 'fix_lost'));
  const bad = cli('history', 'offset', '--config', cfg);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown metric "offset": one of offset_ns/);
  const badSince = cli('history', 'offset_ns', '--config', cfg, '--since', 'yesterday');
  assert.equal(badSince.status, 2);
  assert.match(badSince.stderr, /--since takes a duration such as 90s/);
  const none = cli('history', 'offset_ns', '--config', join(tmpdir(), 'no-such-config.yaml'));
  assert.equal(none.status, 2);

  const out = join(mkdtempSync(join(tmpdir(), 'report-out-')), 'report.html');
  const r = cli('report', '--config', cfg, '--since', '2h', '--until', until, '--out', out);
  assert.equal(r.status, 0, r.stderr);
  const html = readFileSync(out, 'utf8');
  // Self-contained: nothing fetched, no script.
  assert.doesNotMatch(html, /<script|\bsrc=|href=|url\(/i);
  assert.match(html, /report-test: time server report/);
  for (const c of [COLOURS.offset, COLOURS.error, COLOURS.used, COLOURS.inView, COLOURS.state.LOCKED!, COLOURS.state.HOLDOVER!]) assert.ok(html.includes(c), c);
  reportPath = out;
});

test('the report renders in headless Chromium with non-empty charts', async (t) => {
  if (!requirePeers(t, 'chromium')) return;
  const out = reportPath;
  assert.ok(out && existsSync(out), 'the report of the previous test');
  const png = join(mkdtempSync(join(tmpdir(), 'shot-')), 'report.png');
  const r = spawnSync('chromium', [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${mkdtempSync(join(tmpdir(), 'chromium-'))}`,
    '--force-device-scale-factor=1', '--hide-scrollbars', '--window-size=1200,1500', `--screenshot=${png}`, `file://${out}`,
  ], { encoding: 'utf8', timeout: 60_000 });
  assert.ok(existsSync(png), `no screenshot: ${r.stderr}`);
  const img = PNG.sync.read(readFileSync(png));
  assert.equal(img.width, 1200);
  const counts = new Map<string, number>();
  for (let i = 0; i < img.data.length; i += 4) {
    const hex = `#${[img.data[i]!, img.data[i + 1]!, img.data[i + 2]!].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
    counts.set(hex, (counts.get(hex) ?? 0) + 1);
  }
  // Each series colour covers far more than its legend swatch (14 x 4 or 14 x 10 pixels): the line
  // or band is drawn across the chart.
  const need: [string, string, number][] = [
    ['offset line', COLOURS.offset, 800], ['time error line', COLOURS.error, 800],
    ['satellites used line', COLOURS.used, 800], ['satellites in view line', COLOURS.inView, 800],
    ['LOCKED state band', COLOURS.state.LOCKED!, 3000], ['HOLDOVER state band', COLOURS.state.HOLDOVER!, 600],
    ['critical alarm bars', COLOURS.alarm.critical!, 600],
  ];
  const seen = need.map(([what, colour, min]) => `${what} ${colour}: ${counts.get(colour) ?? 0} px (need ${min})`);
  for (const [what, colour, min] of need) assert.ok((counts.get(colour) ?? 0) >= min, `${what}: ${seen.join('; ')}`);
  console.log(`report screenshot: ${seen.join('; ')}`);
});

const writeAgentConfig = (dir: string, name: string) => {
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(cfg, `agent:\n  state_dir: ${JSON.stringify(dir)}\n  name: ${name}\n`);
  return cfg;
};

test('a range only the minute table still covers: history and report say one point per minute and draw lines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'minute-only-'));
  const nowS = Math.floor(Date.now() / 1000);
  const t0 = nowS - 10 * 86400 - (nowS % 3600); // ten days ago, on an hour: past the seconds' retention
  let now = t0;
  const store = new HistoryStore({
    path: join(dir, 'history.db'), busyTimeoutMs: 50, maxPending: 100_000,
    retention: { samplesDays: 3, minuteDays: 60, hourDays: 730, eventsDays: 365 },
  }, () => now);
  for (let t = t0; t < t0 + 7200; t++) {
    store.addSample({ t, values: SAMPLE_METRICS.map((m) => (m.name === 'offset_ns' ? 100 * Math.sin(t / 300) : m.name === 'state' ? 3 : 9)) });
  }
  assert.ok(store.flush());
  store.rollup(t0 + 7200 + 60, 5);
  now = nowS;
  assert.equal(store.prune(nowS).samples, 7200, 'the seconds are pruned: only the rollups hold this range');
  store.close();
  const cfg = writeAgentConfig(dir, 'minute-only');
  const range = ['--since', '2h', '--until', new Date((t0 + 7200) * 1000).toISOString()];
  // Asked for 10 s buckets: the answer is one point a minute, and it says so.
  const h = cli('history', 'offset_ns', '--config', cfg, ...range, '--every', '10s', '--json');
  assert.equal(h.status, 0, h.stderr);
  const j = JSON.parse(h.stdout) as { resolution: string; stepS: number; points: { n: number }[] };
  assert.deepEqual([j.resolution, j.stepS, j.points.length], ['minute', 60, 120]);
  assert.ok(j.points.every((p) => p.n === 60));
  const text = cli('history', 'offset_ns', '--config', cfg, ...range, '--every', '10s');
  assert.match(text.stdout, /one point per 60 s, from the minute table: 120 points/);
  const out = join(dir, 'report.html');
  const r = cli('report', '--config', cfg, ...range, '--out', out);
  assert.equal(r.status, 0, r.stderr);
  const html = readFileSync(out, 'utf8');
  assert.match(html, /one point per 60 s \(from the minute table\)/);
  // Lines, not a dot per point: one polyline of the offset's colour across the range, no 3 x 3 dots.
  const polylines = [...html.matchAll(new RegExp(`<polyline points="([^"]*)" fill="none" stroke="${COLOURS.offset}"`, 'g'))];
  assert.equal(polylines.length, 1);
  assert.equal(polylines[0]![1]!.split(' ').length, 120);
  assert.doesNotMatch(html, new RegExp(`width="3" height="3" fill="${COLOURS.offset}"`));
});

test("a new agent's first minutes: history and report answer from the seconds the rollups have not reached", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'first-minutes-'));
  const { clock, svc } = virtualService(simConfig((c) => {
    c.agent.state_dir = dir;
    c.discipline.leap_seconds_file = '';
    for (const job of Object.keys(c.store.schedules) as (keyof typeof c.store.schedules)[]) c.store.schedules[job] = ''; // no rollup runs
  }), recentStart(10));
  await svc.start();
  clock.advance(5 * 60 * 1000);
  await svc.stop();
  const cfg = writeAgentConfig(dir, 'first-minutes');
  const h = cli('history', 'time_error_ns', '--config', cfg, '--since', '6h', '--every', '10m', '--json');
  assert.equal(h.status, 0, h.stderr);
  const j = JSON.parse(h.stdout) as { resolution: string; points: { n: number }[] };
  assert.equal(j.resolution, 'second');
  const n = j.points.reduce((a, p) => a + p.n, 0);
  assert.ok(n >= 250 && n <= 301, `${n} seconds of samples in ${j.points.length} buckets`);
  const text = cli('history', 'time_error_ns', '--config', cfg, '--since', '6h', '--every', '10m');
  assert.match(text.stdout, /one point per 600 s, from the second table: [12] points/);
  const out = join(dir, 'report.html');
  const r = cli('report', '--config', cfg, '--since', '24h', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  // Where it cannot write: a sentence and exit 2, no stack trace (there was one); an unknown event
  // type is refused with the list of types (it gave 0 events and exit 0).
  const nowhere = cli('report', '--config', cfg, '--since', '24h', '--out', join(dir, 'no', 'such', 'dir', 'r.html'));
  assert.equal(nowhere.status, 2, nowhere.stderr);
  assert.match(nowhere.stderr, /^stratum1: cannot write the report to .*r\.html: ENOENT\n$/);
  const bogus = cli('events', '--config', cfg, '--type', 'bogus');
  assert.equal(bogus.status, 2, bogus.stderr);
  assert.match(bogus.stderr, /no event type bogus; the types are fixAcquired, .*agentStopping/);
  assert.equal(cli('events', '--config', cfg, '--type', 'lockStateChanged').status, 0);
  const html = readFileSync(out, 'utf8');
  assert.doesNotMatch(html, /no samples in this period/);
  assert.match(html, /<b>LOCKED<\/b> [\d.]+ % of recorded time/);
});
