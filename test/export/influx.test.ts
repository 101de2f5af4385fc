/**
 * The InfluxDB exporter against a real influxd (Debian's influxdb, private config on loopback), fed by
 * the agent on the simulator. A logging relay between the two records every write request that
 * influxd accepted, so the test sees the order of what arrived and whether anything came twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import { startAgent, agentConfig } from '../helpers/agent.ts';
import { requirePeers } from '../helpers/env.ts';
import { freeUdpPort, freeTcpPort } from '../helpers/ports.ts';
import { influxd } from '../helpers/influxd.ts';

/** Forwards to influxd; records the line protocol of every write influxd answered 204 to. */
async function relay(target: string): Promise<{ url: string; accepted: string[][]; close(): Promise<void> }> {
  const port = await freeTcpPort();
  const accepted: string[][] = [];
  const srv: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      fetch(`${target}${req.url}`, { method: req.method, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body, headers: { 'content-type': req.headers['content-type'] ?? 'text/plain' } })
        .then(async (r) => {
          const text = await r.text();
          if (req.url!.startsWith('/write') && r.status === 204) accepted.push(body.toString('utf8').split('\n').filter(Boolean));
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' }).end(text);
        })
        .catch(() => res.writeHead(502).end('influxd down'));
    });
  });
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${port}`, accepted, close: () => new Promise((r) => srv.close(() => r())) };
}

const tsOf = (line: string) => BigInt(line.slice(line.lastIndexOf(' ') + 1));

test('influxd stopped for a minute: every point of that minute arrives, in order, none twice', async (t) => {
  if (!requirePeers(t, 'influxd')) return;
  const db = await influxd();
  const r = await relay(db.url);
  const dir = mkdtempSync(join(tmpdir(), 'influx-'));
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(cfg, agentConfig(dir, ['127.0.0.1'], await freeUdpPort()) + [
    'influx:', '  enabled: true', `  url: ${r.url}`, '  database: s1test', '  interval_s: 1', '  timeout_ms: 1000', '',
  ].join('\n'));
  const a = await startAgent(cfg);
  try {
    // The sky view (satellites, constellations) comes every 5 s: wait for it, then for two more sets.
    const sky = await a.waitFor((s) => s.gnss.satellites.length > 0 && s.discipline.state === 'LOCKED', 60_000, 'a sky view and lock');
    await a.waitFor((s) => s.influx.written > sky.influx.written + sky.influx.queued + 40, 30_000, 'points written after the sky view');
    const measurements = (await db.query('s1test', 'SHOW MEASUREMENTS'))[0]!.values.map((v) => v[0]);
    for (const m of ['timing', 'gnss', 'constellation', 'satellite', 'pps', 'ntp', 'integrity']) assert.ok(measurements.includes(m), `${m} in ${measurements.join(',')}`);
    const tags = await db.query('s1test', 'SHOW TAG VALUES FROM "timing" WITH KEY IN ("host", "source")');
    assert.deepEqual(tags[0]!.values.map((v) => v[1]).sort(), ['simulator', 'stratum1']);

    await db.stop();
    const downAt = Date.now();
    const during = await a.waitFor((s) => s.influx.failures > 0 && s.influx.queued > 0, 20_000, 'the exporter noticing');
    assert.equal(during.discipline.state, 'LOCKED', 'time service unaffected');
    await new Promise((res) => setTimeout(res, 60_000 - (Date.now() - downAt)));
    const before = await a.status();
    assert.ok(before.influx.queued >= 50 * 6, `a minute of points queued: ${before.influx.queued}`);
    await db.start();
    const after = await a.waitFor((s) => s.influx.queued === 0 && s.influx.written > before.influx.written + before.influx.queued, 60_000, 'the queue replayed');
    assert.equal(after.influx.dropped, 0);
    assert.equal(after.influx.rejected, 0);

    // What influxd accepted, in the order it accepted it: timing points strictly increasing, each once.
    const timing = r.accepted.flat().filter((l) => l.startsWith('timing,'));
    const ts = timing.map(tsOf);
    for (let i = 1; i < ts.length; i++) assert.ok(ts[i]! > ts[i - 1]!, `timing point ${i} out of order or repeated: ${ts[i - 1]} then ${ts[i]}`);
    // No second without its point across the outage: intervals of about one second throughout.
    const gaps = ts.slice(1).map((x, i) => Number(x - ts[i]!) / 1e9);
    assert.ok(Math.max(...gaps) < 1.6, `largest gap between timing points ${Math.max(...gaps)} s`);
    const outage = ts.filter((x) => Number(x / 1_000_000n) >= downAt && Number(x / 1_000_000n) < downAt + 60_000).length;
    assert.ok(outage >= 57, `${outage} timing points of the minute influxd was down`);
    // influxd holds exactly what was accepted (a point sent twice would show here as fewer rows than lines).
    const counted = await db.query('s1test', 'SELECT count("state_code") FROM "timing"');
    assert.equal(Number(counted[0]!.values[0]![1]), timing.length);
    assert.equal(after.influx.written, r.accepted.flat().length, 'the exporter wrote each point once');
  } finally {
    await a.stop();
    await r.close();
    await db.stop();
  }
});

test('InfluxDB away past the queue bound: the loss is counted and raised as export_loss', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'influx-'));
  const cfg = join(dir, 'agent.yaml');
  const nowhere = await freeTcpPort(); // nothing listens there
  writeFileSync(cfg, agentConfig(dir, ['127.0.0.1'], await freeUdpPort()) + [
    'influx:', '  enabled: true', `  url: http://127.0.0.1:${nowhere}`, '  interval_s: 1', '  timeout_ms: 500', '  queue_max_points: 100', '',
  ].join('\n'));
  const a = await startAgent(cfg);
  try {
    const s = await a.waitFor((x) => x.alarms.find((al) => al.name === 'export_loss')!.severity === 'critical', 60_000, 'export_loss');
    assert.ok(s.influx.dropped > 0);
    assert.ok(s.influx.queued <= 100 + 40, `queue bounded: ${s.influx.queued}`);
    assert.equal(s.influx.written, 0);
    assert.ok(s.influx.lastDropAt !== null);
    assert.match(s.influx.lastError ?? '', /ECONNREFUSED|connect/i);
    assert.match(a.out(), /InfluxDB queue full: oldest points dropped/);
  } finally {
    await a.stop();
  }
});
