import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startAgent, agentConfig } from '../helpers/agent.ts';
import { requirePeers } from '../helpers/env.ts';
import { freeUdpPort } from '../helpers/ports.ts';
import type { Status } from '../../src/status/status.ts';
import { parseMetrics as parse } from '../helpers/metrics.ts';

test('/metrics: promtool accepts it, and its values agree with Status', async (t) => {
  if (!requirePeers(t, 'promtool')) return;
  const dir = mkdtempSync(join(tmpdir(), 'prom-'));
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(cfg, agentConfig(dir, ['127.0.0.1'], await freeUdpPort()));
  const a = await startAgent(cfg);
  try {
    await a.waitFor((s) => s.discipline.state === 'LOCKED' && s.gnss.satellites.length > 0, 60_000, 'LOCKED');
    const line = /^listening: (.*)$/m.exec(a.out())![1]!;
    const [, host, port] = /prometheus-http tcp (\S+):(\d+)/.exec(line)!;
    assert.equal(host, '127.0.0.1', 'loopback by default');
    const url = `http://${host}:${port}/metrics`;
    const before = await a.status();
    const res = await fetch(url);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    const after: Status = await a.status();

    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);
    assert.equal(`${check.stdout}${check.stderr}`.trim(), '', 'promtool reports no lint problem');

    const m = parse(text);
    const between = (k: string, lo: number, hi: number) => {
      const v = m.get(k);
      assert.ok(v !== undefined && v >= lo && v <= hi, `${k} = ${v}, expected between ${lo} and ${hi}`);
    };
    assert.equal(m.get('chrony_tracking_stratum'), after.discipline.stratum);
    assert.equal(m.get(`chrony_tracking_info{tracking_address="",tracking_name="${after.discipline.refId}",tracking_refid="${after.discipline.refId}"}`), 1);
    assert.equal(m.get('stratum1_discipline_state{state="LOCKED"}'), 1);
    assert.equal(m.get('stratum1_discipline_state{state="HOLDOVER"}'), 0);
    assert.equal(m.get('gpsd_tpv_mode'), after.gnss.fixMode);
    assert.equal(m.get('stratum1_discipline_state_code'), after.discipline.stateCode);
    // The simulated position wanders by metres: within 1e-4 degrees (11 m) of Status.
    assert.ok(Math.abs(m.get('gpsd_tpv_lat')! - after.gnss.latitudeDeg!) < 1e-4, `lat ${m.get('gpsd_tpv_lat')} vs ${after.gnss.latitudeDeg}`);
    assert.equal(m.get('stratum1_integrity_failing'), after.integrity.failing ? 1 : 0);
    for (const c of after.integrity.checks.filter((x) => x.enabled && x.armed)) {
      assert.equal(m.get(`stratum1_integrity_check_failing{check="${c.name}"}`), c.failing ? 1 : 0, c.name);
    }
    assert.equal(m.get('stratum1_ptp_clock_class'), after.discipline.ptpClockClass);
    between('chrony_serverstats_ntp_packets_received_total', before.ntp.received, after.ntp.received);
    between('stratum1_pps_pulses_total', before.pps.pulses, after.pps.pulses);
    between('stratum1_discipline_samples_accepted_total', before.discipline.samplesAccepted, after.discipline.samplesAccepted);
    const err = [before.discipline.timeErrorEstimateNs!, after.discipline.timeErrorEstimateNs!].map((v) => v / 1e9);
    between('stratum1_time_error_estimate_seconds', Math.min(...err) * 0.5, Math.max(...err) * 2);
    for (const s of after.gnss.satellites) {
      const k = `gpsd_sat_used{prn="${s.prn}",constellation="${s.constellation}"}`;
      assert.ok(m.has(k), k);
    }
    const used = [...m].filter(([k, v]) => k.startsWith('gpsd_sat_used') && v === 1).length;
    assert.ok(Math.abs(used - after.gnss.satellitesUsed) <= 1, `${used} used vs ${after.gnss.satellitesUsed}`);
    for (const al of after.alarms) assert.equal(m.get(`stratum1_alarm_severity{alarm="${al.name}"}`), al.severity === 'critical' ? 2 : al.severity === 'warning' ? 1 : 0);
    assert.equal(m.get('stratum1_store_healthy'), 1);
    // Only /metrics, only GET.
    assert.equal((await fetch(`http://${host}:${port}/status`)).status, 404);
    assert.equal((await fetch(url, { method: 'POST' })).status, 405);
  } finally {
    await a.stop();
  }
});
