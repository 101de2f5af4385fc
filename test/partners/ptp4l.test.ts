/**
 * The ptp4l partner against Debian's linuxptp: a ptp4l grandmaster (masterOnly, free_running: it never
 * adjusts a clock) and a ptp4l slave of it, each in a network namespace of its own joined by a veth
 * pair, software timestamps, both without CAP_SYS_TIME (setpriv drops it from the bounding and
 * inheritable sets, and the test checks ptp4l's effective set), so neither can steer the clock the
 * namespaces share; each with a private management socket (uds_address) in a temp directory. The
 * agent (simulator) watches the slave's socket: Status partners.ptp4l must say what `pmc -u` says;
 * the grandmaster read directly by the client must agree with pmc too. Stopping the grandmaster moves
 * the slave out of its expected state; stopping the slave shows it missing; starting it again shows it
 * reconnected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, agentConfig, type RunningAgent } from '../helpers/agent.ts';
import { requirePeers } from '../helpers/env.ts';
import { netPair } from '../helpers/netns.ts';
import { pmc, ptp4l } from '../helpers/ptp4l.ts';
import { freeTcpPort, freeUdpPort } from '../helpers/ports.ts';
import { trapd, walk, type Trapd } from '../helpers/snmp-tools.ts';
import { parseMetrics } from '../helpers/metrics.ts';
import { formatStatus } from '../../src/cli/main.ts';
import { Ptp4lUdsClient, pollPtp4l, ptp4lFacts } from '../../src/partners/ptp4l.ts';
import { addon } from '../../src/native/addon.ts';
import type { Status, PartnerPtp4lStatus } from '../../src/status/status.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(a: RunningAgent, pred: (p: PartnerPtp4lStatus) => boolean, ms: number, what: string): Promise<Status> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await a.status();
    if (pred(s.partners.ptp4l)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s.partners.ptp4l)}`);
    await sleep(250);
  }
}

test('the ptp4l partner: Status agrees with pmc -u on the five data sets; the grandmaster too; a lost grandmaster leaves the expected state; a stopped ptp4l is missing, a restarted one reconnects', async (t) => {
  if (!requirePeers(t, 'ptp4l', 'pmc', 'setpriv', 'ip', 'snmpwalk', 'snmptrapd')) return;
  assert.ok(addon, 'the native addon is built (npm run install)');
  const dir = mkdtempSync(join(tmpdir(), 'partner-ptp4l-'));
  const net = netPair('p4l');
  const gmSock = join(dir, 'gm.sock');
  const slSock = join(dir, 'sl.sock');
  writeFileSync(join(dir, 'gm.conf'), ['[global]', 'masterOnly 1', 'free_running 1', 'clockClass 6', 'clockAccuracy 0x21', 'timeSource 0x20',
    'priority1 100', `uds_address ${gmSock}`, 'logging_level 6', ''].join('\n'));
  writeFileSync(join(dir, 'sl.conf'), ['[global]', 'slaveOnly 1', `uds_address ${slSock}`, 'logging_level 6', 'summary_interval 0', ''].join('\n'));
  const gm = ptp4l(net, 'a', join(dir, 'gm.conf'));
  const sl = ptp4l(net, 'b', join(dir, 'sl.conf'));
  let agent: RunningAgent | undefined;
  let trap: Trapd | undefined;
  const direct = new Ptp4lUdsClient(gmSock, dir);
  try {
    await gm.start();
    await sl.start();
    const stateDir = join(dir, 'state');
    const cfg = join(dir, 'agent.yaml');
    const snmpPort = await freeUdpPort();
    const trapPort = await freeUdpPort();
    const metricsPort = await freeTcpPort();
    trap = trapd(dir, 'p4l-trap', trapPort);
    writeFileSync(cfg, agentConfig(stateDir, ['127.0.0.1'], await freeUdpPort()).replace('prometheus:\n  port: 0', `prometheus:\n  port: ${metricsPort}`) + [
      'snmp:', '  enabled: true', '  address: 127.0.0.1', `  port: ${snmpPort}`, '  communities: [p4l-ro-x]', '  v2c_allow: [127.0.0.0/8]',
      '  trap_sinks:', `    - { host: 127.0.0.1, port: ${trapPort}, version: v2c, community: p4l-trap }`, 'partners:', '  ptp4l:', '    enabled: true', `    socket: ${JSON.stringify(slSock)}`, '    poll_s: 1',
      '    expected_port_state: SLAVE',
      'alarms:', '  ptp4l_unreachable:', '    raise_after_s: 1', '    clear_after_s: 1', '  ptp4l_port_state:', '    raise_after_s: 1', '    clear_after_s: 1', '',
    ].join('\n'));
    agent = await startAgent(cfg);
    const a = agent;

    // The slave selects the grandmaster and reaches SLAVE (about 30 s with software timestamps).
    const st = await waitFor(a, (p) => p.portState === 'SLAVE' && p.gmClockClass === 6, 90_000, 'the slave to reach SLAVE');
    const p = st.partners.ptp4l;
    assert.equal(p.reachable, true, 'reachable');
    assert.equal(p.inExpectedState, true, 'SLAVE as expected');
    assert.equal(p.problem, null, 'no problem');
    assert.ok(p.localSocket?.startsWith(join(stateDir, 'partners')), `our socket in the private dir: ${p.localSocket}`);

    // pmc, asked right after: the same values (offsets move each Sync: within 50 us).
    const pds = pmc(slSock, 'PORT_DATA_SET');
    assert.equal(p.ports.length, 1, 'one port');
    assert.equal(p.ports[0]!.portIdentity, pds.portIdentity, 'portIdentity');
    assert.equal(p.portState, pds.portState, 'portState');
    assert.equal(p.ports[0]!.logSyncInterval, Number(pds.logSyncInterval), 'logSyncInterval');
    assert.equal(p.ports[0]!.delayMechanism, Number(pds.delayMechanism), 'delayMechanism');
    const dds = pmc(slSock, 'DEFAULT_DATA_SET');
    assert.equal(p.clockIdentity, dds.clockIdentity, 'clockIdentity');
    assert.equal(p.slaveOnly, dds.slaveOnly === '1', 'slaveOnly');
    const par = pmc(slSock, 'PARENT_DATA_SET');
    assert.equal(p.grandmasterIdentity, par.grandmasterIdentity, 'grandmasterIdentity');
    assert.equal(p.parentPortIdentity, par.parentPortIdentity, 'parentPortIdentity');
    assert.equal(p.gmClockClass, Number(par['gm.ClockClass']), 'gm clockClass');
    assert.equal(`0x${p.gmClockAccuracy!.toString(16).padStart(2, '0')}`, par['gm.ClockAccuracy'], 'gm clockAccuracy');
    assert.equal(`0x${p.gmOffsetScaledLogVariance!.toString(16).padStart(4, '0')}`, par['gm.OffsetScaledLogVariance'], 'gm variance');
    assert.equal(p.gmPriority1, Number(par.grandmasterPriority1), 'gm priority1');
    assert.equal(p.isGrandmaster, false, 'not its own grandmaster');
    const cur = pmc(slSock, 'CURRENT_DATA_SET');
    assert.equal(p.stepsRemoved, Number(cur.stepsRemoved), 'stepsRemoved');
    assert.ok(Math.abs(p.offsetFromMasterNs! - Number(cur.offsetFromMaster)) < 50_000, `offsetFromMaster ${p.offsetFromMasterNs} vs pmc ${cur.offsetFromMaster}`);
    assert.ok(Math.abs(p.meanPathDelayNs! - Number(cur.meanPathDelay)) < 50_000, `meanPathDelay ${p.meanPathDelayNs} vs pmc ${cur.meanPathDelay}`);
    const tp = pmc(slSock, 'TIME_PROPERTIES_DATA_SET');
    assert.equal(p.currentUtcOffset, Number(tp.currentUtcOffset), 'currentUtcOffset');
    assert.equal(p.currentUtcOffsetValid, tp.currentUtcOffsetValid === '1', 'currentUtcOffsetValid');
    assert.equal(p.leap59, tp.leap59 === '1', 'leap59');
    assert.equal(p.leap61, tp.leap61 === '1', 'leap61');
    assert.equal(p.timeTraceable, tp.timeTraceable === '1', 'timeTraceable');
    assert.equal(p.frequencyTraceable, tp.frequencyTraceable === '1', 'frequencyTraceable');
    assert.equal(`0x${p.timeSource!.toString(16).padStart(2, '0')}`, tp.timeSource, 'timeSource');
    assert.equal(p.timeSourceName, 'GPS', 'the grandmaster\'s timeSource 0x20');
    const ts = pmc(slSock, 'TIME_STATUS_NP');
    assert.equal(p.gmPresent, ts.gmPresent === 'true', 'gmPresent');
    assert.equal(p.timeStatusGmIdentity, ts.gmIdentity, 'gmIdentity');
    assert.ok(Math.abs(p.masterOffsetNs! - Number(ts.master_offset)) < 50_000, `master_offset ${p.masterOffsetNs} vs pmc ${ts.master_offset}`);
    console.log(`ptp4l slave as the partner sees it: offsetFromMaster ${p.offsetFromMasterNs} ns, meanPathDelay ${p.meanPathDelayNs} ns, ` +
      `master_offset ${p.masterOffsetNs} ns; pmc: ${cur.offsetFromMaster}, ${cur.meanPathDelay}, ${ts.master_offset}`);

    // The grandmaster, read by the client directly, agrees with pmc too.
    const g = await pollPtp4l(direct.ask);
    assert.ok(g.ok, `the grandmaster answers: ${g.ok ? '' : g.error}`);
    const gf = ptp4lFacts(g.value, 'MASTER');
    const gpds = pmc(gmSock, 'PORT_DATA_SET');
    const gpar = pmc(gmSock, 'PARENT_DATA_SET');
    assert.equal(gf.portState, gpds.portState, 'grandmaster portState');
    assert.equal(gf.portState, 'MASTER', 'MASTER');
    assert.equal(gf.inExpectedState, true, 'in its expected state');
    assert.equal(gf.grandmasterIdentity, gpar.grandmasterIdentity, 'its grandmaster');
    assert.equal(gf.isGrandmaster, true, 'itself');
    assert.equal(gf.grandmasterIdentity, p.grandmasterIdentity, 'the slave\'s grandmaster is this one');
    assert.equal(gf.gmPresent, pmc(gmSock, 'TIME_STATUS_NP').gmPresent === 'true', 'gmPresent');

    // stratum1 status shows it as pmc would.
    const text = formatStatus(st);
    assert.match(text, new RegExp(`ptp4l \\(${slSock.replace(/[.]/g, '\\.')}\\): SLAVE\\n`), `heading:\n${text}`);
    assert.match(text, new RegExp(`grandmasterIdentity +${p.grandmasterIdentity!.replace(/\./g, '\\.')}\\n`), 'grandmaster line');
    assert.match(text, /gm\.ClockClass +6\n/, 'clockClass line');

    // Our MIB's ptp4l group and /metrics say the same as pmc; reaching SLAVE and finding the
    // grandmaster were notifications.
    const w = walk(snmpPort, 'p4l-ro-x', 'STRATUM1-AGENT-MIB::s1Ptp4l');
    assert.equal(w.get('s1Ptp4lPortState.0'), pds.portState, 'our MIB: port state as pmc');
    assert.equal(w.get('s1Ptp4lInExpectedState.0'), 'true', 'our MIB: in the expected state');
    assert.equal(w.get('s1Ptp4lGrandmasterIdentity.0'), par.grandmasterIdentity, 'our MIB: grandmaster as pmc');
    assert.equal(Number(w.get('s1Ptp4lGmClockClass.0')), Number(par['gm.ClockClass']), 'our MIB: clockClass as pmc');
    assert.equal(Number(w.get('s1Ptp4lStepsRemoved.0')), Number(cur.stepsRemoved), 'our MIB: stepsRemoved as pmc');
    const m = parseMetrics(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
    assert.equal(m.get(`stratum1_partner_ptp4l_port_state{state="${pds.portState}"}`), 1, '/metrics: the port state');
    assert.equal(m.get('stratum1_partner_ptp4l_gm_clock_class'), Number(par['gm.ClockClass']), '/metrics: clockClass');
    assert.equal(m.get('stratum1_partner_ptp4l_up'), 1, '/metrics: ptp4l answers');
    await trap.waitFor(/s1Ptp4lPortStateChanged.*s1Ptp4lPortState\.0 = STRING: "?SLAVE"?.*s1Ptp4lInExpectedState\.0 = INTEGER: true/s, 'the port state reaching SLAVE');
    await trap.waitFor(/s1Ptp4lGrandmasterChanged.*s1Ptp4lGmClockClass\.0 = INTEGER: 6/s, 'the grandmaster found (clockClass 6)');

    // The grandmaster stops: the slave leaves SLAVE; the partner says it is not in its expected state.
    await gm.stop();
    const lost = await waitFor(a, (x) => x.reachable && x.portState !== 'SLAVE', 30_000, 'the slave to leave SLAVE');
    assert.equal(lost.partners.ptp4l.inExpectedState, false, 'not in the expected state');
    assert.equal(lost.partners.ptp4l.portState, pmc(slSock, 'PORT_DATA_SET').portState, 'the state pmc sees');
    assert.match(formatStatus(lost), /ptp4l \(.*\): \S+ \(NOT SLAVE, as expected\)/, 'status says so');
    const ev = lost.events.recent.find((e) => e.type === 'ptp4lPortStateChanged' && e.from === 'SLAVE');
    assert.ok(ev, `an event for the port state leaving SLAVE: ${JSON.stringify(lost.events.recent)}`);
    assert.equal(ev.to, lost.partners.ptp4l.portState, 'to the state Status shows');
    assert.equal(ev.inExpectedState, false, 'out of the expected state');
    await trap.waitFor(/s1Ptp4lPortStateChanged.*s1Ptp4lInExpectedState\.0 = INTEGER: false/s, 'the port state leaving SLAVE');
    const sev = (st: Status, name: string) => st.alarms.find((al) => al.name === name)?.severity;
    let alarmed = lost;
    for (let i = 0; i < 20 && sev(alarmed, 'ptp4l_port_state') !== 'critical'; i++) {
      await new Promise((r) => setTimeout(r, 500));
      alarmed = await a.status();
    }
    assert.equal(sev(alarmed, 'ptp4l_port_state'), 'critical', 'the ptp4l_port_state alarm is raised');
    assert.equal(sev(alarmed, 'ptp4l_unreachable'), 'none', 'ptp4l answers: not unreachable');

    // The slave stops: missing, nothing of its old state shown as current.
    await sl.stop();
    const down = await waitFor(a, (x) => !x.reachable, 10_000, 'the partner to be unreachable');
    assert.match(down.partners.ptp4l.lastError ?? '', /cannot reach ptp4l at .*sl\.sock|no reply from ptp4l at .*sl\.sock/, `the error: ${down.partners.ptp4l.lastError}`);
    assert.equal(down.partners.ptp4l.portState, null, 'no stale port state');
    assert.equal(down.partners.ptp4l.grandmasterIdentity, null, 'no stale grandmaster');
    assert.equal(down.partners.ptp4l.inExpectedState, false, 'not in the expected state');
    assert.match(formatStatus(down), /ptp4l \(.*\): UNREACHABLE: /, 'status says unreachable');
    let downAlarm = down;
    for (let i = 0; i < 20 && sev(downAlarm, 'ptp4l_unreachable') !== 'critical'; i++) {
      await new Promise((r) => setTimeout(r, 500));
      downAlarm = await a.status();
    }
    assert.equal(sev(downAlarm, 'ptp4l_unreachable'), 'critical', 'the ptp4l_unreachable alarm is raised');
    assert.equal(downAlarm.alarms.find((al) => al.name === 'ptp4l_port_state')?.current, null, 'the port state rule has no figure while ptp4l is unreachable');

    // Started again: reconnected.
    await sl.start();
    const back = await waitFor(a, (x) => x.reachable, 15_000, 'the partner to answer again');
    assert.equal(back.partners.ptp4l.reconnects, 1, 'one reconnect');
    assert.equal(back.partners.ptp4l.lastError, null, 'the error cleared');
    assert.ok(back.partners.ptp4l.failures >= 1, 'the failures counted');
    assert.equal(back.partners.ptp4l.clockIdentity, dds.clockIdentity, 'the same clock');

    const ourSocket = back.partners.ptp4l.localSocket!;
    assert.ok(existsSync(ourSocket), 'our socket exists while the agent runs');
    await a.stop();
    agent = undefined;
    assert.ok(!existsSync(ourSocket), 'the agent removes its socket when it stops');
  } catch (e) {
    console.error(`grandmaster:\n${gm.log().slice(-3000)}\nslave:\n${sl.log().slice(-3000)}\nagent:\n${agent?.out() ?? ''}`);
    throw e;
  } finally {
    direct.close();
    await agent?.stop();
    trap?.proc.kill(); // by its PID: the ChildProcess we spawned
    await gm.stop();
    await sl.stop();
    net.remove();
    rmSync(dir, { recursive: true, force: true });
  }
});
