/**
 * The Prometheus-based Grafana dashboard (grafana/dashboards/stratum1-prometheus.json) and the alert
 * rules (prometheus/stratum1-alerts.yml), against the real thing: both dashboards are what
 * scripts/make-dashboard.mjs makes of its one description; every metric the dashboard and the rules
 * name is in a real scrape of the agent; and a real Prometheus server (Debian's prometheus), scraping
 * the agent on the simulator every second with the rules loaded, returns data for every query of every
 * panel, for the instance variable and for the alarm annotations (the antenna is unplugged for the
 * first 15 s: fix lost, an alarm raised).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startAgent, agentConfig } from '../helpers/agent.ts';
import { requirePeers, ROOT } from '../helpers/env.ts';
import { freeUdpPort, freeTcpPort } from '../helpers/ports.ts';
import { metricNames } from '../helpers/promql.ts';

interface Target { refId: string; expr: string; datasource: { type: string; uid: string } }
interface Panel { title: string; datasource: { type: string; uid: string }; targets: Target[] }
interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
  annotations: { list: { name: string; expr: string }[] };
}

const DASH = join(ROOT, 'grafana/dashboards/stratum1-prometheus.json');

test('both Grafana dashboards are what scripts/make-dashboard.mjs makes of its one description', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dash-'));
  try {
    mkdirSync(join(dir, 'scripts'));
    mkdirSync(join(dir, 'grafana/dashboards'), { recursive: true });
    copyFileSync(join(ROOT, 'scripts/make-dashboard.mjs'), join(dir, 'scripts/make-dashboard.mjs'));
    const r = spawnSync(process.execPath, [join(dir, 'scripts/make-dashboard.mjs')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const f of ['stratum1.json', 'stratum1-prometheus.json']) {
      assert.equal(readFileSync(join(ROOT, 'grafana/dashboards', f), 'utf8'), readFileSync(join(dir, 'grafana/dashboards', f), 'utf8'), `${f}: regenerate with node scripts/make-dashboard.mjs`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the Prometheus dashboard: a datasource variable, every panel on it, and every query returns data from a real Prometheus scraping the agent; every metric it and the alert rules name is in a real scrape', async (t) => {
  if (!requirePeers(t, 'prometheus')) return;
  const dash = JSON.parse(readFileSync(DASH, 'utf8')) as Dashboard;
  const dsVar = dash.templating.list.find((v) => v.type === 'datasource');
  assert.ok(dsVar && dsVar.query === 'prometheus', 'a datasource variable of type prometheus');
  for (const p of dash.panels) {
    assert.equal(p.datasource.uid, `\${${dsVar.name}}`, `${p.title} uses the datasource variable`);
    for (const x of p.targets) assert.equal(x.datasource.uid, `\${${dsVar.name}}`, `${p.title}/${x.refId} uses the datasource variable`);
  }

  const dir = mkdtempSync(join(tmpdir(), 'prom-dash-'));
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(cfg, agentConfig(dir, ['127.0.0.1'], await freeUdpPort(), 0, 15));
  const a = await startAgent(cfg);
  let prom: ReturnType<typeof spawn> | undefined;
  try {
    const line = /^listening: (.*)$/m.exec(a.out())![1]!;
    const [, host, port] = /prometheus-http tcp (\S+):(\d+)/.exec(line)!;
    const target = `${host}:${port}`;

    // A real Prometheus server, on loopback, scraping the agent every second, with the alert rules.
    const promPort = await freeTcpPort();
    copyFileSync(join(ROOT, 'prometheus/stratum1-alerts.yml'), join(dir, 'stratum1-alerts.yml'));
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'rule_files: [stratum1-alerts.yml]',
      'scrape_configs:', '  - job_name: stratum1', `    static_configs: [{ targets: ["${target}"] }]`, '',
    ].join('\n'));
    prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { stdio: 'ignore' });
    const api = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${promPort}${path}`);
      const body = (await res.json()) as { status: string; data: unknown; error?: string };
      assert.equal(body.status, 'success', `${path}: ${body.error}`);
      return body.data;
    };
    // Until the agent locked (every figure has a value then) and raised its fix_lost alarm, with 20 scrapes behind it.
    await a.waitFor((s) => s.discipline.state === 'LOCKED' && (s.events.counts.alarmRaised ?? 0) > 0 && s.pps.jitterNs !== null, 90_000, 'an alarm raised, a lock and a PPS jitter');
    // Every metric name the dashboard and the rules read is in a scrape (the absent-while-off ones
    // would show here: the dashboard uses none).
    const scrape = await (await fetch(`http://${target}/metrics`)).text();
    const exported = new Set([...scrape.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const exprs: [string, string][] = [
      ...dash.panels.flatMap((p) => p.targets.map((x): [string, string] => [`${p.title} / ${x.refId}`, x.expr])),
      ...dash.annotations.list.map((x): [string, string] => [`annotation ${x.name}`, x.expr]),
      ...dash.templating.list.filter((v) => v.type === 'query').map((v): [string, string] => [`variable ${v.name}`, /label_values\((\w+)/.exec(typeof v.query === 'string' ? v.query : v.query.query)![1]!]),
    ];
    assert.ok(exprs.length >= 20, `${exprs.length} queries`);
    for (const [what, e] of exprs) {
      const names = metricNames(e);
      assert.ok(names.length > 0, `${what} reads a metric: ${e}`);
      for (const n of names) assert.ok(exported.has(n), `${what} reads ${n}, which /metrics does not export`);
    }
    const rules = parseYaml(readFileSync(join(ROOT, 'prometheus/stratum1-alerts.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    for (const r of rules.groups.flatMap((g) => g.rules)) {
      for (const n of metricNames(r.expr)) if (n !== 'up') assert.ok(exported.has(n), `alert ${r.alert} reads ${n}, which /metrics does not export`);
    }

    // Prometheus has scraped the agent 20 times, and the last figure to appear (the PPS jitter, eight
    // pulses after PPS came back) three times.
    const count = async (q: string) => {
      const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(`count_over_time(${q}[1m])`)}`).then((x) => x.json()).catch(() => null) as { data?: { result: { value: [number, string] }[] } } | null;
      return Number(r?.data?.result[0]?.value[1] ?? 0);
    };
    for (let i = 0; (await count('up')) < 20 || (await count('stratum1_pps_jitter_seconds')) < 3; i++) {
      assert.ok(i < 120, 'Prometheus scraped the agent 20 times');
      await new Promise((r) => setTimeout(r, 500));
    }
    // The instance variable.
    const instances = await api(`/api/v1/label/instance/values?match[]=stratum1_info`) as string[];
    assert.deepEqual(instances, [target]);
    // Every query over the last two minutes, with the variables Grafana would fill in.
    const end = Date.now() / 1000;
    const fill = (e: string) => e.replace(/\$instance/g, target).replace(/\$__rate_interval/g, '15s');
    const empty: string[] = [];
    for (const [what, e] of exprs.filter(([w]) => !w.startsWith('variable'))) {
      const data = await api(`/api/v1/query_range?query=${encodeURIComponent(fill(e))}&start=${end - 120}&end=${end}&step=1`) as { result: { values: unknown[] }[] };
      if (data.result.every((r) => r.values.length === 0)) empty.push(`${what}: ${fill(e)}`);
    }
    assert.deepEqual(empty, [], 'queries without data');
    // The rules loaded in the real server: healthy, and its own view of the fix loss.
    const groups = await api('/api/v1/rules') as { groups: { rules: { name: string; health: string }[] }[] };
    const loaded = groups.groups.flatMap((g) => g.rules);
    assert.equal(loaded.length, 13);
    for (const r of loaded) assert.equal(r.health, 'ok', `${r.name} evaluates`);
  } finally {
    if (prom?.pid) prom.kill('SIGTERM');
    await a.stop();
    if (prom && prom.exitCode === null) await new Promise((r) => prom!.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
});
