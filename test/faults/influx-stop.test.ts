/**
 * Found by the fault matrix (matrix.test.ts): with InfluxDB down, SIGTERM took the agent anything from
 * milliseconds to over 10 s to end (4.8 s in one run). The client library's pool takes a host that
 * failed out of service behind a plain setTimeout of up to 10 s (its own exponential backoff, on top
 * of the exporter's), which nothing cancels at stop and which keeps the process alive; until it fires,
 * every retry fails with "No host available" without trying. Here an exporter whose InfluxDB refuses
 * connections fails six times at the server and is stopped, in a process of its own: every retry really tried, and
 * the process ends at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { ROOT } from '../helpers/env.ts';
import { freeTcpPort } from '../helpers/ports.ts';

const child = (port: number) => `
import { InfluxExporter } from './src/export/influx.ts';
import { SimClock } from './src/time/index.ts';
const clock = new SimClock(1_800_000_000_000_000_000n);
const x = new InfluxExporter({
  url: 'http://127.0.0.1:${port}', database: 'd', retentionPolicy: '', username: '', password: '', createDatabase: true,
  intervalS: 3600, batchPoints: 100, timeoutMs: 500, tags: {}, queue: { path: ':memory:', maxPoints: 1000, maxAgeS: 3600 },
}, clock, () => { throw new Error('no ticks here'); }, () => {});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const failures = async (n) => { while (x.stats.failures < n) await sleep(5); };
x.start();
// Until six requests have really failed at the server (a retry that never reached it is noted and
// made again, 50 ms later): the library's backoff, where it applies, is then 4.8 s or more.
const errors = [];
let tried = 0;
while (tried < 6) {
  if (errors.length > 0) {
    await sleep(50);
    clock.advance(30_000); // the exporter's own retry, on its clock
  }
  await failures(errors.length + 1);
  errors.push(x.stats.lastError);
  if (/ECONNREFUSED/.test(x.stats.lastError)) tried++;
}
await x.stop();
process.stdout.write(JSON.stringify({ errors }) + '\\n');
`;

test('InfluxDB down: every retry of the exporter tries, and a stopped exporter leaves nothing that keeps the process alive', async () => {
  const port = await freeTcpPort(); // nothing listens there
  const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child(port)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let stoppedAt = 0;
  p.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (out.includes('\n') && !stoppedAt) stoppedAt = performance.now();
  });
  const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  const exitMs = performance.now() - stoppedAt;
  assert.equal(code, 0);
  assert.ok(exitMs < 3000, `the process ended ${Math.round(exitMs)} ms after the exporter stopped`);
  const { errors } = JSON.parse(out) as { errors: string[] };
  assert.equal(errors.length, 6, `every retry tried the server: ${JSON.stringify(errors)}`);
});
