#!/usr/bin/env node
// Writes the two Grafana dashboards from one description of their panels:
// - grafana/dashboards/stratum1.json, on the InfluxDB measurements of src/export/influx-points.ts
//   (InfluxQL); test/export/grafana.test.ts runs every panel's queries against a real influxd;
// - grafana/dashboards/stratum1-prometheus.json, on /metrics (PromQL, src/export/prometheus.ts);
//   test/export/grafana-prometheus.test.ts checks every metric it names is in a real scrape and runs
//   every query against a real Prometheus server scraping the agent.
// Each panel gives its InfluxQL targets and its PromQL targets (`prom(...)`); a panel with no targets
// for one flavour is left out of that dashboard. Edit the panels here, then run
// `node scripts/make-dashboard.mjs`.
import { writeFileSync } from 'node:fs';

const ds = { type: 'influxdb', uid: '${datasource}' };
const pds = { type: 'prometheus', uid: '${datasource}' };
const where = `WHERE "host" =~ /^$host$/ AND $timeFilter`;
const inst = 'instance=~"$instance"';
let y = 0;
const target = (refId, query, alias) => ({ refId, datasource: ds, rawQuery: true, resultFormat: 'time_series', query, alias });
/** A PromQL target. `instant` for tables. */
const prom = (refId, expr, legendFormat, extra = {}) => ({ refId, datasource: pds, expr, legendFormat, range: !extra.instant, instant: Boolean(extra.instant), ...(extra.instant ? { format: 'table' } : {}) });
/** `targets`: the InfluxQL ones, or { influx, prom, promFieldConfig } for both flavours. */
function panel(title, type, w, h, x, targets, fieldConfig = {}, options = {}) {
  const both = Array.isArray(targets) ? { influx: targets, prom: [] } : targets;
  return { title, type, gridPos: { x, y, w, h }, both, fieldConfig, options };
}
const series = (unit, extra = {}) => ({ unit, custom: { drawStyle: 'line', lineWidth: 1, spanNulls: false, showPoints: 'never' }, ...extra });

const panels = [];
panels.push(panel('Offset from GPS and time error estimate', 'timeseries', 16, 9, 0, { influx: [
  target('A', `SELECT mean("offset_ns") FROM "timing" ${where} GROUP BY time($__interval) fill(null)`, 'offset'),
  target('B', `SELECT max("time_error_ns") FROM "timing" ${where} GROUP BY time($__interval) fill(null)`, 'time error estimate (99 %)'),
], prom: [
  prom('A', `chrony_tracking_last_offset_seconds{${inst}}`, 'offset'),
  prom('B', `stratum1_time_error_estimate_seconds{${inst}}`, 'time error estimate (99 %)'),
], promFieldConfig: series('s') }, series('ns')));
panels.push(panel('Now', 'stat', 8, 9, 16, { influx: [
  target('A', `SELECT last("time_error_ns") FROM "timing" ${where}`, 'time error'),
  target('B', `SELECT last("stratum") FROM "timing" ${where}`, 'stratum'),
  target('C', `SELECT last("clock_class") FROM "timing" ${where}`, 'PTP clockClass'),
  target('D', `SELECT last("satellites_used") FROM "gnss" ${where}`, 'satellites used'),
], prom: [
  prom('A', `stratum1_time_error_estimate_seconds{${inst}} * 1e9`, 'time error (ns)'),
  prom('B', `chrony_tracking_stratum{${inst}}`, 'stratum'),
  prom('C', `stratum1_ptp_clock_class{${inst}}`, 'PTP clockClass'),
  prom('D', `sum by (instance) (stratum1_gnss_satellites_used{${inst}})`, 'satellites used'),
] }, { unit: 'none' }, { reduceOptions: { calcs: ['lastNotNull'] }, textMode: 'value_and_name' }));
y += 9;
panels.push(panel('Discipline state', 'state-timeline', 24, 5, 0, { influx: [
  target('A', `SELECT last("state") FROM "timing" ${where} GROUP BY time($__interval) fill(null)`, 'state'),
], prom: [
  prom('A', `stratum1_discipline_state_code{${inst}}`, 'state'),
], promFieldConfig: { color: { mode: 'thresholds' }, mappings: [{ type: 'value', options: {
  3: { text: 'LOCKED', color: 'green', index: 0 }, 2: { text: 'HOLDOVER', color: 'orange', index: 1 }, 1: { text: 'ACQUIRING', color: 'blue', index: 2 }, 0: { text: 'FREERUN', color: 'red', index: 3 },
} }] } }, { color: { mode: 'thresholds' }, mappings: [{ type: 'value', options: {
  LOCKED: { color: 'green', index: 0 }, HOLDOVER: { color: 'orange', index: 1 }, ACQUIRING: { color: 'blue', index: 2 }, FREERUN: { color: 'red', index: 3 },
} }] }, { showValue: 'never', mergeValues: true }));
y += 5;
panels.push(panel('Alarms', 'table', 24, 7, 0, { influx: [
  { ...target('A', `SELECT "text", "value", "threshold" FROM "alarm" ${where} ORDER BY time DESC LIMIT 200`), resultFormat: 'table' },
], prom: [
  // Every rule with its severity now (0 clear, 1 warning, 2 critical), worst first.
  prom('A', `sort_desc(stratum1_alarm_severity{${inst}})`, '{{alarm}}', { instant: true }),
] }, {}, { showHeader: true }));
y += 7;
panels.push(panel('Frequency of the local oscillator', 'timeseries', 12, 8, 0, { influx: [
  target('A', `SELECT mean("frequency_ppb") FROM "timing" ${where} GROUP BY time($__interval) fill(null)`, 'frequency'),
], prom: [
  prom('A', `stratum1_frequency_offset_ratio{${inst}} * 1e9`, 'frequency'),
] }, series('ppb')));
panels.push(panel('PPS jitter', 'timeseries', 12, 8, 12, { influx: [
  target('A', `SELECT mean("jitter_ns") FROM "pps" ${where} GROUP BY time($__interval) fill(null)`, 'jitter'),
  target('B', `SELECT min("present") FROM "pps" ${where} GROUP BY time($__interval) fill(null)`, 'present'),
], prom: [
  prom('A', `stratum1_pps_jitter_seconds{${inst}}`, 'jitter'),
  prom('B', `stratum1_pps_present{${inst}}`, 'present'),
], promFieldConfig: series('s') }, series('ns')));
y += 8;
panels.push(panel('Satellites', 'timeseries', 12, 8, 0, { influx: [
  target('A', `SELECT mean("satellites_used") FROM "gnss" ${where} GROUP BY time($__interval) fill(null)`, 'used'),
  target('B', `SELECT mean("satellites_in_view") FROM "gnss" ${where} GROUP BY time($__interval) fill(null)`, 'in view'),
  target('C', `SELECT mean("used") FROM "constellation" ${where} GROUP BY time($__interval), "constellation" fill(null)`, 'used $tag_constellation'),
], prom: [
  prom('A', `sum by (instance) (stratum1_gnss_satellites_used{${inst}})`, 'used'),
  prom('B', `sum by (instance) (stratum1_gnss_satellites_visible{${inst}})`, 'in view'),
  prom('C', `stratum1_gnss_satellites_used{${inst}}`, 'used {{constellation}}'),
] }, series('none')));
panels.push(panel('Signal to noise per satellite', 'timeseries', 12, 8, 12, { influx: [
  target('A', `SELECT mean("snr_dbhz") FROM "satellite" ${where} GROUP BY time($__interval), "constellation", "prn" fill(null)`, '$tag_constellation $tag_prn'),
], prom: [
  prom('A', `gpsd_sat_ss{${inst}}`, '{{constellation}} {{prn}}'),
] }, series('dB')));
y += 8;
panels.push(panel('NTP requests per second', 'timeseries', 12, 8, 0, { influx: [
  target('A', `SELECT mean("requests_per_second") FROM "ntp" ${where} GROUP BY time($__interval) fill(null)`, 'requests/s'),
  target('B', `SELECT non_negative_derivative(max("dropped_rate"), 1s) FROM "ntp" ${where} GROUP BY time($__interval) fill(null)`, 'dropped by rate limit /s'),
], prom: [
  prom('A', `stratum1_ntp_requests_per_second{${inst}}`, 'requests/s'),
  prom('B', `rate(chrony_serverstats_ntp_packets_dropped_total{${inst}}[$__rate_interval])`, 'dropped by rate limit /s'),
] }, series('reqps')));
panels.push(panel('Holdover', 'timeseries', 12, 8, 12, { influx: [
  target('A', `SELECT max("holdover_s") FROM "timing" ${where} GROUP BY time($__interval) fill(null)`, 'in holdover for'),
], prom: [
  prom('A', `stratum1_holdover_seconds{${inst}}`, 'in holdover for'),
] }, series('s')));
y += 8;
// The agent's process: only /metrics has it.
panels.push(panel('Event-loop lag (since the previous scrape)', 'timeseries', 12, 8, 0, { influx: [], prom: [
  prom('A', `nodejs_eventloop_lag_p50_seconds{${inst}}`, 'p50'),
  prom('B', `nodejs_eventloop_lag_p99_seconds{${inst}}`, 'p99'),
  prom('C', `nodejs_eventloop_lag_max_seconds{${inst}}`, 'max'),
] }, series('s')));
panels.push(panel('Agent process', 'timeseries', 12, 8, 12, { influx: [], prom: [
  prom('A', `rate(process_cpu_seconds_total{${inst}}[$__rate_interval])`, 'CPU (cores)'),
  prom('B', `process_resident_memory_bytes{${inst}} / 1048576`, 'RSS (MiB)'),
  prom('C', `nodejs_heap_size_used_bytes{${inst}} / 1048576`, 'heap used (MiB)'),
  prom('D', `process_open_fds{${inst}}`, 'open files'),
] }, series('none')));

/** One flavour's dashboard from the panel list. */
function build(flavour) {
  let n = 0;
  return panels.filter((p) => p.both[flavour].length > 0).map((p) => ({
    id: ++n, title: p.title, type: p.type, datasource: flavour === 'influx' ? ds : pds, gridPos: p.gridPos, targets: p.both[flavour],
    fieldConfig: { defaults: (flavour === 'prom' && p.both.promFieldConfig) || p.fieldConfig, overrides: [] }, options: p.options,
  }));
}

const dashboard = {
  uid: 'stratum1-agent', title: 'stratum1-agent: GPS time server', tags: ['stratum1', 'ntp', 'gps'], timezone: 'utc',
  schemaVersion: 39, version: 1, refresh: '30s', time: { from: 'now-6h', to: 'now' },
  templating: { list: [
    { name: 'datasource', type: 'datasource', query: 'influxdb', label: 'InfluxDB', current: {} },
    { name: 'host', type: 'query', datasource: ds, query: 'SHOW TAG VALUES FROM "timing" WITH KEY = "host"', refresh: 2, includeAll: false, label: 'Time server' },
  ] },
  annotations: { list: [
    { name: 'Alarms', datasource: ds, enable: true, iconColor: 'red', query: `SELECT "text" FROM "alarm" WHERE "host" =~ /^$host$/ AND $timeFilter`, textColumn: 'text' },
  ] },
  panels: build('influx'),
};
writeFileSync(new URL('../grafana/dashboards/stratum1.json', import.meta.url), JSON.stringify(dashboard, null, 2) + '\n');

const promDashboard = {
  uid: 'stratum1-agent-prometheus', title: 'stratum1-agent: GPS time server (Prometheus)', tags: ['stratum1', 'ntp', 'gps', 'prometheus'], timezone: 'utc',
  schemaVersion: 39, version: 1, refresh: '30s', time: { from: 'now-6h', to: 'now' },
  templating: { list: [
    { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus', current: {} },
    { name: 'instance', type: 'query', datasource: pds, definition: 'label_values(stratum1_info, instance)', query: { query: 'label_values(stratum1_info, instance)', refId: 'instance' }, refresh: 2, includeAll: false, label: 'Time server' },
  ] },
  annotations: { list: [
    // A region for each alarm while it is raised (every rule's series exists from the start at 0, so
    // the first alarm after a start shows too, which increase() of the events counter would miss).
    { name: 'Alarms', datasource: pds, enable: true, iconColor: 'red', expr: `stratum1_alarm_severity{${inst}} > 0`, titleFormat: '{{alarm}}', tagKeys: 'alarm', step: '15s' },
  ] },
  panels: build('prom'),
};
writeFileSync(new URL('../grafana/dashboards/stratum1-prometheus.json', import.meta.url), JSON.stringify(promDashboard, null, 2) + '\n');
