/**
 * A fleet checks itself: one agent's upstream server is another agent's NTP server (ours on both
 * sides, over real UDP on loopback). The second agent hears the first at stratum 1, finds it agrees,
 * and judges its own receiver against it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort } from '../helpers/ports.ts';
import { startAgent, agentConfig } from '../helpers/agent.ts';

test('another stratum1-agent as the upstream server: heard at stratum 1, in the majority, the receiver agreeing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const portA = await freeUdpPort();
  writeFileSync(join(dir, 'a.yaml'), agentConfig(a, ['127.0.0.1'], portA));
  writeFileSync(join(dir, 'b.yaml'), agentConfig(b, ['127.0.0.1'], await freeUdpPort()) +
    ['integrity:', `  ntp_servers: ["127.0.0.1:${portA}"]`, '  min_poll_s: 16', '  max_poll_s: 16', ''].join('\n'));
  const first = await startAgent(join(dir, 'a.yaml'));
  const second = await startAgent(join(dir, 'b.yaml'));
  try {
    await first.waitFor((s) => s.discipline.state === 'LOCKED', 30_000, 'the first agent LOCKED');
    // The second polls every 16 s after its iburst (sent while the first was perhaps still unsynchronized).
    const st = await second.waitFor((s) => s.integrity.upstream.majority !== null && s.discipline.state === 'LOCKED', 45_000, 'a majority of one');
    const srv = st.integrity.upstream.servers[0]!;
    assert.equal(srv.state, 'majority');
    assert.equal(srv.stratum, 1);
    assert.equal(srv.refId, 'GPS');
    // Both serve the host's time through a perfect simulated oscillator: they agree to within what the
    // two event loops add (under a millisecond on a quiet machine; 1.2 ms was seen at a load average of
    // 11, so the bound is 5 ms: far below the 50 ms that would make the server a falseticker).
    assert.ok(Math.abs(srv.offsetS!) < 0.005, `offset ${srv.offsetS} s`);
    assert.ok(Math.abs(st.integrity.upstream.receiverMinusMajorityS!) < 0.005, `receiver minus majority ${st.integrity.upstream.receiverMinusMajorityS} s`);
    assert.equal(st.integrity.checks.find((c) => c.name === 'upstream')!.failing, false);
    const servedA = await first.status();
    assert.ok(servedA.ntp.replied >= 1, `the first agent answered ${servedA.ntp.replied} requests`);
  } finally {
    await second.stop();
    await first.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
