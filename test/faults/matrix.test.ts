/**
 * The fault matrix on the real agent (issue 15, "hold up on a hostile LAN, with bad configs and full
 * disks"): {disk full: no, yes} x {InfluxDB down: no, yes}, each ended by SIGTERM; and a state
 * directory that is read-only at start with every feature on. Each case ends the same way: NTP is
 * served, exactly the alarms the faults call for are raised, Status' counters say what is on disk,
 * and SIGTERM ends the agent cleanly (exit code 0) within 10 s, a stated requirement.
 *
 * The cases are independent (their own ports, state directories, InfluxDB stand-ins) and run side by
 * side. A full disk is a small tmpfs of our own filled with dd; a read-only one a tmpfs mounted ro;
 * both need root: elsewhere those cases skip, loudly, and under CI they fail.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, agentConfig, type RunningAgent } from '../helpers/agent.ts';
import { freeUdpPort } from '../helpers/ports.ts';
import { mountTmpfs } from '../helpers/mounts.ts';
import { ntpStratum } from '../helpers/ntp.ts';
import { requirePeers } from '../helpers/env.ts';
import { netPair } from '../helpers/netns.ts';
import { parseMetrics } from '../helpers/metrics.ts';
import {
  influxStandIn, influxStandInNetns, rowCount, quickCheck, steadyRead, raisedAlarms, sigtermTimed, nodeInNetns, runInNetns,
  statusInNetns, ntpStratumInNetns, udpCounterInNetns,
} from '../helpers/faults.ts';
import type { Status } from '../../src/status/status.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rmQuietly = (dir: string) => {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch { /* still mounted (busy): left for the machine's tmp cleaning */ }
};

async function waitFor(status: () => Promise<Status>, pred: (s: Status) => boolean, ms: number, what: string): Promise<Status> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await status();
    if (pred(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; state ${s.discipline.state}, alarms ${raisedAlarms(s).join(', ')}`);
    await sleep(500);
  }
}
/** The InfluxDB queue's bound in these cases: small, so an outage of a few seconds overflows it. */
const QUEUE_MAX = 100;
/** How long a case runs with its faults before it is judged: longer than any alarm's hold-off (5 s). */
const SETTLE_MS = 8000;

interface Case { name: string; diskFull: boolean; influxDown: boolean; alarms: string[] }

const MATRIX: Case[] = [
  { name: 'healthy: no alarm', diskFull: false, influxDown: false, alarms: [] },
  { name: 'InfluxDB down: export_loss only', diskFull: false, influxDown: true, alarms: ['export_loss'] },
  { name: 'disk full: database_write only', diskFull: true, influxDown: false, alarms: ['database_write'] },
  { name: 'disk full and InfluxDB down: database_write and export_loss', diskFull: true, influxDown: true, alarms: ['database_write', 'export_loss'] },
];

/** A CPU temperature file of our own: the host part reads it (no thermal zone here is no feature
 * off), and a hot CI machine raises no alarm these cases did not call for. */
function temperatureFile(dir: string): string {
  const f = join(dir, 'temp');
  writeFileSync(f, '45000\n');
  return f;
}

async function matrixCase(t: TestContext, c: Case): Promise<void> {
  const conf = mkdtempSync(join(tmpdir(), 'faults-conf-'));
  let state: string | undefined;
  let mounted = false;
  const influx = await influxStandIn(!c.influxDown);
  let a: RunningAgent | undefined;
  try {
    if (c.diskFull) {
      state = mountTmpfs(t, 2048, { prefix: 'faults-full-' });
      if (!state) return;
      mounted = true;
    } else {
      state = mkdtempSync(join(tmpdir(), 'faults-state-'));
    }
    const ntpPort = await freeUdpPort();
    const cfg = join(conf, 'agent.yaml');
    // agentConfig ends with the agent section: its last lines continue it.
    writeFileSync(cfg, agentConfig(state, ['127.0.0.1'], ntpPort) + [
      `  cpu_temperature_file: ${JSON.stringify(temperatureFile(conf))}`,
      'store:', '  flush_interval_s: 1',
      // The hourly vacuum truncates the WAL, which gives a full disk some room back: the agent then
      // recovers, as it should, but a case would depend on the hour it runs in.
      '  schedules:', '    vacuum: ""',
      'influx:', '  enabled: true', `  url: ${influx.url}`, '  interval_s: 1', '  timeout_ms: 5000', `  queue_max_points: ${QUEUE_MAX}`, '',
    ].join('\n'));
    const history = join(state, 'history.db');
    const queue = join(state, 'influx-queue.db');

    a = await startAgent(cfg);
    const agent = a;
    await agent.waitFor((s) => s.discipline.state === 'LOCKED' && s.store.flushes > 0 &&
      (c.influxDown ? s.influx.failures > 0 : s.influx.written > 0), 40_000, 'LOCKED, the history written, InfluxDB tried');
    if (c.diskFull) spawnSync('dd', ['if=/dev/zero', `of=${join(state, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
    const faultAt = Date.now();
    await agent.waitFor((s) => c.alarms.every((n) => raisedAlarms(s).includes(n)), 40_000, `the alarms ${c.alarms.join(', ') || '(none)'}`);
    await sleep(Math.max(0, faultAt + SETTLE_MS - Date.now()));

    // Time is served, whatever else fails.
    const st0 = await agent.status();
    assert.equal(st0.discipline.state, 'LOCKED');
    assert.equal(await ntpStratum(ntpPort), 1, 'NTP served at stratum 1');

    // Exactly the alarms the faults call for.
    assert.deepEqual(raisedAlarms(st0), c.alarms, `alarms raised: ${raisedAlarms(st0).join(', ')}`);
    assert.equal(st0.store.healthy, !c.diskFull);
    if (c.diskFull) {
      assert.match(st0.store.lastError ?? '', /SQLITE_FULL|full/i);
      assert.ok(st0.store.pending > 0, 'what the disk refuses is held');
    } else {
      assert.equal(st0.store.writeFailures, 0);
    }
    if (c.influxDown) {
      assert.equal(st0.influx.connected, false);
      assert.ok(st0.influx.dropped > 0, 'the queue overflowed: the loss is counted');
    } else {
      assert.equal(st0.influx.connected, true);
      assert.equal(st0.influx.failures, 0);
      assert.equal(st0.influx.dropped, 0);
    }

    // Status' counters against the disk, read while no write is under way.
    const { st, disk } = await steadyRead(agent.status,
      (s: Status) => [s.store.samplesWritten, s.store.eventsWritten, s.influx.queued, s.influx.written, s.influx.dropped],
      () => ({ samples: rowCount(history, 'samples'), events: rowCount(history, 'events'), queue: rowCount(queue, 'queue'), received: influx.points() }));
    assert.equal(disk.samples, st.store.samplesWritten, 'history samples on disk = store.samplesWritten');
    assert.equal(disk.events, st.store.eventsWritten, 'history events on disk = store.eventsWritten');
    if (!c.influxDown) {
      assert.equal(disk.received, st.influx.written, 'points InfluxDB received = influx.written');
      assert.equal(st.influx.queued, 0);
      assert.equal(disk.queue, 0, 'nothing in the queue file');
    } else if (!c.diskFull) {
      assert.equal(disk.queue, st.influx.queued, 'the queue on disk = influx.queued');
      assert.ok(st.influx.queued <= QUEUE_MAX, `queued ${st.influx.queued}: within the bound`);
    } else {
      // The disk refuses the queue's new points: they wait in memory, and the bound covers both.
      assert.ok(disk.queue !== undefined && disk.queue <= st.influx.queued && st.influx.queued <= QUEUE_MAX,
        `queue on disk ${disk.queue}, influx.queued ${st.influx.queued}, bound ${QUEUE_MAX}`);
    }

    // SIGTERM: a clean end within 10 s.
    const end = await sigtermTimed(agent.proc);
    t.diagnostic(`${c.name}: SIGTERM to exit ${end.ms} ms`);
    assert.notEqual(end.code, 'hung', `SIGTERM did not end the agent within 10 s:\n${agent.out().slice(-1500)}`);
    assert.equal(end.code, 0, agent.out().slice(-1500));
    assert.ok(end.ms < 10_000);
    assert.doesNotMatch(agent.out(), /uncaught exception|part failed/);

    // What it left on disk is sound and says what Status said.
    assert.equal(quickCheck(history), 'ok');
    assert.equal(quickCheck(queue), 'ok');
    const samplesAfter = rowCount(history, 'samples')!;
    if (c.diskFull) {
      assert.equal(samplesAfter, st.store.samplesWritten, 'nothing written to the full disk, nothing half-written');
    } else {
      assert.ok(samplesAfter >= st.store.samplesWritten);
      assert.equal(rowCount(history, 'events', "WHERE type = 'agentStopping' AND data LIKE '%SIGTERM%'"), 1, 'the stop recorded in the history');
    }
    if (c.influxDown) assert.ok(rowCount(queue, 'queue')! <= QUEUE_MAX, 'the queue within its bound after the stop');
  } finally {
    if (a && a.proc.exitCode === null && a.proc.signalCode === null) a.proc.kill('SIGKILL');
    await influx.close();
    if (mounted) spawnSync('umount', ['-l', state!]);
    if (state) rmQuietly(state); // after the unmount: the empty mount point
    rmSync(conf, { recursive: true, force: true });
  }
}

/**
 * A state directory read-only at start, with every feature on: history, SNMP (a v3 user, a v3 trap
 * sink), InfluxDB (up), Prometheus, integrity with three simulated upstream servers, PTP, the control
 * endpoint. PTP needs an interface with a MAC address, so the agent runs in a network namespace of
 * its own with a veth (test/helpers/netns.ts), where everything else listens on its loopback.
 */
async function readOnlyEverything(t: TestContext): Promise<void> {
  if (!requirePeers(t, 'ip', 'snmpget')) return;
  const state = mountTmpfs(t, 1024, { readOnly: true, prefix: 'faults-ro-' });
  if (!state) return;
  const conf = mkdtempSync(join(tmpdir(), 'faults-ro-conf-'));
  let net: ReturnType<typeof netPair> | undefined;
  let a: RunningAgent | undefined;
  let influx: Awaited<ReturnType<typeof influxStandInNetns>> | undefined;
  let sink: ReturnType<typeof udpCounterInNetns> | undefined;
  try {
    net = netPair('flt');
    const ns = net.a.ns;
    // The namespace is ours alone: fixed ports.
    const P = { ntp: 12300, snmp: 16100, trap: 16200, influx: 18086, metrics: 19710 };
    influx = await influxStandInNetns(ns, P.influx);
    sink = udpCounterInNetns(ns, P.trap);
    await sink.ready;
    const cfg = join(conf, 'agent.yaml');
    const base = agentConfig(state, ['127.0.0.1'], P.ntp)
      .replace(/^prometheus:\n {2}port: 0$/m, `prometheus:\n  port: ${P.metrics}`)
      .replace(/^( {2}pps_jitter_ns: 0)$/m, '$1\n  ntp_servers: [{ offset_ms: 0 }, { offset_ms: 0 }, { offset_ms: 0 }]');
    writeFileSync(cfg, base + [
      `  cpu_temperature_file: ${JSON.stringify(temperatureFile(conf))}`,
      'store:', '  flush_interval_s: 1',
      'snmp:', '  enabled: true', '  address: 127.0.0.1', `  port: ${P.snmp}`,
      '  users:', '    - { name: nms, auth_key: auth-pass-123, priv_key: priv-pass-123 }',
      '  trap_sinks:', `    - { host: 127.0.0.1, port: ${P.trap}, version: v3, user: nms }`,
      'influx:', '  enabled: true', `  url: ${influx.url}`, '  interval_s: 2', '  timeout_ms: 5000',
      'ptp:', '  enabled: true', `  interface: ${net.a.dev}`, '',
    ].join('\n'));
    a = await startAgent(cfg, ns);
    const agent = a;
    const status = () => statusInNetns(ns, agent.statusUrl);
    const st0 = await waitFor(status, (s) => s.discipline.state === 'LOCKED' && raisedAlarms(s).includes('database_write') &&
      s.integrity.upstream.majority !== null && s.influx.written > 0 && (s.ptp.sent.announce ?? 0) > 0, 40_000,
    'LOCKED, database_write, an upstream majority, InfluxDB written, PTP announcing');
    await sleep(3000); // longer than the hold-off of any alarm the other features could raise (2 s)
    assert.equal(await ntpStratumInNetns(ns, P.ntp), 1, 'NTP served at stratum 1');

    // Every feature runs: PTP announces, the upstream servers agree, SNMPv3 answers, Prometheus serves.
    const { st, disk } = await steadyRead(status, (s: Status) => [s.influx.written, s.snmp.trapsSent],
      () => ({ received: influx!.points(), traps: sink!.count() }));
    assert.deepEqual(raisedAlarms(st), ['database_write'], `alarms raised: ${raisedAlarms(st).join(', ')}`);
    assert.equal(st.store.healthy, false);
    assert.match(st.store.lastError ?? '', /read-only|READONLY|EROFS/i);
    assert.equal(st.store.samplesWritten, 0);
    assert.ok(st.store.pending > 0, 'the history is held in memory');
    assert.equal(existsSync(join(state, 'history.db')), false);
    assert.equal(st.ptp.enabled, true);
    assert.ok((st.ptp.sent.sync ?? 0) > 0 && st.ptp.sendErrors === 0, `PTP sent ${JSON.stringify(st.ptp.sent)}, errors ${st.ptp.sendErrors}`);
    assert.deepEqual(st.integrity.upstream.majority!.members, ['sim1', 'sim2', 'sim3']);
    assert.equal(st.integrity.failing, false);
    // InfluxDB is up: what it received is what Status says was written; the queue (in memory, the
    // directory being read-only) holds nothing.
    assert.equal(disk.received, st.influx.written, 'points InfluxDB received = influx.written');
    assert.equal(st.influx.queued, 0);
    assert.equal(st.influx.failures, 0);
    // The notifications: the trap sink received every one Status counts, the raised alarm's among them.
    assert.equal(disk.traps, st.snmp.trapsSent, 'traps received = snmp.trapsSent');
    assert.ok((st.snmp.trapsByName.s1AlarmRaised ?? 0) >= 1, 'database_write notified');
    assert.equal(st.snmp.trapsFailed, 0);
    // SNMPv3 with the engine ID of this run: s1AlarmsActive (root.1.6.1.0) is 1.
    const get = await runInNetns(ns, ['snmpget', '-m', '', '-On', '-t', '2', '-r', '1', '-v3', '-l', 'authPriv', '-u', 'nms', '-a', 'SHA-256', '-A', 'auth-pass-123',
      '-x', 'AES', '-X', 'priv-pass-123', `127.0.0.1:${P.snmp}`, '1.3.6.1.4.1.8072.9999.9999.1.6.1.0']);
    assert.match(get.stdout, /\.1\.3\.6\.1\.4\.1\.8072\.9999\.9999\.1\.6\.1\.0 = Gauge32: 1$/m, get.stdout + get.stderr);
    const metrics = parseMetrics(await nodeInNetns(ns, `process.stdout.write(await (await fetch('http://127.0.0.1:${P.metrics}/metrics')).text());`));
    assert.equal(metrics.get('stratum1_store_healthy'), 0);
    assert.equal(metrics.get('stratum1_alarm_severity{alarm="database_write"}'), 2);
    assert.equal([...metrics].filter(([k, v]) => k.startsWith('stratum1_alarm_severity{') && v !== 0).length, 1, 'one alarm in /metrics');
    assert.ok((metrics.get('stratum1_ptp_messages_sent_total{type="announce"}') ?? 0) > 0);
    assert.deepEqual(st0.agent.listening.map((l) => l.service).sort(), ['control-http', 'ntp', 'prometheus-http', 'ptp-event', 'ptp-general', 'snmp']);
    const out = agent.out();
    assert.match(out, /SNMP engine ID generated for this run only/);
    assert.match(out, /InfluxDB: the outage queue is kept in memory/);

    const end = await sigtermTimed(agent.proc);
    t.diagnostic(`read-only, every feature: SIGTERM to exit ${end.ms} ms`);
    assert.notEqual(end.code, 'hung', `SIGTERM did not end the agent within 10 s:\n${agent.out().slice(-1500)}`);
    assert.equal(end.code, 0, agent.out().slice(-1500));
    assert.ok(end.ms < 10_000);
    assert.doesNotMatch(agent.out(), /uncaught exception|part failed/);
  } finally {
    if (a && a.proc.exitCode === null && a.proc.signalCode === null) a.proc.kill('SIGKILL');
    sink?.stop();
    await influx?.close();
    net?.remove();
    spawnSync('umount', ['-l', state]);
    rmQuietly(state); // after the unmount: the empty mount point
    rmSync(conf, { recursive: true, force: true });
  }
}

describe('fault matrix on the real agent: NTP served, exactly the right alarms, counters = disk, SIGTERM ends it cleanly within 10 s', { concurrency: true }, () => {
  for (const c of MATRIX) it(`${c.name}`, { timeout: 85_000 }, (t) => matrixCase(t, c));
  it('read-only state directory at start, every feature on (history, SNMPv3 and a trap sink, InfluxDB, Prometheus, integrity upstreams, PTP, control): database_write only', { timeout: 85_000 }, (t) => readOnlyEverything(t));
});
