/**
 * A state directory that is read-only when the agent starts (an SD card the kernel remounted read-only
 * after an error), with every feature that keeps a file there on: the history, SNMP (its generated
 * engine ID), the InfluxDB queue, the integrity fingerprint key. Found by issue 15: SNMP or InfluxDB
 * then killed the agent at start. Now it starts, serves time, and says what it could not keep.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { startAgent, agentConfig } from '../helpers/agent.ts';
import { freeUdpPort } from '../helpers/ports.ts';

function readOnlyDir(t: TestContext): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'ro-state-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1024k,ro', 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status === 0) return dir;
  const msg = `cannot mount a read-only tmpfs (${(r.stderr || r.error?.message || '').trim()}): this test needs root`;
  if (process.env.CI) throw new Error(msg);
  console.error(`\n*** SKIPPED: ${msg} ***\n`);
  t.skip(msg);
  return undefined;
}

function stratum(port: number): Promise<number> {
  return new Promise((res, rej) => {
    const s = createSocket('udp4');
    const req = Buffer.alloc(48);
    req[0] = 0x23;
    const timer = setTimeout(() => { s.close(); rej(new Error('no NTP reply')); }, 2000);
    s.on('message', (m) => { clearTimeout(timer); s.close(); res(m[1]!); });
    s.send(req, port, '127.0.0.1');
  });
}

test('a read-only state directory at start, with history, SNMP, InfluxDB and integrity on: the agent starts, serves, and says what it cannot keep', async (t) => {
  const state = readOnlyDir(t);
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
    assert.equal(await stratum(ntpPort), 1);
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
