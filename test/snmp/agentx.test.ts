/**
 * AgentX: our agent as a subagent of a real snmpd (master, private config, loopback TCP). Walk our
 * subtree, NTPv4-MIB and snmpd's own system group through snmpd; restart snmpd; walk again without
 * restarting the agent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePeers } from '../helpers/env.ts';
import { freeTcpPort, freeUdpPort } from '../helpers/ports.ts';
import { startAgent } from '../helpers/agent.ts';
import { DEFAULT_ROOT } from '../../src/snmp/smi.ts';
import { allScalars } from '../../src/snmp/mib.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function snmpd(conf: string): ChildProcess {
  return spawn('snmpd', ['-f', '-Lo', '-C', '-c', conf, '-M', '/nonexistent', '-m', ''], { stdio: 'ignore' });
}

function walk(port: number, oid: string): string[] {
  const r = spawnSync('snmpwalk', ['-v2c', '-c', 'axcomm', '-m', '', '-On', '-t', '1', '-r', '1', `127.0.0.1:${port}`, oid], { encoding: 'utf8', timeout: 30_000 });
  return r.stdout.split('\n').filter((l) => l.startsWith('.'));
}

async function waitWalk(port: number, oid: string, want: number, ms: number): Promise<string[]> {
  const end = Date.now() + ms;
  for (;;) {
    const w = walk(port, oid);
    if (w.length >= want || Date.now() > end) return w;
    await sleep(500);
  }
}

test('as an AgentX subagent of snmpd: walked through snmpd, and again after snmpd restarts', async (t) => {
  if (!requirePeers(t, 'snmpd', 'snmpwalk')) return;
  const dir = mkdtempSync(join(tmpdir(), 'agentx-'));
  const [ax, udp] = [await freeTcpPort(), await freeUdpPort()];
  const conf = join(dir, 'snmpd.conf');
  writeFileSync(conf, ['master agentx', `agentXSocket tcp:127.0.0.1:${ax}`, `agentaddress udp:127.0.0.1:${udp}`, 'rocommunity axcomm 127.0.0.1', ''].join('\n'));
  writeFileSync(join(dir, 'c.yaml'), [
    'receiver:', '  source: simulator', 'control:', '  http: { address: 127.0.0.1, port: 0 }', 'prometheus:', '  port: 0', 'ntp:', '  enabled: false',
    'snmp:', '  enabled: true', '  mode: agentx', '  agentx_master: 127.0.0.1', `  agentx_port: ${ax}`,
    'agent:', `  state_dir: ${JSON.stringify(dir)}`, '',
  ].join('\n'));
  let master = snmpd(conf);
  await sleep(1000);
  const agent = await startAgent(join(dir, 'c.yaml'));
  const scalars = allScalars().length;
  try {
    const ours = await waitWalk(udp, DEFAULT_ROOT, scalars, 20_000);
    assert.ok(ours.length >= scalars, `${ours.length} objects of ours through snmpd`);
    assert.ok(ours.some((l) => l.startsWith(`.${DEFAULT_ROOT}.1.1.1.0 = STRING: "stratum1"`)), ours[0]);
    assert.ok(walk(udp, '1.3.6.1.2.1.197').length > 20, 'NTPv4-MIB through snmpd');
    const sys = walk(udp, '1.3.6.1.2.1.1');
    assert.ok(sys.some((l) => l.startsWith('.1.3.6.1.2.1.1.5.0 = STRING:')), 'snmpd\'s own system group');
    await sleep(300); // Status is a snapshot rebuilt every 250 ms: read one taken after the walk
    const st = await agent.status();
    assert.equal(st.snmp.agentxConnected, true);
    assert.equal(st.snmp.agentxSessions, 1);
    // snmpd restarts: the subagent notices, reconnects and registers again.
    master.kill('SIGTERM');
    await new Promise((r) => master.once('exit', r));
    await sleep(500);
    master = snmpd(conf);
    const again = await waitWalk(udp, DEFAULT_ROOT, scalars, 30_000);
    assert.ok(again.length >= scalars, `${again.length} objects after the restart`);
    await sleep(300);
    const st2 = await agent.status();
    assert.equal(st2.snmp.agentxConnected, true);
    assert.equal(st2.snmp.agentxSessions, 2);
    assert.equal(agent.proc.exitCode, null, 'the agent was not restarted');
  } finally {
    master.kill('SIGTERM');
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
