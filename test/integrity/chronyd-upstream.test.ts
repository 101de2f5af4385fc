/**
 * The upstream cross-check against real NTP servers we did not write: three chronyd instances on
 * loopback (local stratum 2, -x: they never touch this machine's clock), one of them under libfaketime
 * with its clock 5 s ahead. The agent (on the simulator, whose true time is the host's) must name that
 * one the falseticker and keep GPS; then a simulated spoof moves the receiver's time by +2 s, and the
 * agent refuses it because the two honest chronyds agree among themselves, until the spoof ends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePeers } from '../helpers/env.ts';
import { freeUdpPort } from '../helpers/ports.ts';
import { startAgent, agentConfig } from '../helpers/agent.ts';

const SPOOF_AT_S = 40;
const SPOOF_FOR_S = 30;

function chronydServer(dir: string, tag: string, port: number, shift?: string): ChildProcess {
  const conf = join(dir, `${tag}.conf`);
  writeFileSync(conf, [`port ${port}`, 'bindaddress 127.0.0.1', 'local stratum 2', 'allow 127.0.0.1', 'cmdport 0', `pidfile ${join(dir, `${tag}.pid`)}`, ''].join('\n'));
  const args = ['-u', 'root', '-x', '-d', '-f', conf];
  // faketime runs chronyd as its child: each server leads its own process group, ended as a whole.
  return shift ? spawn('faketime', ['-f', shift, 'chronyd', ...args], { stdio: 'ignore', detached: true }) : spawn('chronyd', args, { stdio: 'ignore', detached: true });
}

test('three chronyds, one under faketime +5 s: it is named the falseticker and GPS is kept; a +2 s GPS spoof is refused', async (t) => {
  if (!requirePeers(t, 'chronyd', 'faketime')) return;
  const dir = mkdtempSync(join(tmpdir(), 'upstream-'));
  const ports = [await freeUdpPort(), await freeUdpPort(), await freeUdpPort()];
  const servers = [chronydServer(dir, 'a', ports[0]!), chronydServer(dir, 'b', ports[1]!), chronydServer(dir, 'c', ports[2]!, '+5s')];
  const names = ports.map((p) => `127.0.0.1:${p}`);
  const cfg = agentConfig(dir, ['127.0.0.1'], await freeUdpPort())
    .replace('simulator:\n', `simulator:\n  faults:\n    - { at_s: ${SPOOF_AT_S}, kind: time_jump, duration_s: ${SPOOF_FOR_S}, value: 2 }\n`)
    + ['integrity:', `  ntp_servers: [${names.map((n) => JSON.stringify(n)).join(', ')}]`, '  min_poll_s: 16', '  max_poll_s: 16', '  accept_jump: with_upstream', ''].join('\n');
  writeFileSync(join(dir, 'agent.yaml'), cfg);
  const agent = await startAgent(join(dir, 'agent.yaml'));
  try {
    const before = await agent.waitFor((s) => s.discipline.state === 'LOCKED' && s.integrity.upstream.majority?.members.length === 2, 35_000, 'LOCKED with a majority of two');
    const u = before.integrity.upstream;
    assert.deepEqual(u.falsetickers, [names[2]]);
    assert.deepEqual(u.servers.map((x) => x.state), ['majority', 'majority', 'falseticker']);
    assert.ok(Math.abs(u.servers[2]!.offsetS! - 5) < 0.05, `the faketime chronyd is ${u.servers[2]!.offsetS} s ahead`);
    for (const x of u.servers.slice(0, 2)) assert.ok(Math.abs(x.offsetS!) < 0.005, `${x.name} at ${x.offsetS} s`);
    assert.equal(u.servers[0]!.stratum, 2);
    assert.ok(Math.abs(u.receiverMinusMajorityS!) < 0.005, `receiver - majority ${u.receiverMinusMajorityS} s`);
    assert.equal(before.integrity.checks.find((c) => c.name === 'upstream')!.failing, false);
    assert.ok(before.agent.uptimeS < SPOOF_AT_S - 2, `ready only at ${before.agent.uptimeS} s`);

    // The spoof: the receiver's labels move by +2 s. Refused: the honest chronyds disagree with it.
    const during = await agent.waitFor((s) => s.integrity.checks.find((c) => c.name === 'upstream')!.failing, (SPOOF_AT_S + 15) * 1000, 'the receiver judged a falseticker');
    const steps = during.discipline.steps;
    assert.equal(during.discipline.timeJumpRefused, true);
    assert.ok(Math.abs(during.integrity.upstream.receiverMinusMajorityS! - 2) < 0.01, `receiver - majority ${during.integrity.upstream.receiverMinusMajorityS} s`);
    // The alarms are evaluated once a second: the state may show before the alarm does.
    const held = await agent.waitFor((s) => s.discipline.state === 'HOLDOVER' && s.alarms.some((a) => a.name === 'gps_falseticker' && a.severity === 'critical'), 10_000, 'HOLDOVER and the gps_falseticker alarm');
    assert.equal(held.discipline.stratum, 1, 'holdover within its budget still serves stratum 1');

    // The spoof ends: the receiver agrees again, the clock never stepped.
    const after = await agent.waitFor((s) => s.discipline.state === 'LOCKED' && !s.integrity.failing && s.agent.uptimeS > SPOOF_AT_S + SPOOF_FOR_S, 40_000, 'LOCKED again after the spoof');
    assert.equal(after.discipline.steps, steps, 'the served clock never stepped to the spoof');
    assert.equal(after.discipline.timeJumpRefused, false);
    const check = (name: string) => after.integrity.checks.find((c) => c.name === name)!;
    assert.equal(check('upstream').failures, 1, 'the falseticker was announced once');
    // The spoofed labels also broke step with the PPS count: that check saw it too, on its own.
    assert.ok(check('pps_count').failures >= 1, 'pps_count saw the spoof');
    assert.equal(after.events.counts.integrityCheckFailed, after.events.counts.integrityCheckPassed, 'every failure ended');
  } finally {
    await agent.stop();
    for (const s of servers) {
      try {
        process.kill(-s.pid!, 'SIGTERM');
      } catch { /* already gone */ }
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
