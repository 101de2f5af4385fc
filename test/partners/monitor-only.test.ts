/**
 * Monitor-only (partner) mode end to end, with exactly config/monitor-only.yaml (made private: only
 * ports, sockets, paths, poll intervals and alarm delays change, and the oldest date the 2020 capture
 * needs; test/helpers/monitor-stack.ts): the agent's receiver is gpsd (gpsfake replaying a corpus
 * capture), it watches a chronyd (-x, whose source is a stratum 1 chronyd on loopback) and a ptp4l
 * grandmaster (in a network namespace, without CAP_SYS_TIME). It must show all three in Status, serve
 * neither NTP nor PTP (no such socket of the agent's in /proc), raise the chronyd alarms when chronyd
 * stops, and answer snmpwalk of our MIB.
 *
 * chronyd's source is NTP on loopback, not a refclock from gpsd: gpsd's SHM segments are
 * system-wide and its chrony socket path is fixed under /run, neither of which a test may take.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { requirePeers, requireCorpus, ROOT } from '../helpers/env.ts';
import { BIN } from '../helpers/agent.ts';
import { startMonitorStack, socketsOf, MONITOR_CONFIG, type MonitorStack, type Config } from '../helpers/monitor-stack.ts';
import { allScalars } from '../../src/snmp/mib.ts';
import { findPhc2sys } from '../../src/partners/phc2sys.ts';
import { DEFAULT_ROOT } from '../../src/snmp/smi.ts';
import type { Status } from '../../src/status/status.ts';

/** Ports an NTP or PTP server would hold: 123, and PTP's event and general ports. */
const SERVER_PORTS = [123, 319, 320];

test('config/monitor-only.yaml passes check-config and asks for monitor-only mode', () => {
  const r = spawnSync(process.execPath, [BIN, 'check-config', MONITOR_CONFIG], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `check-config: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /OK \(receiver gpsd, PPS gpsd/, `its summary: ${r.stdout}`);
  const text = readFileSync(MONITOR_CONFIG, 'utf8');
  for (const [key, want] of [['ntp', /^ntp:\n {2}enabled: false$/m], ['ptp', /^ptp:\n {2}enabled: false$/m], ['actuator', /^ {2}actuator: none$/m],
    ['receiver', /^receiver:\n {2}source: gpsd$/m], ['chrony', /^ {2}chrony:\n {4}enabled: true$/m], ['ptp4l', /^ {2}ptp4l:\n {4}enabled: true$/m]] as const) {
    assert.match(text, want, `${key} as monitor-only mode wants it`);
  }
});

test('monitor-only mode end to end: gnss from gpsd, chronyd and ptp4l watched, no NTP or PTP served, chronyd\'s alarms, our MIB over SNMP', async (t) => {
  if (!requirePeers(t, 'gpsd', 'gpsfake', 'chronyd', 'chronyc', 'ptp4l', 'pmc', 'setpriv', 'ip', 'snmpwalk') || !requireCorpus(t)) return;
  let stack: MonitorStack | undefined;
  try {
    stack = await startMonitorStack({ pollS: 1 });
    const s = stack;
    const a = s.agent;
    assert.deepEqual(s.adapted.filter((k) => !/(port|socket|state_dir|poll_s|_after_s|logging\.level|min_valid_date)$/.test(k)), [],
      'only ports, sockets, paths, intervals, alarm delays, the log level and the oldest date were changed');

    // The receiver is gpsd: a fix and the sky from the capture, gpsd's own version and device.
    const g = await a.waitFor((x) => x.gnss.fix && x.gnss.satellitesUsed > 0 && x.gpsd.devices.length > 0, 60_000, 'a fix from gpsd');
    assert.equal(g.receiver.source, 'gpsd', 'the receiver is gpsd');
    assert.equal(g.receiver.connected, true, 'connected to gpsd');
    assert.ok(g.gnss.satellitesInView >= 20, `the capture's sky: ${g.gnss.satellitesInView} in view`);
    assert.equal(g.gnss.satellites.length, g.gnss.satellitesInView, 'each satellite listed');
    assert.ok(g.gnss.latitudeDeg !== null && Math.abs(g.gnss.latitudeDeg - 38.11) < 0.01, `the capture's position: ${g.gnss.latitudeDeg}`);
    assert.equal(g.gpsd.release, /(\d+\.\d+(?:\.\d+)?)/.exec(spawnSync('gpsd', ['-V'], { encoding: 'utf8' }).stdout)?.[1], 'gpsd\'s version');
    assert.match(g.gpsd.devices[0]!.path, /^\/dev\/pts\/\d+$/, 'gpsfake\'s pty');

    // chronyd: reachable, synchronised to its loopback source, as chronyc says.
    const c = (await a.waitFor((x) => x.partners.chrony.synchronised && x.partners.chrony.sources[0]?.state === '*', 60_000, 'chronyd synchronised')).partners.chrony;
    const tr = s.chronyd.chronyc('-c', 'tracking').trim().split(',');
    assert.equal(c.reachable, true, 'chronyd reachable');
    assert.equal(c.transport, `unix ${String((s.config.partners as Config & { chrony: Config }).chrony.socket)}`, `asked on chronyd's Unix socket, as chronyc: ${c.notice}`);
    assert.equal(c.reference, '127.0.0.1', 'chronyd\'s reference: its loopback source');
    assert.equal(c.reference, tr[1], 'as chronyc tracking says');
    assert.equal(c.stratum, 2, 'one below its stratum 1 source');
    assert.equal(c.referenceId, tr[0], 'reference ID as chronyc says');

    // ptp4l: the grandmaster, in its expected state (MASTER), its own grandmaster with clockClass 6.
    const p = (await a.waitFor((x) => x.partners.ptp4l.portState === 'MASTER', 60_000, 'ptp4l MASTER')).partners.ptp4l;
    assert.equal(p.reachable, true, 'ptp4l reachable');
    assert.equal(p.expectedPortState, 'MASTER', 'the example expects a grandmaster');
    assert.equal(p.inExpectedState, true, 'in its expected state');
    assert.equal(p.isGrandmaster, true, 'its own grandmaster');
    assert.equal(p.gmClockClass, 6, 'clockClass from its config');
    // phc2sys: none is started here; the agent's look in /proc agrees with one taken now.
    assert.equal(p.phc2sys.running, findPhc2sys('/proc', s.ptp4lSocket).running, 'phc2sys as /proc shows it');
    assert.equal(p.phc2sys.followsWatchedPtp4l, false, 'no phc2sys asks this private ptp4l');

    // Neither NTP nor PTP: not in what the agent says it listens on, nor in its sockets in /proc.
    const st = await a.status();
    const services = st.agent.listening.map((e) => e.service);
    assert.ok(!services.some((x) => /^(ntp|nts|ptp)/.test(x)), `no NTP or PTP service: ${services.join(', ')}`);
    assert.equal(st.ntp.enabled, false, 'Status: NTP off');
    assert.equal(st.ptp.enabled, false, 'Status: PTP off');
    const socks = socketsOf(a.proc.pid!);
    assert.ok(socks.length > 0, 'the agent\'s sockets are read');
    const held = socks.filter((x) => SERVER_PORTS.includes(x.localPort));
    assert.deepEqual(held, [], `no socket on ${SERVER_PORTS.join(', ')}`);
    // UDP: SNMP's port, and the socket the chronyd partner asks from (unconnected, on an ephemeral port).
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [number, number];
    const udp = socks.filter((x) => x.proto === 'udp').map((x) => x.localPort);
    assert.ok(udp.includes(s.snmpPort), `SNMP's port: ${JSON.stringify(socks)}`);
    const others = udp.filter((x) => x !== s.snmpPort);
    assert.ok(others.length <= 1 && others.every((x) => x >= lo && x <= hi), `besides SNMP, at most the chronyd client's ephemeral port (${lo}-${hi}): ${others.join(', ')}`);
    const tcp = socks.filter((x) => x.proto === 'tcp' && x.listening).map((x) => x.localPort).sort();
    const wantTcp = st.agent.listening.filter((e) => e.protocol === 'tcp').map((e) => e.port).sort();
    assert.deepEqual(tcp, wantTcp, 'TCP: only what Status lists (the status endpoint and /metrics)');

    // Our MIB over SNMPv3, with the user of the example config.
    const user = ((s.config.snmp as Config).users as Config[])[0]!;
    const before = await a.status();
    const walk = spawnSync('snmpwalk', ['-m', '', '-On', '-t', '2', '-r', '1', '-v3', '-l', 'authPriv', '-u', String(user.name), '-a', 'SHA-256',
      '-A', String(user.auth_key), '-x', 'AES', '-X', String(user.priv_key), `127.0.0.1:${s.snmpPort}`, DEFAULT_ROOT], { encoding: 'utf8', timeout: 60_000 });
    const after = await a.status();
    assert.equal(walk.status, 0, `snmpwalk: ${walk.stderr}`);
    const rows = new Map(walk.stdout.split('\n').map((l) => /^\.(\S+) = (?:[A-Za-z0-9-]+: )?(.*)$/.exec(l)).filter((m) => m !== null).map((m) => [m[1]!, m[2]!]));
    assert.ok(rows.size > 50, `our MIB answers: ${rows.size} objects`);
    const oid = (name: string) => `${DEFAULT_ROOT}.${allScalars().find((x) => x.def.name === name)!.oid.join('.')}.0`;
    const inView = Number(rows.get(oid('s1GnssSatellitesInView')));
    assert.ok([before.gnss.satellitesInView, after.gnss.satellitesInView].includes(inView), `satellites in view over SNMP ${inView}, Status ${before.gnss.satellitesInView}/${after.gnss.satellitesInView}`);
    assert.equal(rows.get(oid('s1GnssReceiverConnected')), '1', 'receiver connected (TruthValue true)');

    // chronyd stops: unreachable, and its alarm raised; ptp4l's stay clear.
    await s.chronyd.stop();
    const down = await a.waitFor((x) => x.alarms.some((al) => al.name === 'chrony_unreachable' && al.severity !== 'none'), 20_000, 'chrony_unreachable raised');
    const raised = (x: Status) => x.alarms.filter((al) => al.severity !== 'none').map((al) => al.name);
    assert.equal(down.partners.chrony.reachable, false, 'chronyd unreachable');
    assert.ok(down.partners.chrony.lastError, `the error is said: ${down.partners.chrony.lastError}`);
    assert.ok(!raised(down).some((n) => n.startsWith('ptp4l_')), `ptp4l's alarms stay clear: ${raised(down).join(', ')}`);
  } finally {
    await stack?.stop();
  }
});
