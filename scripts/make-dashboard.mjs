#!/usr/bin/env node
// Writes grafana/dashboards/stratum1.json: the dashboard for the InfluxDB measurements of
// src/export/influx-points.ts (InfluxQL). Edit the panels here, then run `node scripts/make-dashboard.mjs`;
// test/export/grafana.test.ts runs every panel's queries against a real influxd.
import { writeFileSync } from 'node:fs';

const ds = { type: 'influxdb', uid: '${datasource}' };
const where = `WHERE "host" =~ /^$host$/ AND $timeFilter`;
let id = 0;
let y = 0;
const target = (refId, query, alias) => ({ refId, datasource: ds, rawQuery: true, resultFormat: 'time_series', query, alias });
function panel(title, type, w, h, x, targets, fieldConfig = {}, options = {}) {
  return { id: ++id, title, type, datasource: ds, gridPos: { x, y, w, h }, targets, fieldConfig: { defaults: fieldConfig, overrides: [] }, options };
}
const series = (unit, extra = {}) => ({ unit, custom: { drawStyle: 'line', lineWidth: 1, spanNulls: false, showPoints: 'never' }, ...extra });

const panels = [];
panels.push(panel('Offset from GPS and time error estimate', 'timeseries', 16, 9, 0, [
  target('A', `SELECT mean("offset_ns") FROM "timing" ${where} GROUP BY time($__interval) fill(null)`, 'offset'),
  target('B', `SELECT max("time_error_ns") FROM "timing" ${where} GROUP BY time($__interval) fill(null)`, 'time error estimate (99 %)'),
], series('ns')));
panels.push(panel('Now', 'stat', 8, 9, 16, [
  target('A', `SELECT last("time_error_ns") FROM "timing" ${where}`, 'time error'),
  target('B', `SELECT last("stratum") FROM "timing" ${where}`, 'stratum'),
  target('C', `SELECT last("clock_class") FROM "timing" ${where}`, 'PTP clockClass'),
  target('D', `SELECT last("satellites_used") FROM "gnss" ${where}`, 'satellites used'),
], { unit: 'none' }, { reduceOptions: { calcs: ['lastNotNull'] }, textMode: 'value_and_name' }));
y += 9;
panels.push(panel('Discipline state', 'state-timeline', 24, 5, 0, [
  target('A', `SELECT last("state") FROM "timing" ${where} GROUP BY time($__interval) fill(null)`, 'state'),
], { color: { mode: 'thresholds' }, mappings: [{ type: 'value', options: {
  LOCKED: { color: 'green', index: 0 }, HOLDOVER: { color: 'orange', index: 1 }, ACQUIRING: { color: 'blue', index: 2 }, FREERUN: { color: 'red', index: 3 },
} }] }, { showValue: 'never', mergeValues: true }));
y += 5;
panels.push(panel('Alarms', 'table', 24, 7, 0, [
  { ...target('A', `SELECT "text", "value", "threshold" FROM "alarm" ${where} ORDER BY time DESC LIMIT 200`), resultFormat: 'table' },
], {}, { showHeader: true }));
y += 7;
panels.push(panel('Frequency of the local oscillator', 'timeseries', 12, 8, 0, [
  target('A', `SELECT mean("frequency_ppb") FROM "timing" ${where} GROUP BY time($__interval) fill(null)`, 'frequency'),
], series('ppb')));
panels.push(panel('PPS jitter', 'timeseries', 12, 8, 12, [
  target('A', `SELECT mean("jitter_ns") FROM "pps" ${where} GROUP BY time($__interval) fill(null)`, 'jitter'),
  target('B', `SELECT min("present") FROM "pps" ${where} GROUP BY time($__interval) fill(null)`, 'present'),
], series('ns')));
y += 8;
panels.push(panel('Satellites', 'timeseries', 12, 8, 0, [
  target('A', `SELECT mean("satellites_used") FROM "gnss" ${where} GROUP BY time($__interval) fill(null)`, 'used'),
  target('B', `SELECT mean("satellites_in_view") FROM "gnss" ${where} GROUP BY time($__interval) fill(null)`, 'in view'),
  target('C', `SELECT mean("used") FROM "constellation" ${where} GROUP BY time($__interval), "constellation" fill(null)`, 'used $tag_constellation'),
], series('none')));
panels.push(panel('Signal to noise per satellite', 'timeseries', 12, 8, 12, [
  target('A', `SELECT mean("snr_dbhz") FROM "satellite" ${where} GROUP BY time($__interval), "constellation", "prn" fill(null)`, '$tag_constellation $tag_prn'),
], series('dB')));
y += 8;
panels.push(panel('NTP requests per second', 'timeseries', 12, 8, 0, [
  target('A', `SELECT mean("requests_per_second") FROM "ntp" ${where} GROUP BY time($__interval) fill(null)`, 'requests/s'),
  target('B', `SELECT non_negative_derivative(max("dropped_rate"), 1s) FROM "ntp" ${where} GROUP BY time($__interval) fill(null)`, 'dropped by rate limit /s'),
], series('reqps')));
panels.push(panel('Holdover', 'timeseries', 12, 8, 12, [
  target('A', `SELECT max("holdover_s") FROM "timing" ${where} GROUP BY time($__interval) fill(null)`, 'in holdover for'),
], series('s')));

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
  panels,
};
writeFileSync(new URL('../grafana/dashboards/stratum1.json', import.meta.url), JSON.stringify(dashboard, null, 2) + '\n');
