/**
 * The Prometheus alert rules in prometheus/: promtool accepts them and the example configuration, their
 * unit tests pass (every alert fires when it should and stays quiet on a healthy server).
 * test/export/grafana-prometheus.test.ts checks that every metric they read is in a real scrape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { requirePeers, ROOT } from '../helpers/env.ts';
import { metricNames } from '../helpers/promql.ts';

const DIR = join(ROOT, 'prometheus');

test('promtool check rules and check config accept the alert rules and the example configuration', (t) => {
  if (!requirePeers(t, 'promtool')) return;
  const rules = spawnSync('promtool', ['check', 'rules', 'stratum1-alerts.yml'], { cwd: DIR, encoding: 'utf8' });
  assert.equal(rules.status, 0, `${rules.stdout}${rules.stderr}`);
  assert.match(rules.stdout, /SUCCESS: 13 rules found/);
  const cfg = spawnSync('promtool', ['check', 'config', 'prometheus.example.yml'], { cwd: DIR, encoding: 'utf8' });
  assert.equal(cfg.status, 0, `${cfg.stdout}${cfg.stderr}`);
});

test('promtool test rules: each alert fires on its fault (offset, time error, PPS, fix, holdover, stratum 16, falseticker, export loss, NTP rate, event-loop lag, agent down) and none on a healthy server', (t) => {
  if (!requirePeers(t, 'promtool')) return;
  const r = spawnSync('promtool', ['test', 'rules', 'stratum1-alerts.test.yml'], { cwd: DIR, encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /SUCCESS/);
  // Every alert of the rules file has a test in which it fires.
  const rules = parseYaml(readFileSync(join(DIR, 'stratum1-alerts.yml'), 'utf8')) as { groups: { rules: { alert: string }[] }[] };
  const tests = parseYaml(readFileSync(join(DIR, 'stratum1-alerts.test.yml'), 'utf8')) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
  const fired = new Set(tests.tests.flatMap((x) => x.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
  for (const a of rules.groups.flatMap((g) => g.rules)) assert.ok(fired.has(a.alert), `${a.alert} is tested firing`);
});

test('metricNames finds the metrics of a PromQL expression and nothing else', () => {
  assert.deepEqual(metricNames('sum by (instance) (rate(foo_total{a="b", c=~"$x"}[$__rate_interval])) * 1e9 > bar_seconds offset 5m').sort(), ['bar_seconds', 'foo_total']);
  assert.deepEqual(metricNames('abs(x_seconds{job="stratum1"}) > 0.0001'), ['x_seconds']);
});
