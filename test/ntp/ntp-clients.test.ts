/**
 * Real NTP clients against our server: chronyd (as a one-shot client, and as a long-running client
 * queried with chronyc) on a loopback port, and ntpsec's ntpdig, which has no port option, against port
 * 123 inside a network namespace of our own. They must take our samples when we are locked, agree with
 * Status on stratum, reference id and leap status, and reject us before we are.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePeers } from '../helpers/env.ts';
import { startAgent, agentConfig } from '../helpers/agent.ts';
import { freeUdpPort } from '../helpers/ports.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


function chronyOneShot(dir: string, port: number, tag: string, timeoutS: number): string {
  const r = spawnSync('chronyd', ['-u', 'root', '-Q', '-t', String(timeoutS), `server 127.0.0.1 port ${port} iburst`, `pidfile ${join(dir, `${tag}.pid`)}`, 'cmdport 0'], { encoding: 'utf8', timeout: (timeoutS + 10) * 1000 });
  return `${r.stdout}${r.stderr}`;
}

function ntpdata(sock: string): Record<string, string> {
  const r = spawnSync('chronyc', ['-h', sock, '-n', 'ntpdata', '127.0.0.1'], { encoding: 'utf8', timeout: 10_000 });
  const o: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^([A-Za-z ]+?)\s*: (.*)$/.exec(line);
    if (m) o[m[1]!] = m[2]!;
  }
  return o;
}

test('chronyd as a client: rejects us unsynchronized, takes valid samples when locked, sees our stratum, refid and leap', async (t) => {
  if (!requirePeers(t, 'chronyd', 'chronyc')) return;
  const dir = mkdtempSync(join(tmpdir(), 'ntp-chrony-'));
  const port = await freeUdpPort();
  // No fix for the first 15 s: the server is certainly unsynchronized while chronyd first looks.
  writeFileSync(join(dir, 'agent.yaml'), agentConfig(dir, ['127.0.0.1'], port, 0, 15));
  const agent = await startAgent(join(dir, 'agent.yaml'));
  const conf = join(dir, 'chrony.conf');
  const sock = join(dir, 'chronyd.sock');
  writeFileSync(conf, [`server 127.0.0.1 port ${port} iburst minpoll 0 maxpoll 0`, `bindcmdaddress ${sock}`, 'cmdport 0', `pidfile ${join(dir, 'c.pid')}`, ''].join('\n'));
  // A long-running client that never touches the clock (-x).
  const chronyd = spawn('chronyd', ['-u', 'root', '-x', '-d', '-f', conf], { stdio: 'ignore' });
  try {
    await sleep(2500);
    const early = chronyOneShot(dir, port, 'q1', 8);
    // chronyd takes no sample from an unsynchronized server: it gives up without a measurement.
    assert.doesNotMatch(early, /System clock wrong by/, early);
    assert.match(early, /No suitable source for synchronisation|Timeout reached/, early);
    let d = ntpdata(sock);
    assert.equal(d['Leap status'], 'Not synchronised');
    assert.equal(d.Stratum, '16');
    assert.match(d['Reference ID'] ?? '', /^494E4954/); // INIT
    const st = await agent.waitFor((s) => s.discipline.state === 'LOCKED', 60_000, 'LOCKED');
    await sleep(4000);
    const late = chronyOneShot(dir, port, 'q2', 20);
    const m = /System clock wrong by (-?[\d.]+) seconds/.exec(late);
    assert.ok(m, late);
    assert.ok(Math.abs(Number(m[1])) < 0.02, `offset ${m[1]} s`);
    d = ntpdata(sock);
    assert.equal(d['Leap status'], 'Normal');
    assert.equal(d.Stratum, String(st.discipline.stratum));
    assert.match(d['Reference ID'] ?? '', /^47505300 \(GPS\)/);
    assert.equal(st.discipline.refId, 'GPS');
    assert.ok(Number(d['Total good RX']) >= 1, JSON.stringify(d));
    const after = await agent.status();
    assert.ok(after.ntp.replied >= 3 && after.ntp.byVersionMode['v4 mode 3']! >= 3, JSON.stringify(after.ntp));
  } finally {
    chronyd.kill('SIGTERM');
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ntpdig against port 123 in a network namespace, IPv4 and IPv6: stratum and leap as Status says', async (t) => {
  if (!requirePeers(t, 'ntpdig', 'ip')) return;
  const ns = `s1ntp${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (add.status !== 0) {
    if (process.env.CI) throw new Error(`cannot create a network namespace: ${add.stderr}`);
    t.skip(`cannot create a network namespace: ${add.stderr}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ntp-ns-'));
  try {
    spawnSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    writeFileSync(join(dir, 'agent.yaml'), agentConfig(dir, ['127.0.0.1', '::1'], 123, 7323, 10));
    const agent = await startAgent(join(dir, 'agent.yaml'), ns);
    try {
      const dig = (...args: string[]) => spawnSync('ip', ['netns', 'exec', ns, 'ntpdig', '-j', '-t', '3', ...args], { encoding: 'utf8', timeout: 30_000 });
      const early = dig('127.0.0.1');
      assert.notEqual(early.status, 0, early.stdout);
      assert.match(early.stderr, /stratum too high/, `ntpdig said: ${early.stderr}`);
      const st = await agent.waitFor((s) => s.discipline.state === 'LOCKED', 60_000, 'LOCKED');
      for (const target of [['127.0.0.1'], ['-6', '::1']]) {
        // Four samples: ntpdig keeps the best, so a busy moment of a loaded test machine does not count.
        const r = dig('-p', '4', ...target);
        assert.equal(r.status, 0, r.stderr);
        const j = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { stratum: number; leap: string; offset: number };
        assert.equal(j.stratum, st.discipline.stratum);
        assert.equal(j.leap, st.discipline.leapIndicator === 0 ? 'no-leap' : 'add-leap');
        // The client's offset measures our time stamping, which bench/ntp reports; here it only has to
        // be a sane sample (this machine's clock is served, so the truth is 0).
        assert.ok(Math.abs(j.offset) < 0.02, `offset ${j.offset}`);
      }
    } finally {
      await agent.stop();
    }
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
});
