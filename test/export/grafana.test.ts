/**
 * The Grafana dashboard in grafana/: every query of every panel (and its host variable and alarm
 * annotations) returns data from a real influxd that the agent on the simulator has been writing to,
 * through a receiver fault (antenna unplugged for the first 15 s: fix lost, an alarm raised and cleared).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, agentConfig } from '../helpers/agent.ts';
import { requirePeers, ROOT } from '../helpers/env.ts';
import { freeUdpPort } from '../helpers/ports.ts';
import { influxd } from '../helpers/influxd.ts';

interface Target { refId: string; query: string }
interface Panel { title: string; targets: Target[] }
interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; query: string; type: string }[] };
  annotations: { list: { name: string; query: string }[] };
}

test('every panel of the Grafana dashboard returns data from the agent\'s InfluxDB', async (t) => {
  if (!requirePeers(t, 'influxd')) return;
  const dash = JSON.parse(readFileSync(join(ROOT, 'grafana/dashboards/stratum1.json'), 'utf8')) as Dashboard;
  const db = await influxd();
  const dir = mkdtempSync(join(tmpdir(), 'grafana-'));
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(cfg, agentConfig(dir, ['127.0.0.1'], await freeUdpPort(), 0, 15) + [
    'influx:', '  enabled: true', `  url: ${db.url}`, '  database: grafana', '  interval_s: 1', '',
  ].join('\n'));
  const a = await startAgent(cfg);
  try {
    await a.waitFor((s) => s.discipline.state === 'LOCKED' && (s.events.counts.alarmCleared ?? 0) > 0 && s.influx.written > 200, 90_000, 'an alarm raised and cleared, and a lock');
    await new Promise((r) => setTimeout(r, 2500)); // the last interval's points
    const hostVar = dash.templating.list.find((v) => v.name === 'host')!;
    const hosts = (await db.query('grafana', hostVar.query))[0]?.values.map((v) => String(v[1])) ?? [];
    assert.deepEqual(hosts, ['stratum1']);
    const fill = (q: string) => q.replace(/\$timeFilter/g, 'time > now() - 15m').replace(/\$__interval/g, '5s').replace(/\$host/g, hosts[0]!);
    const queries: [string, string][] = [
      ...dash.panels.flatMap((p) => p.targets.map((x): [string, string] => [`${p.title} / ${x.refId}`, x.query])),
      ...dash.annotations.list.map((x): [string, string] => [`annotation ${x.name}`, x.query]),
    ];
    assert.ok(queries.length >= 15, `${queries.length} queries`);
    const empty: string[] = [];
    for (const [what, q] of queries) {
      const series = await db.query('grafana', fill(q));
      const values = series.flatMap((s) => s.values.map((v) => v.slice(1)).flat()).filter((v) => v !== null);
      if (values.length === 0) empty.push(`${what}: ${fill(q)}`);
    }
    assert.deepEqual(empty, [], 'panels without data');
  } finally {
    await a.stop();
    await db.stop();
  }
});
