import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startAgent, agentConfig } from '../helpers/agent.ts';
import { requirePeers } from '../helpers/env.ts';
import { freeUdpPort } from '../helpers/ports.ts';
import type { Status } from '../../src/status/status.ts';
import { parseMetrics as parse } from '../helpers/metrics.ts';

test('/metrics: promtool accepts it, its values agree with Status and the process\'s /proc entry, base units only, event-loop lag and heap', async (t) => {
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
    // Base units: the frequency offset is a ratio (ppm / 1e6), the old _ppm name is gone.
    // (The scrape may read a Status built between the two read here: within their range, +/-1 ppb.)
    const ppb = [before, after].map((x) => x.discipline.frequencyPpb!);
    const ratioPpb = m.get('stratum1_frequency_offset_ratio')! * 1e9;
    assert.ok(ratioPpb >= Math.min(...ppb) - 1 && ratioPpb <= Math.max(...ppb) + 1, `ratio ${m.get('stratum1_frequency_offset_ratio')} vs ${ppb.join(', ')} ppb`);
    assert.equal(m.has('stratum1_frequency_offset_ppm'), false);
    assert.equal(m.get('chrony_tracking_root_dispersion_seconds'), after.discipline.rootDispersionS);
    for (const k of [...m.keys()]) assert.doesNotMatch(k, /_(ns|nanoseconds|ms|milliseconds|us|microseconds|ppm|ppb)(_total)?(\{|$)/, `${k} is in base units`);

    // The process, as the agent's own /proc entry tells it.
    const pid = a.proc.pid!;
    assert.equal(m.get('process_start_time_seconds'), after.agent.startedAtUnixS);
    const limits = /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))![1]!;
    assert.equal(m.get('process_max_fds'), Number(limits));
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    // Connections come and go between the scrape and this read.
    assert.ok(Math.abs(m.get('process_open_fds')! - fds) <= 8, `open fds ${m.get('process_open_fds')} vs ${fds} in /proc`);
    const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
    const rss = m.get('process_resident_memory_bytes')!;
    assert.ok(rss > rssKb * 1024 * 0.5 && rss < rssKb * 1024 * 1.5, `RSS ${rss} B vs VmRSS ${rssKb} kB`);
    const vsizeKb = Number(/^VmSize:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
    assert.ok(Math.abs(m.get('process_virtual_memory_bytes')! - vsizeKb * 1024) < vsizeKb * 1024 * 0.1, `vsize ${m.get('process_virtual_memory_bytes')} vs VmSize ${vsizeKb} kB`);
    assert.ok(m.get('process_cpu_seconds_total')! > 0, 'CPU time counted');
    assert.ok(Math.abs(m.get('process_cpu_seconds_total')! - m.get('process_cpu_user_seconds_total')! - m.get('process_cpu_system_seconds_total')!) < 1e-6, 'CPU total = user + system');
    assert.ok(m.get('nodejs_heap_size_used_bytes')! > 0 && m.get('nodejs_heap_size_used_bytes')! <= m.get('nodejs_heap_size_total_bytes')!, 'heap used within heap total');
    assert.equal(m.get(`nodejs_version_info{version="${process.version}",major="${process.versions.node.split('.')[0]}",minor="${process.versions.node.split('.')[1]}",patch="${process.versions.node.split('.')[2]}"}`), 1);
    // The event-loop lag since the previous scrape: ordered, and in seconds (a lag of more than 10 s
    // would be a dead agent, not a slow one).
    const lag = (q: string) => m.get(`nodejs_eventloop_lag_${q}_seconds`)!;
    for (const q of ['min', 'p50', 'p90', 'p99', 'max', 'mean', 'stddev']) assert.ok(lag(q) >= 0 && lag(q) < 10, `lag ${q} = ${lag(q)}`);
    assert.ok(lag('min') <= lag('p50') && lag('p50') <= lag('p99') && lag('p99') <= lag('max'), `min ${lag('min')} <= p50 ${lag('p50')} <= p99 ${lag('p99')} <= max ${lag('max')}`);
    // Only /metrics, only GET.
    assert.equal((await fetch(`http://${host}:${port}/status`)).status, 404);
    assert.equal((await fetch(url, { method: 'POST' })).status, 405);
  } finally {
    await a.stop();
  }
});
