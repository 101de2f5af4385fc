/**
 * A state directory that is read-only when the agent starts (an SD card the kernel remounted read-only
 * after an error), with every feature that keeps a file there on: the history, SNMP (its generated
 * engine ID), the InfluxDB queue, the integrity fingerprint key. Found by issue 15: SNMP or InfluxDB
 * then killed the agent at start. Now it starts, serves time, and says what it could not keep.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, agentConfig } from '../helpers/agent.ts';
import { freeUdpPort } from '../helpers/ports.ts';
import { mountTmpfs } from '../helpers/mounts.ts';
import { ntpStratum } from '../helpers/ntp.ts';



test('a read-only state directory at start, with history, SNMP, InfluxDB and integrity on: the agent starts, serves, and says what it cannot keep', async (t) => {
  const state = mountTmpfs(t, 1024, { readOnly: true, prefix: 'ro-state-' });
  if (!state) return;
  const conf = mkdtempSync(join(tmpdir(), 'ro-conf-'));
  const ntpPort = await freeUdpPort();
  const cfg = join(conf, 'agent.yaml');
  writeFileSync(cfg, agentConfig(state, ['127.0.0.1'], ntpPort) + [
    'snmp:', '  enabled: true', '  address: 127.0.0.1', `  port: ${await freeUdpPort()}`,
    '  users:', '    - { name: nms, auth_key: auth-pass-123, priv_key: priv-pass-123 }',
    // Nothing listens there: the queue is used at once.
    'influx:', '  enabled: true', '  url: http://127.0.0.1:9', '  interval_s: 1', '  timeout_ms: 500', '',
  ].join('\n'));
  let a;
  try {
    a = await startAgent(cfg);
    const st = await a.waitFor((s) => s.discipline.state === 'LOCKED' && s.alarms.some((x) => x.name === 'database_write' && x.severity !== 'none'), 30_000, 'LOCKED, and the database_write alarm');
    assert.equal(await ntpStratum(ntpPort), 1);
    assert.equal(st.store.healthy, false);
    assert.ok(st.influx.queued > 0 || st.influx.failures > 0, 'InfluxDB points held while it is away');
    const out = a.out();
    assert.match(out, /SNMP engine ID generated for this run only/);
    assert.match(out, /InfluxDB: the outage queue is kept in memory/);
  } finally {
    await a?.stop();
    spawnSync('umount', ['-l', state]);
    rmSync(conf, { recursive: true, force: true });
  }
});
