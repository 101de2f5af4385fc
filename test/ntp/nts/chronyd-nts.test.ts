/**
 * chronyd (Debian's 4.3, built with NTS) as an NTS client of the agent: the key exchange against our
 * self-signed certificate (ntstrustedcerts), then NTS-protected NTP on a private port. chronyd runs
 * with -x (never touches the clock), its own pid file, command socket and ntsdumpdir. It must select
 * our time, and `chronyc -N authdata` must show NTS with cookies; the agent restarted with the same
 * state directory still accepts chronyd's cookies (no NAK, no new key exchange).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePeers } from '../../helpers/env.ts';
import { startAgent, agentConfig, type RunningAgent } from '../../helpers/agent.ts';
import { freeTcpPort, freeUdpPort } from '../../helpers/ports.ts';
import type { Status } from '../../../src/status/status.ts';
import { exposition } from '../../../src/export/prometheus.ts';
import { pointsFrom } from '../../../src/export/influx-points.ts';
import { allScalars } from '../../../src/snmp/mib.ts';
import { parseMetrics } from '../../helpers/metrics.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function chronyc(sock: string, ...args: string[]): string {
  const r = spawnSync('chronyc', ['-h', sock, ...args], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`chronyc ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** chronyc -c authdata: name, mode, key id, type, key length, last, attempts, NAKs, cookies, cookie length. */
function authdata(sock: string) {
  const f = chronyc(sock, '-N', '-c', 'authdata').trim().split('\n').map((l) => l.split(',')).find((x) => x[0] === '127.0.0.1');
  return f ? { mode: f[1]!, aead: Number(f[3]), keyBits: Number(f[4]), naks: Number(f[7]), cookies: Number(f[8]), cookieLength: Number(f[9]) } : undefined;
}

/** chronyc -c sources: mode, state, name, stratum, poll, reach (octal), ... */
function source(sock: string) {
  const f = chronyc(sock, '-n', '-c', 'sources').trim().split('\n').map((l) => l.split(',')).find((x) => x[2] === '127.0.0.1');
  return f ? { state: f[1]!, stratum: Number(f[3]), reach: parseInt(f[5]!, 8) } : undefined;
}

async function until<T>(what: string, ms: number, get: () => T | Promise<T>, ok: (v: T) => boolean, diag: () => string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}\n${diag()}`);
    await sleep(500);
  }
}

test('chronyd as an NTS client: key exchange with our certificate, our time selected, authdata shows NTS with cookies; cookies survive an agent restart', async (t) => {
  if (!requirePeers(t, 'chronyd', 'chronyc', 'openssl')) return;
  const dir = mkdtempSync(join(tmpdir(), 'nts-chronyd-'));
  chmodSync(dir, 0o700); // chronyd refuses a command socket in a directory others can enter
  const port = await freeUdpPort();
  const kePort = await freeTcpPort();
  const cfg = agentConfig(dir, ['127.0.0.1'], port).replace(/\nagent:/, [
    '', '  nts:', '    enabled: true', '    ke_addresses: ["127.0.0.1"]', `    ke_port: ${kePort}`, 'agent:',
  ].join('\n'));
  writeFileSync(join(dir, 'agent.yaml'), cfg);
  let agent: RunningAgent | undefined = await startAgent(join(dir, 'agent.yaml'));
  let chronyd: ChildProcess | undefined;
  let chronyOut = '';
  const sock = join(dir, 'chronyd.sock');
  const diag = () => `chronyd:\n${chronyOut.slice(-3000)}\nagent:\n${agent?.out().slice(-2000) ?? ''}`;
  try {
    // The agent made its self-signed certificate for localhost in the state directory, and said so.
    const cert = join(dir, 'nts-cert.pem');
    assert.ok(existsSync(cert) && existsSync(join(dir, 'nts-key.pem')), 'nts-cert.pem and nts-key.pem in the state directory');
    assert.equal(statSync(join(dir, 'nts-key.pem')).mode & 0o777, 0o600);
    assert.match(agent.out(), /self-signed/, 'the agent says it made a self-signed certificate');
    assert.match(agent.out(), new RegExp(`nts-ke tcp 127\\.0\\.0\\.1:${kePort}`), 'NTS-KE listed among the listening sockets');
    await agent.waitFor((s) => s.discipline.state === 'LOCKED', 60_000, 'LOCKED');

    mkdirSync(join(dir, 'ntsdump'), { mode: 0o700 });
    const conf = join(dir, 'chrony.conf');
    writeFileSync(conf, [
      `server 127.0.0.1 port ${port} nts ntsport ${kePort} iburst minpoll 0 maxpoll 0`,
      `ntstrustedcerts ${cert}`, 'nosystemcert', `ntsdumpdir ${join(dir, 'ntsdump')}`,
      `bindcmdaddress ${sock}`, 'cmdport 0', 'port 0', `pidfile ${join(dir, 'chronyd.pid')}`, '',
    ].join('\n'));
    const startChronyd = () => {
      const p = spawn('chronyd', ['-x', '-d', '-u', 'root', '-f', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
      p.stdout!.setEncoding('utf8').on('data', (d: string) => { chronyOut += d; });
      p.stderr!.setEncoding('utf8').on('data', (d: string) => { chronyOut += d; });
      return p;
    };
    chronyd = startChronyd();
    await until('the command socket', 10_000, () => existsSync(sock), (x) => x, diag);

    const sel = await until('chronyd to select our server', 60_000, () => source(sock), (s) => s?.state === '*', diag);
    assert.equal(sel!.stratum, 1, 'chronyd sees stratum 1');
    assert.ok(sel!.reach > 0, 'reachable');
    const a = authdata(sock);
    assert.ok(a, `an authdata row: ${diag()}`);
    t.diagnostic(`chronyc sources: ${JSON.stringify(sel)}; authdata: ${JSON.stringify(a)}`);
    assert.equal(a!.mode, 'NTS');
    assert.equal(a!.aead, 15, 'AEAD_AES_SIV_CMAC_256');
    assert.ok(a!.cookies > 0, `chronyd holds cookies: ${a!.cookies}`);
    assert.equal(a!.cookieLength, 100);
    assert.equal(a!.naks, 0, 'no NAK');
    const st: Status = await agent.status();
    assert.ok(st.ntp.nts.enabled, 'Status says NTS is on');
    assert.ok(st.ntp.nts.keSessions >= 1, `key exchanges in Status: ${st.ntp.nts.keSessions}`);
    assert.ok(st.ntp.nts.replied >= 1, `authenticated replies in Status: ${st.ntp.nts.replied}`);
    assert.equal(st.ntp.nts.naks, 0);
    assert.equal(st.ntp.nts.certificate?.selfSigned, true);
    // Every exporter reads the same NTS figures from that Status.
    const m = parseMetrics(exposition(st));
    assert.equal(m.get('stratum1_nts_ke_sessions_total'), st.ntp.nts.keSessions);
    assert.equal(m.get('stratum1_nts_replies_total'), st.ntp.nts.replied);
    assert.equal(m.get('stratum1_nts_requests_total'), st.ntp.nts.requests);
    assert.equal(m.get('stratum1_nts_cookie_key_age_seconds'), st.ntp.nts.cookieKeyAgeS);
    const nts = pointsFrom(st, 0n, {}).find((x) => x.measurement === 'nts');
    assert.ok(nts && nts.fields.ke_sessions === st.ntp.nts.keSessions && nts.fields.replied === st.ntp.nts.replied, `an InfluxDB nts point: ${JSON.stringify(nts?.fields)}`);
    const mib = Object.fromEntries(allScalars().filter((x) => x.def.name.startsWith('s1Nts')).map((x) => [x.def.name, x.def.get(st)]));
    assert.deepEqual([mib.s1NtsKeSessions, mib.s1NtsReplies, mib.s1NtsNaks], [st.ntp.nts.keSessions, st.ntp.nts.replied, 0]);

    // Restart the agent on the same state directory: chronyd's cookies (made under the saved keys)
    // still open, so it goes on without a NAK and without a new key exchange.
    await agent.stop();
    agent = undefined;
    agent = await startAgent(join(dir, 'agent.yaml'));
    await agent.waitFor((s) => s.discipline.state === 'LOCKED', 60_000, 'LOCKED after restart');
    const after = await until('authenticated replies after the restart', 60_000, () => agent!.status(), (s) => s.ntp.nts.replied >= 3, diag);
    assert.equal(after.ntp.nts.naks, 0, 'no NAK after the restart');
    assert.equal(after.ntp.nts.keSessions, 0, 'no new key exchange was needed');
    const a2 = authdata(sock);
    assert.ok(a2 && a2.naks === 0 && a2.cookies > 0, `chronyd still has cookies and saw no NAK: ${JSON.stringify(a2)}`);
    await until('chronyd to select us again', 60_000, () => source(sock), (s) => s?.state === '*' && s.reach > 0, diag);
  } finally {
    if (chronyd && chronyd.exitCode === null) {
      const exited = new Promise<void>((r) => chronyd!.once('exit', () => r()));
      chronyd.kill('SIGTERM');
      await exited;
    }
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
