/**
 * InfluxDB down and the disk full at the same time, on the real agent (a small tmpfs as its state
 * directory, filled up; InfluxDB a local HTTP stand-in that refuses, then accepts). Found by issue 15:
 * the queue's SQLITE_FULL was thrown inside the failure path before the retry was scheduled (an
 * uncaught exception a second, and the exporter never resumed), Status counted points that were not
 * on disk, nothing was dropped or alarmed, and SIGTERM hung. Now time goes on, the loss is counted and
 * alarmed, both recover, and a SIGTERM ends the agent within 10 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { startAgent, agentConfig } from '../helpers/agent.ts';
import { freeUdpPort, freeTcpPort } from '../helpers/ports.ts';
import { mountTmpfs } from '../helpers/mounts.ts';
import { ntpStratum } from '../helpers/ntp.ts';



test('InfluxDB down and the disk full together: time goes on, the loss is counted and alarmed, both recover, SIGTERM ends it within 10 s', async (t) => {
  const dir = mountTmpfs(t, 2048, { prefix: 'influx-full-' });
  if (!dir) return;
  // The stand-in InfluxDB: refuses (503) until told to accept.
  let accept = false;
  let pointsAccepted = 0;
  const httpPort = await freeTcpPort();
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
    req.on('end', () => {
      if (!accept) return void res.writeHead(503).end('down');
      if (req.url!.startsWith('/write')) {
        pointsAccepted += body.split('\n').filter(Boolean).length;
        return void res.writeHead(204).end();
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{"statement_id":0}]}');
    });
  });
  await new Promise<void>((r) => srv.listen(httpPort, '127.0.0.1', () => r()));
  const conf = mkdtempSync(join(tmpdir(), 'influx-full-conf-'));
  const ntpPort = await freeUdpPort();
  writeFileSync(join(conf, 'agent.yaml'), agentConfig(dir, ['127.0.0.1'], ntpPort) + [
    'influx:', '  enabled: true', `  url: http://127.0.0.1:${httpPort}`, '  interval_s: 1', '  timeout_ms: 500', '  queue_max_points: 200',
    'alarms:', '  database_write: { clear_after_s: 1 }', '',
  ].join('\n'));
  const filler = join(dir, 'filler');
  let a;
  try {
    a = await startAgent(join(conf, 'agent.yaml'));
    await a.waitFor((s) => s.influx.failures > 0 && s.store.flushes > 0, 20_000, 'InfluxDB refusing, the history written');
    // The disk fills up while InfluxDB is away.
    spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdio: 'ignore' });
    const bad = await a.waitFor((s) => s.alarms.find((x) => x.name === 'export_loss')!.severity === 'critical' &&
      s.alarms.find((x) => x.name === 'database_write')!.severity === 'critical', 40_000, 'export_loss and database_write');
    assert.ok(bad.influx.dropped > 0, 'the loss is counted');
    assert.ok(bad.influx.queued <= 200 + 60, `queued ${bad.influx.queued}: bounded by queue_max_points (and one set in memory)`);
    assert.equal(await ntpStratum(ntpPort), bad.discipline.stratum, 'NTP served throughout');
    assert.doesNotMatch(a.out(), /uncaught exception/);
    // Both recover: the disk has room again and InfluxDB accepts.
    rmSync(filler);
    accept = true;
    const good = await a.waitFor((s) => s.influx.queued < 40 && s.influx.written > bad.influx.written && s.store.healthy &&
      s.alarms.find((x) => x.name === 'database_write')!.severity === 'none', 60_000, 'writes resumed, the history healthy');
    assert.ok(pointsAccepted > 0);
    assert.equal(good.store.dropped, 0, 'the history lost nothing: the queue did not take its room');
    assert.doesNotMatch(a.out(), /uncaught exception/);
    // The disk full again, InfluxDB away again, then SIGTERM: ends within 10 s, cleanly.
    accept = false;
    spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 3000));
    const t0 = Date.now();
    const exited = new Promise<number | null>((r) => a!.proc.once('exit', (code: number | null) => r(code)));
    a.proc.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))]);
    assert.notEqual(code, 'hung', 'SIGTERM ended the agent within 10 s');
    assert.equal(code, 0, a.out().slice(-1500));
    t.diagnostic(`stopped in ${Date.now() - t0} ms`);
  } finally {
    if (a && a.proc.exitCode === null && a.proc.signalCode === null) a.proc.kill('SIGKILL');
    srv.close();
    spawnSync('umount', ['-l', dir]);
    rmSync(conf, { recursive: true, force: true });
  }
});
