/**
 * The chronyd partner on a stack like the seed's, every surface at once. chronyd (Debian's, always
 * `-x`: this machine's clock is never touched; private config, sockets and files) takes time from three
 * sources: a SOCK refclock fed by a real agent (export.chrony_sock, the simulator's PPS-paired
 * samples), that agent's NTP server on 127.0.0.1, a second chronyd serving stratum 2 on 127.0.0.2, and
 * a third on 127.0.0.3 whose samples chronyd shifts by 0.5 s (a falseticker).
 * chronyd serves NTP itself. A second agent serves neither NTP nor PTP and watches chronyd over its
 * Unix command socket, as chronyc does: its Status, an snmpwalk of NTPv4-MIB (which then describes
 * chronyd) and of our chrony group, and its /metrics (chrony_exporter's names) must all agree with
 * `chronyc -n -c tracking`, `sources`, `sourcestats` and `serverstats`. Stopping the stratum 2 source
 * raises chrony_source_unreachable and its trap; restarting chronyd is seen (sync lost and regained,
 * with their traps; the falseticker judged anew, with its trap) and reconnected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trapd, walk } from '../helpers/snmp-tools.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { chronyd } from '../helpers/chronyd.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, agentConfig, type RunningAgent } from '../helpers/agent.ts';
import { requirePeers } from '../helpers/env.ts';
import { freeTcpPort, freeUdpPort } from '../helpers/ports.ts';
import { ntpQuery } from '../helpers/ntp.ts';
import { parseMetrics } from '../helpers/metrics.ts';
import type { Status } from '../../src/status/status.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const near = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol;

test('chronyd on the seed\'s stack watched over its Unix socket: Status, NTPv4-MIB, our chrony group and /metrics agree with chronyc; a stopped source raises its alarm and trap; a restarted chronyd loses and regains sync, with traps, and is reconnected', async (t) => {
  if (!requirePeers(t, 'chronyd', 'chronyc', 'snmpwalk', 'snmptrapd')) return;
  const dir = mkdtempSync(join(tmpdir(), 'chrony-stack-'));
  const feederNtp = await freeUdpPort();
  const s2Port = await freeUdpPort();
  const s3Port = await freeUdpPort();
  const mainNtp = await freeUdpPort();
  const snmpPort = await freeUdpPort();
  const trapPort = await freeUdpPort();
  const metricsPort = await freeTcpPort();
  const community = 'stack-ro-x';
  // The stratum 2 server: its own clock, served at stratum 2, on 127.0.0.2.
  const s2 = chronyd('stratum-2 chronyd', join(dir, 's2'), ['local stratum 2', 'bindaddress 127.0.0.2', `port ${s2Port}`, 'allow 127.0.0.0/8']);
  // A second one on 127.0.0.3, whose samples chronyd is told to shift by 0.5 s (its `offset` option):
  // a falseticker against the other three.
  const s3 = chronyd('false chronyd', join(dir, 's3'), ['local stratum 2', 'bindaddress 127.0.0.3', `port ${s3Port}`, 'allow 127.0.0.0/8']);
  const mainDir = join(dir, 'main');
  const main = chronyd('chronyd', mainDir, [
    `refclock SOCK ${join(mainDir, 'chrony.sock')} refid GPS poll 2 precision 1e-7 prefer`,
    `server 127.0.0.1 port ${feederNtp} iburst minpoll 0 maxpoll 0`,
    `server 127.0.0.2 port ${s2Port} iburst minpoll 0 maxpoll 0`,
    `server 127.0.0.3 port ${s3Port} iburst minpoll 0 maxpoll 0 offset 0.5`,
    `port ${mainNtp}`, 'bindaddress 127.0.0.1', 'allow 127.0.0.0/8',
  ]);
  const trap = trapd(dir, 'stack-trap', trapPort);
  let feeder: RunningAgent | undefined;
  let watcher: RunningAgent | undefined;
  try {
    await s2.start();
    await s3.start();
    await main.start();
    // The feeder: the simulator's GPS served over NTP and fed to chronyd's SOCK refclock.
    writeFileSync(join(dir, 'feeder.yaml'), agentConfig(join(dir, 'feeder-state'), ['127.0.0.1'], feederNtp) +
      ['snmp:', '  enabled: false', 'export:', `  chrony_sock: ${JSON.stringify(join(mainDir, 'chrony.sock'))}`, ''].join('\n'));
    feeder = await startAgent(join(dir, 'feeder.yaml'));
    // The watcher: no NTP, no PTP; chronyd through its Unix socket; SNMP with a trap sink; /metrics.
    writeFileSync(join(dir, 'watcher.yaml'), [
      'receiver:', '  source: simulator', 'discipline:', '  leap_seconds_file: ""',
      'control:', '  http: { address: 127.0.0.1, port: 0 }', 'prometheus:', '  address: 127.0.0.1', `  port: ${metricsPort}`,
      'ntp:', '  enabled: false', 'ptp:', '  enabled: false',
      'snmp:', '  enabled: true', '  address: 127.0.0.1', `  port: ${snmpPort}`, `  communities: [${community}]`, '  v2c_allow: [127.0.0.0/8]',
      '  trap_sinks:', `    - { host: 127.0.0.1, port: ${trapPort}, version: v2c, community: stack-trap }`,
      'partners:', '  chrony:', '    enabled: true', `    socket: ${JSON.stringify(main.cmdSock)}`, '    poll_s: 1',
      'alarms:', '  chrony_source_unreachable: { raise_after_s: 1, clear_after_s: 1 }', '  chrony_unreachable: { raise_after_s: 1, clear_after_s: 1 }',
      'agent:', `  state_dir: ${JSON.stringify(join(dir, 'watcher-state'))}`, '',
    ].join('\n'));
    watcher = await startAgent(join(dir, 'watcher.yaml'));
    const w = watcher;

    // chronyd synchronised with all three sources answering (reach register full for both servers).
    const ready = await w.waitFor((s) => {
      const c = s.partners.chrony;
      return c.reachable && c.synchronised && c.sources.length === 4 && c.sources.every((x) => (x.mode === 'refclock' ? x.reach !== '0' : x.reach === '377')) &&
        c.sources.some((x) => x.state === '*') && c.sources.find((x) => x.name === '127.0.0.3')?.state === 'x';
    }, 60_000, 'chronyd synchronised with four sources, the refclock fed, 127.0.0.3 a falseticker');
    assert.equal(ready.partners.chrony.transport, `unix ${main.cmdSock}`, 'asked over the Unix socket');
    assert.equal(ready.partners.chrony.notice, null, 'nothing to say about the transport');
    // A few NTP requests to chronyd itself, so its server stats count something.
    for (let i = 0; i < 5; i++) await ntpQuery(mainNtp);
    const withStats = await w.waitFor((s) => (s.partners.chrony.serverStats?.ntpHits ?? 0) >= 5, 10_000, 'chronyd\'s server stats to count our requests');
    assert.equal(withStats.partners.chrony.serverStatsProblem, null, 'server stats answered on the socket');

    // One moment: chronyc, then Status, the walks and /metrics, then chronyc again. chronyd's selection
    // may still move early on (GPS and the agent's server are both stratum 0/1 sources): a moment counts
    // when chronyc said the same reference, stratum and source states before and after, and Status and
    // the walk saw them too (figures that move between two questions are compared with tolerances;
    // names, states and strata exactly).
    const selection = () => {
      const t = main.chronyc('-c', 'tracking').trim().split(',');
      const r = main.chronyc('-c', 'sources').trim().split('\n').map((l) => l.split(','));
      return { tr: t, rows: r, key: `${t[0]} ${t[2]} ${r.map((x) => `${x[2]}${x[1]}`).join(' ')}` };
    };
    let snap: { tr: string[]; rows: string[][]; stats: string[][]; serverstats: string[]; st: Status; v4: Map<string, string>; ours: Map<string, string>; m: Map<string, number> } | undefined;
    for (let attempt = 0; attempt < 8 && !snap; attempt++) {
      const before = selection();
      await sleep(2500); // the partner polls each second, SNMP refreshes each second
      const st = await w.status();
      const v4 = walk(snmpPort, community, 'NTPv4-MIB::ntpSnmpMIBObjects');
      const ours = walk(snmpPort, community, 'STRATUM1-AGENT-MIB::s1Chrony');
      const m = parseMetrics(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
      const after = selection();
      const stats = main.chronyc('-c', 'sourcestats').trim().split('\n').map((l) => l.split(','));
      const serverstats = main.chronyc('-c', 'serverstats').trim().split(',');
      const seen = `${st.partners.chrony.referenceId} ${st.partners.chrony.stratum} ${st.partners.chrony.sources.map((x) => `${x.name}${x.state}`).join(' ')}`;
      if (before.key === after.key && seen === after.key && v4.get('ntpEntStatusStratum.0') === after.tr[2]) {
        snap = { tr: after.tr, rows: after.rows, stats, serverstats, st, v4, ours, m };
      }
    }
    assert.ok(snap, 'chronyd\'s selection held still for one moment in eight tries');
    const { tr, rows, stats, serverstats, st, v4, ours, m } = snap;
    const c = st.partners.chrony;

    // tracking: ref id, name, stratum, ref time, system time, last offset, rms offset, frequency, residual freq, skew, root delay, root dispersion, update interval, leap status
    assert.equal(c.referenceId, tr[0], 'Status: reference ID');
    assert.equal(c.stratum, Number(tr[2]), 'Status: stratum');
    assert.equal(v4.get('ntpEntSoftwareName.0'), 'chronyd', 'NTPv4-MIB describes chronyd');
    assert.equal(Number(v4.get('ntpEntStatusStratum.0')), Number(tr[2]), 'NTPv4-MIB: stratum');
    assert.equal(Number(ours.get('s1ChronyStratum.0')), Number(tr[2]), 'our MIB: stratum');
    assert.equal(m.get('chrony_tracking_stratum'), Number(tr[2]), '/metrics: stratum');
    const selected = rows.findIndex((r) => r[1] === '*');
    const refName = tr[1]!;
    assert.equal(c.reference, refName, 'Status: the reference as chronyc names it');
    assert.equal(v4.get('ntpEntStatusActiveRefSourceName.0'), refName, 'NTPv4-MIB: the reference');
    assert.equal(Number(v4.get('ntpEntStatusActiveRefSourceId.0')), selected + 1, 'NTPv4-MIB: the selected source\'s row');
    assert.match(v4.get('ntpEntStatusCurrentMode.0') ?? '', rows[selected]![0] === '#' ? /syncToRefclock|^5$/ : /syncToRemoteServer|^6$/, `NTPv4-MIB: mode for a ${rows[selected]![0]} reference`);
    assert.match(ours.get('s1ChronyReference.0') ?? '', new RegExp(`^${refName.replace(/\./g, '\\.')} \\(${tr[0]}\\)`), 'our MIB: the reference and its ID');
    assert.ok(m.has(`chrony_tracking_info{tracking_address="${refName}",tracking_name="${refName}",tracking_refid="${tr[0]}"}`), `/metrics: tracking info for ${refName}`);
    assert.equal(c.leapStatus, 'normal', 'Status: leap status');
    assert.equal(tr[13], 'Normal', 'chronyc says Normal');
    assert.equal(ours.get('s1ChronyLeapStatus.0'), 'normal', 'our MIB: leap status');
    // System time: chronyc's "slow" is negative there; ours is the clock minus true time.
    const sysS = -Number(tr[4]);
    assert.ok(near(c.systemOffsetNs! / 1e9, sysS, 1e-4), `Status: system offset ${c.systemOffsetNs} ns vs chronyc ${tr[4]} s`);
    assert.ok(near(m.get('chrony_tracking_system_time_seconds')!, sysS, 1e-4), `/metrics: system time ${m.get('chrony_tracking_system_time_seconds')} vs ${sysS}`);
    assert.ok(near(parseFloat(ours.get('s1ChronySystemOffset.0') ?? '') / 1e9, sysS, 1e-4), `our MIB: system offset ${ours.get('s1ChronySystemOffset.0')} ns`);
    assert.ok(near(m.get('chrony_tracking_frequency_ppms')!, Number(tr[7]), 1), `/metrics: frequency ${m.get('chrony_tracking_frequency_ppms')} vs chronyc ${tr[7]}`);
    assert.ok(near(m.get('chrony_tracking_root_delay_seconds')!, Number(tr[10]), 1e-3), `/metrics: root delay vs chronyc ${tr[10]}`);

    // sources: mode, state, name, stratum, poll, reach, last rx, offset, measured offset, error
    assert.equal(c.sources.length, rows.length, `Status: as many sources as chronyc: ${JSON.stringify(rows)}`);
    assert.equal(Number(v4.get('ntpEntStatusNumberOfRefSources.0')), rows.length, 'NTPv4-MIB: number of sources');
    assert.equal(Number(ours.get('s1ChronySources.0')), rows.length, 'our MIB: number of sources');
    const stateWord: Record<string, string> = { '*': 'selected', '+': 'combined', '-': 'notCombined', x: 'falseticker', '~': 'jittery', '?': 'unusable' };
    rows.forEach((r, i) => {
      const s = c.sources[i]!;
      const n = i + 1;
      assert.deepEqual([s.name, s.state, s.stratum], [r[2], r[1], Number(r[3])], `Status: source ${n} name, state and stratum as chronyc`);
      assert.equal(v4.get(`ntpAssocName.${n}`), r[2], `NTPv4-MIB: association ${n}'s name`);
      assert.equal(Number(v4.get(`ntpAssocStratum.${n}`)), Math.max(1, Number(r[3])), `NTPv4-MIB: association ${n}'s stratum (a refclock's 0 shown as 1)`);
      assert.equal(ours.get(`s1ChronySourceName.${n}`), r[2], `our MIB: source ${n}'s name`);
      assert.match(ours.get(`s1ChronySourceState.${n}`) ?? '', new RegExp(`^${stateWord[r[1]!]}`), `our MIB: source ${n}'s state for chronyc's ${r[1]}`);
      assert.equal(Number(ours.get(`s1ChronySourceStratum.${n}`)), Number(r[3]), `our MIB: source ${n}'s stratum`);
      const addr = r[2]!;
      assert.equal(m.get(`chrony_sources_stratum{source_address="${addr}",source_name="${r[2]}"}`), Number(r[3]), `/metrics: source ${r[2]}'s stratum`);
      assert.equal(m.get(`chrony_sources_polling_interval_seconds{source_address="${addr}",source_name="${r[2]}"}`), 2 ** Number(r[4]), `/metrics: source ${r[2]}'s poll`);
      // The offset moves only with a new sample: within the sample's own error of chronyc's.
      const off = Number(r[7]);
      assert.ok(near(s.offsetNs / 1e9, off, Math.max(1e-3, Number(r[9]))), `Status: source ${r[2]} offset ${s.offsetNs} ns vs chronyc ${off} s`);
    });
    // sourcestats: name, np, nr, span, frequency, freq skew, offset, std dev. NP moves with every poll
    // (a sample a second here; chronyd also drops old ones after its runs test): within 4 of chronyc's.
    for (const r of stats) {
      const s = c.sources.find((x) => x.name === r[0]);
      assert.ok(s?.stats, `Status: stats for ${r[0]}`);
      assert.ok(Math.abs(s.stats.samples - Number(r[1])) <= 4, `Status: ${r[0]} samples ${s.stats.samples} vs chronyc ${r[1]}`);
      const addr = r[0]!;
      const np = m.get(`chrony_sourcestats_samples{source_address="${addr}",source_name="${r[0]}"}`);
      assert.ok(np !== undefined && Math.abs(np - Number(r[1])) <= 4, `/metrics: ${r[0]} samples ${np} vs chronyc ${r[1]}`);
    }
    // serverstats: NTP packets received, dropped, ... (chronyc -c serverstats)
    const hits = Number(serverstats[0]);
    assert.ok(near(c.serverStats!.ntpHits, hits, 2), `Status: NTP requests ${c.serverStats!.ntpHits} vs chronyc ${hits}`);
    assert.ok(near(m.get('chrony_serverstats_ntp_packets_received_total')!, hits, 2), '/metrics: NTP requests');
    assert.ok(near(Number(v4.get('ntpEntStatusInPkts.0')), hits, 2), `NTPv4-MIB: in packets ${v4.get('ntpEntStatusInPkts.0')} vs ${hits}`);
    assert.ok(near(Number(ours.get('s1ChronyNtpRequests.0')), hits, 2), 'our MIB: NTP requests');
    // The agent's own figures keep their own names beside chronyd's.
    assert.ok(m.has('stratum1_offset_seconds') || st.discipline.offsetNs === null, '/metrics: the agent\'s own offset under stratum1_');
    assert.equal(m.get('stratum1_partner_chrony_up'), 1, '/metrics: chronyd answers');

    // The stratum 2 source stopped: after eight unanswered polls its reach is 0; the alarm and its trap.
    await s2.stop();
    const alarmed = await w.waitFor((s) => s.alarms.find((a) => a.name === 'chrony_source_unreachable')?.severity === 'warning', 40_000, 'chrony_source_unreachable');
    assert.ok(alarmed.partners.chrony.sources.some((x) => x.name === '127.0.0.2' && x.reach === '0'), 'the stopped source\'s reach is 0');
    await trap.waitFor(/s1AlarmRaised.*s1AlarmName\.\d+ = STRING: chrony_source_unreachable/s, 'the chrony_source_unreachable alarm trap');

    // chronyd restarted: unreachable (sync lost, with its trap), then back and synchronised (regained).
    await main.stop();
    const down = await w.waitFor((s) => !s.partners.chrony.reachable, 15_000, 'chronyd unreachable');
    assert.match(down.partners.chrony.lastError ?? '', /chronyd/, `the error names chronyd: ${down.partners.chrony.lastError}`);
    await trap.waitFor(/s1ChronySyncLost.*s1ChronyReachable\.0 = INTEGER: false/s, 's1ChronySyncLost');
    await trap.waitFor(/ntpEntNotifModeChange.*ntpEntStatusCurrentMode\.0 = INTEGER: notRunning\(1\)/s, 'NTPv4-MIB\'s mode change to notRunning');
    await main.start();
    const back = await w.waitFor((s) => s.partners.chrony.reachable && s.partners.chrony.synchronised, 60_000, 'chronyd back and synchronised');
    assert.equal(back.partners.chrony.reconnects, 1, 'one reconnect');
    assert.equal(back.partners.chrony.transport, `unix ${main.cmdSock}`, 'over the socket again');
    await trap.waitFor(/s1ChronySyncRegained.*s1ChronySynchronised\.0 = INTEGER: true/s, 's1ChronySyncRegained');
    // After the restart 127.0.0.3 is judged anew: a falseticker again, with its row in the trap.
    await trap.waitFor(/s1ChronySourceFalseticker.*s1ChronySourceName\.\d+ = STRING: "?127\.0\.0\.3"?.*s1ChronySourceState\.\d+ = INTEGER: falseticker\(4\)/s, 's1ChronySourceFalseticker for 127.0.0.3');
    const events = back.events.counts;
    assert.ok((events.chronySyncLost ?? 0) >= 1 && (events.chronySyncRegained ?? 0) >= 1, `events counted: ${JSON.stringify(events)}`);
  } catch (e) {
    console.error(`chronyd:\n${main.output().slice(-3000)}\nstratum 2:\n${s2.output().slice(-2000)}\nwatcher:\n${watcher?.out().slice(-5000) ?? ''}`);
    throw e;
  } finally {
    await watcher?.stop();
    await feeder?.stop();
    await main.stop();
    await s2.stop();
    await s3.stop();
    trap.proc.kill(); // by its PID: the ChildProcess we spawned
    rmSync(dir, { recursive: true, force: true });
  }
});
