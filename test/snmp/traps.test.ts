/**
 * Notifications to real snmptrapd instances (loopback, private configs): one accepting only a v2c
 * community (traps and informs), one only a v3 user bound to our engine ID. Driven by a simulator
 * fault: the antenna unplugged gives exactly one s1GpsFixLost and, when it returns, exactly one
 * s1GpsFixAcquired, decoded by name from our MIB file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readFileSync, copyFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { requirePeers, ROOT, SHARED } from '../helpers/env.ts';
import { startAgent } from '../helpers/agent.ts';
import { NOTIFICATIONS } from '../../src/snmp/mib.ts';
import { freeUdpPort } from '../helpers/ports.ts';

const ENGINE = '80001f8804aabbccddeeff0011223344';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


function trapd(dir: string, name: string, conf: string, port: number): { proc: ChildProcess; log: string } {
  const confFile = join(dir, `${name}.conf`);
  writeFileSync(confFile, conf);
  const log = join(dir, `${name}.log`);
  // Our MIB from mibs/, NTPv4-MIB from the RFC text in shared/reference (a test tool, not shipped).
  const proc = spawn('snmptrapd', ['-f', '-Lf', log, '-C', '-c', confFile, '-M', `${dir}:${resolve(SHARED, 'reference')}:${resolve(ROOT, 'node_modules/net-snmp/lib/mibs')}`,
    '-m', 'STRATUM1-AGENT-MIB:SNMPv2-MIB:NTPv4-MIB', `udp:127.0.0.1:${port}`], { stdio: 'ignore' });
  return { proc, log };
}

const trapNames = (log: string) => (existsSync(log) ? [...readFileSync(log, 'utf8').matchAll(/snmpTrapOID\.0 = OID: STRATUM1-AGENT-MIB::(s1\w+)/g)].map((m) => m[1]!) : []);
const count = (xs: string[], x: string) => xs.filter((y) => y === x).length;

test('snmptrapd receives v2c traps, v2c informs and v3 traps, decoded by name; antenna loss gives one fix-lost and one fix-acquired', async (t) => {
  if (!requirePeers(t, 'snmptrapd')) return;
  const dir = mkdtempSync(join(tmpdir(), 'traps-'));
  copyFileSync(resolve(ROOT, 'mibs/STRATUM1-AGENT-MIB.txt'), join(dir, 'STRATUM1-AGENT-MIB.txt'));
  const [p2, pInform, p3, snmpPort, ctl] = [await freeUdpPort(), await freeUdpPort(), await freeUdpPort(), await freeUdpPort(), await freeUdpPort()];
  const v2 = trapd(dir, 'v2c', 'authCommunity log trapcomm\n', p2);
  const inf = trapd(dir, 'inform', 'authCommunity log informcomm\n', pInform);
  const v3 = trapd(dir, 'v3', `createUser -e 0x${ENGINE} trapuser SHA-256 trap-auth-123 AES trap-priv-123\nauthUser log trapuser\n`, p3);
  writeFileSync(join(dir, 'c.yaml'), [
    'receiver:', '  source: simulator',
    'simulator:', '  faults:', '    - { at_s: 12, kind: antenna_unplugged, duration_s: 8 }',
    // Then the receiver's time 1 s off for 10 s: once the labels agree among themselves again, the
    // integrity gate refuses them; the clock holds over a second time.
    '    - { at_s: 32, kind: time_jump, duration_s: 10, value: 1 }',
    // Lock quickly (before the fault) so the NTPv4-MIB mode and stratum changes happen too.
    'discipline:', '  lock_min_samples: 3', '  lock_freq_sigma_ppb: 5000', `  leap_seconds_file: ${JSON.stringify(join(dir, 'leap-seconds.list'))}`,
    // Alarms that clear a second after their condition goes, so the test sees s1AlarmCleared too.
    'alarms:', '  fix_lost: { clear_after_s: 1 }', '  pps_missing: { clear_after_s: 1 }', '  antenna_fault: { clear_after_s: 1 }', '  pps_label_mismatch: { clear_after_s: 1 }',
    'control:', `  http: { address: 127.0.0.1, port: ${ctl} }`, 'prometheus:', '  port: 0',
    'ntp:', '  enabled: false',
    'snmp:', '  enabled: true', '  address: 127.0.0.1', `  port: ${snmpPort}`, `  engine_id: ${ENGINE}`,
    '  users:', '    - { name: trapuser, auth_key: trap-auth-123, priv_key: trap-priv-123 }',
    '  trap_sinks:',
    `    - { host: 127.0.0.1, port: ${p2}, version: v2c, community: trapcomm }`,
    `    - { host: 127.0.0.1, port: ${pInform}, version: v2c, community: informcomm, inform: true }`,
    `    - { host: 127.0.0.1, port: ${p3}, version: v3, user: trapuser }`,
    '  heartbeat_s: 3',
    'agent:', `  state_dir: ${JSON.stringify(dir)}`, '',
  ].join('\n'));
  // A hand-made leap second table (not IERS data) with an insertion at the coming UTC midnight, so the
  // announcement (due during the last day) happens now, whatever day the test runs.
  const ntp = (ms: number) => Math.floor(ms / 1000) + 2208988800;
  const midnight = Math.ceil(Date.now() / 86_400_000) * 86_400_000;
  writeFileSync(join(dir, 'leap-seconds.list'), [`#@\t${ntp(midnight + 200 * 86_400_000)}`, `${ntp(Date.UTC(2017, 0, 1))}\t37`, `${ntp(midnight)}\t38`, ''].join('\n'));
  await sleep(500);
  const agent = await startAgent(join(dir, 'c.yaml'));
  try {
    const test = spawnSync(process.execPath, [resolve(ROOT, 'bin/stratum1.js'), 'traps', 'test', '--url', `http://127.0.0.1:${ctl}/status`], { encoding: 'utf8' });
    assert.equal(test.status, 0, test.stderr);
    assert.match(test.stdout, /sent: s1Test/);
    // Cold start, the antenna out from 12 s to 20 s, back: wait for the recovery.
    await agent.waitFor((s) => s.snmp.trapsByName.s1PpsRestored !== undefined && s.gnss.fix && s.discipline.state === 'LOCKED' &&
      s.alarms.every((a) => a.severity === 'none') && (s.snmp.trapsByName.s1AlarmCleared ?? 0) >= 5 &&
      s.snmp.trapsByName.s1TimeJumpEnded !== undefined, 60_000, 'recovery');
    await sleep(1500);
    const resend = spawnSync(process.execPath, [resolve(ROOT, 'bin/stratum1.js'), 'traps', 'resend', '--url', `http://127.0.0.1:${ctl}/status`], { encoding: 'utf8' });
    assert.match(resend.stdout, /nothing \(no active fault\)/);
    const st = await agent.status();
    for (const [name, log] of [['v2c', v2.log], ['inform', inf.log], ['v3', v3.log]] as const) {
      const got = trapNames(log);
      assert.equal(count(got, 's1Test'), 1, `${name}: ${got.join(' ')}`);
      assert.equal(count(got, 's1GpsFixLost'), 1, `${name}: ${got.join(' ')}`);
      assert.equal(count(got, 's1GpsFixAcquired'), 2, `${name}: the cold start and the recovery: ${got.join(' ')}`);
      assert.equal(count(got, 's1AntennaFault'), 1, name);
      assert.equal(count(got, 's1AntennaOk'), 1, name);
      assert.equal(count(got, 's1PpsLost'), 1, name);
      assert.equal(count(got, 's1PpsRestored'), 1, name);
      assert.equal(count(got, 's1HoldoverEntered'), 2, `${name}: the antenna and the time jump`);
      assert.equal(count(got, 's1HoldoverExited'), 2, name);
      assert.equal(count(got, 's1LeapSecondAnnounced'), 1, name);
      assert.ok(count(got, 's1LockStateChanged') >= 4, name);
      assert.ok(count(got, 's1Heartbeat') >= 2, name);
      assert.equal(count(got, 's1TimeJumpRefused'), 1, `${name}: ${got.join(' ')}`);
      assert.equal(count(got, 's1TimeJumpEnded'), 1, name);
      // The jumped labels also broke step with the PPS count: the pps_count check, failed and passed once.
      assert.equal(count(got, 's1IntegrityCheckFailed'), 1, `${name}: ${got.join(' ')}`);
      assert.equal(count(got, 's1IntegrityCheckPassed'), 1, name);
      // fix_lost, pps_missing, antenna_fault, time_jump and pps_label_mismatch: raised once each and cleared once each.
      assert.equal(count(got, 's1AlarmRaised'), 5, `${name}: ${got.join(' ')}`);
      assert.equal(count(got, 's1AlarmCleared'), 5, name);
      // Every notification our MIB defines for the agent's own clock has been received and decoded by name.
      // (The partner notifications, s1Chrony* and s1Ptp4l*, need chronyd and ptp4l: test/partners.)
      for (const n of NOTIFICATIONS.filter((x) => !/^s1(Chrony|Ptp4l)/.test(x.name))) assert.ok(got.includes(n.name), `${name}: never received ${n.name}`);
      // Every name decoded from our MIB, none left numeric.
      for (const n of got) assert.ok(NOTIFICATIONS.some((x) => x.name === n), n);
      // NTPv4-MIB's own: the mode (not synchronized to refclock) and stratum (16 to 1) changes.
      const text = readFileSync(log, 'utf8');
      assert.match(text, /snmpTrapOID\.0 = OID: NTPv4-MIB::ntpEntNotifModeChange\s+NTPv4-MIB::ntpEntStatusCurrentMode\.0 = INTEGER: syncToRefclock\(5\)/, `${name}: mode change`);
      assert.match(text, /NTPv4-MIB::ntpEntNotifStratumChange.*ntpEntStatusStratum\.0 = Gauge32: 1.*ntpEntNotifMessage\.0 = STRING: "?stratum 16 to 1/, `${name}: stratum change`);
      for (const v4 of ['ntpEntNotifSyspeerChanged', 'ntpEntNotifLeapSecondAnnounced', 'ntpEntNotifHeartbeat']) {
        assert.match(text, new RegExp(`snmpTrapOID\\.0 = OID: NTPv4-MIB::${v4}`), `${name}: ${v4}`);
      }
    }
    const text = readFileSync(v3.log, 'utf8');
    assert.match(text, /STRATUM1-AGENT-MIB::s1GnssAntenna\.0 = INTEGER: internal\(2\)/);
    // An alarm notification names its row: the rule, its severity, the value and the threshold.
    assert.match(text, /s1AlarmRaised.*s1AlarmName\.4 = STRING: pps_missing.*s1AlarmSeverity\.4 = INTEGER: critical\(2\)/);
    // An integrity notification names its check's row, with the figure and the threshold (sent in
    // thousandths, 1000, and shown by snmptrapd through S1Thousandths' DISPLAY-HINT "d-3" as 1.000).
    assert.match(text, /s1IntegrityCheckFailed.*s1IntegrityCheckName\.5 = STRING: pps_count.*s1IntegrityCheckValue\.5 = INTEGER: 1\.000.*s1IntegrityCheckThreshold\.5 = INTEGER: 1\.000/);
    assert.ok(st.snmp.trapsAcknowledged >= 8, `informs acknowledged: ${st.snmp.trapsAcknowledged}`);
    assert.equal(st.snmp.trapsFailed, 0);
  } finally {
    await agent.stop();
    for (const p of [v2.proc, inf.proc, v3.proc]) p.kill('SIGTERM');
    await sleep(200);
    rmSync(dir, { recursive: true, force: true });
  }
});
