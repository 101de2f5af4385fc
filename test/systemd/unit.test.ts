/**
 * The shipped systemd unit keeps its promises. systemd does not run where the tests run, so each
 * restriction is tried the way systemd would apply it:
 * - RestrictAddressFamilies: the agent, with every network feature on (NTP, SNMP, PTP on a veth in a
 *   network namespace, the control endpoint, Prometheus, an InfluxDB it cannot reach), runs under
 *   strace; every socket family it opens must be in the unit's list (AF_NETLINK was not: PTP's
 *   interface lookup needs it, and the agent exited at start);
 * - SystemCallFilter/SystemCallErrorNumber: the same run is under a seccomp filter built from the
 *   unit's lines with systemd's own group lists (systemd-analyze syscall-filter): it must start, serve
 *   NTP and SNMP, send PTP, and end cleanly on SIGTERM;
 * - the exposure systemd-analyze security --offline gives the unit: at most 2.0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, requirePeers } from '../helpers/env.ts';
import { BIN } from '../helpers/agent.ts';
import { netPair } from '../helpers/netns.ts';
import { allowedSyscalls, unitValues } from '../helpers/systemd-unit.ts';

const UNIT = join(ROOT, 'systemd/stratum1-agent.service');

test('systemd-analyze security --offline: the unit\'s exposure is at most 2.0', (t) => {
  if (!requirePeers(t, 'systemd-analyze')) return;
  const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', UNIT], { encoding: 'utf8' });
  const m = /Overall exposure level for \S+: (\d+\.\d)/.exec(r.stdout);
  assert.ok(m, `no exposure in: ${r.stdout.slice(-500)} ${r.stderr}`);
  t.diagnostic(`exposure ${m[1]}`);
  assert.ok(Number(m[1]) <= 2.0, `exposure ${m[1]}`);
});

test('under the unit\'s system call filter and address families, the agent with every network feature on starts, serves and stops cleanly', async (t) => {
  if (!requirePeers(t, 'systemd-analyze', 'strace', 'ip', 'snmpget', '/usr/bin/python3')) return;
  const seccomp = spawnSync('/usr/bin/python3', ['-c', 'import seccomp'], { encoding: 'utf8' });
  if (seccomp.status !== 0) {
    const msg = 'REAL PEER MISSING: python3-seccomp (install the Debian packages .ci/run installs)';
    if (process.env.CI) throw new Error(msg);
    t.skip(msg);
    return;
  }
  const families = unitValues(UNIT, 'RestrictAddressFamilies').join(' ').split(/\s+/).filter(Boolean);
  assert.equal(unitValues(UNIT, 'SystemCallErrorNumber')[0], 'EPERM', 'a call outside the filter fails, it does not kill');
  const dir = mkdtempSync(join(tmpdir(), 'unit-'));
  const net = netPair('unit');
  t.after(() => {
    net.remove();
    rmSync(dir, { recursive: true, force: true });
  });
  const allowedFile = join(dir, 'syscalls');
  writeFileSync(allowedFile, [...allowedSyscalls(UNIT)].sort().join('\n'));
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(cfg, [
    'receiver:', '  source: simulator',
    'control:', '  http: { address: 127.0.0.1, port: 7323 }', 'prometheus:', '  port: 9710',
    'ntp:', `  addresses: [${net.a.address}]`, '  port: 123',
    'snmp:', '  enabled: true', `  address: ${net.a.address}`, '  port: 161',
    '  users:', '    - { name: nms, auth_key: auth-pass-123, priv_key: priv-pass-123 }',
    'ptp:', '  enabled: true', `  interface: ${net.a.dev}`,
    'influx:', '  enabled: true', '  url: http://127.0.0.1:9', '  database: stratum1',
    'agent:', `  state_dir: ${JSON.stringify(dir)}`, '',
  ].join('\n'));
  const trace = join(dir, 'strace.out');
  const proc = spawn('ip', ['netns', 'exec', net.a.ns, 'strace', '-f', '-qq', '-e', 'trace=socket', '-o', trace,
    '/usr/bin/python3', join(ROOT, 'test/systemd/seccomp-exec.py'), allowedFile, process.execPath, BIN, 'run', '--simulate', '--config', cfg],
  { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  proc.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  let agentPid = 0;
  try {
    const deadline = Date.now() + 30_000;
    while (!/^listening: /m.test(out) && proc.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /^listening: .*ntp udp .*snmp udp .*ptp/m, `the agent did not start under the filter:\n${out.slice(-3000)}`);
    agentPid = Number(/running \(pid (\d+)\)/.exec(out)?.[1]);
    assert.ok(agentPid > 0, 'the agent says its pid');
    // Served: NTP (a query from the other namespace), SNMPv3, PTP Sync sent.
    await new Promise((r) => setTimeout(r, 3000));
    const ntp = net.exec(net.b.ns, [process.execPath, '-e', `
      const s = require('dgram').createSocket('udp4'); const q = Buffer.alloc(48); q[0] = 0x23;
      s.on('message', (m) => { console.log('stratum', m[1]); process.exit(0); });
      s.send(q, 123, '${net.a.address}'); setTimeout(() => process.exit(1), 3000);`], { timeoutMs: 10_000 });
    assert.match(ntp.stdout, /stratum \d+/, `NTP answered: ${ntp.stdout} ${ntp.stderr}`);
    const snmp = net.exec(net.b.ns, ['snmpget', '-m', '', '-t', '2', '-r', '1', '-v3', '-l', 'authPriv', '-u', 'nms', '-a', 'SHA-256', '-A', 'auth-pass-123',
      '-x', 'AES', '-X', 'priv-pass-123', net.a.address, '1.3.6.1.2.1.1.5.0'], { timeoutMs: 15_000 });
    assert.match(snmp.stdout, /STRING/, `SNMPv3 answered: ${snmp.stdout} ${snmp.stderr}`);
    const st = net.exec(net.a.ns, [process.execPath, BIN, 'status', '--json', '--url', 'http://127.0.0.1:7323/status'], { timeoutMs: 15_000 });
    const status = JSON.parse(st.stdout) as { ptp: { sent: Record<string, number> } };
    assert.ok((status.ptp.sent.sync ?? 0) > 0, `PTP Sync sent: ${JSON.stringify(status.ptp.sent)}`);
  } finally {
    if (agentPid > 0) process.kill(agentPid, 'SIGTERM');
    else proc.kill();
  }
  const code = await exited;
  assert.equal(code, 0, `clean exit under the filter:\n${out.slice(-2000)}`);
  assert.doesNotMatch(out, /uncaught exception|part failed/, 'nothing failed under the filter');
  // Every socket family opened (by the agent; python and strace open none) is one the unit allows.
  const opened = new Set([...readFileSync(trace, 'utf8').matchAll(/socket\((AF_[A-Z0-9]+)/g)].map((m) => m[1]!));
  t.diagnostic(`families opened: ${[...opened].join(' ')}; the unit allows ${families.join(' ')}`);
  assert.ok(opened.has('AF_INET'), 'the trace saw the agent\'s sockets');
  assert.deepEqual([...opened].filter((f) => !families.includes(f)), [], 'families the unit would refuse');
});

test('mode (b): the unit grants no clock capability and filters the clock calls; mode (a): its drop-in grants CAP_SYS_TIME and clock_adjtime, and conflicts with the other time daemons', (t) => {
  if (!requirePeers(t, 'systemd-analyze')) return;
  const dropIn = join(ROOT, 'systemd/system-clock.conf');
  const b = allowedSyscalls([UNIT]);
  const a = allowedSyscalls([UNIT, dropIn]);
  for (const call of ['clock_adjtime', 'adjtimex', 'clock_settime', 'settimeofday']) {
    assert.ok(!b.has(call), `mode (b) filters ${call}`);
    assert.ok(a.has(call), `mode (a) allows ${call}`);
  }
  assert.ok(a.has('sendmsg') && a.has('clock_gettime'), 'mode (a) keeps the rest of @system-service');
  assert.ok(!a.has('mount') && !a.has('setrlimit'), 'mode (a) still filters the other privileged and resource calls');
  const last = (key: string, files: string[]) => unitValues(files, key).pop() ?? '';
  assert.doesNotMatch(last('CapabilityBoundingSet', [UNIT]), /CAP_SYS_TIME/, 'mode (b): no CAP_SYS_TIME');
  assert.equal(last('ProtectClock', [UNIT]), 'yes', 'mode (b): ProtectClock');
  assert.match(last('CapabilityBoundingSet', [UNIT, dropIn]), /CAP_SYS_TIME/, 'mode (a): CAP_SYS_TIME in the bounding set');
  assert.match(last('AmbientCapabilities', [UNIT, dropIn]), /CAP_SYS_TIME/, 'mode (a): and ambient, for the stratum1 user');
  assert.equal(last('ProtectClock', [UNIT, dropIn]), 'no', 'mode (a): ProtectClock off (it would remove CAP_SYS_TIME again)');
  assert.match(last('Conflicts', [dropIn]), /chrony\.service.*systemd-timesyncd\.service.*ntp\.service/, 'mode (a) conflicts with the other time daemons');
  // systemd's own reading of the unit with the drop-in beside it agrees.
  const dir = mkdtempSync(join(tmpdir(), 'unit-a-'));
  mkdirSync(join(dir, 'stratum1-agent.service.d'));
  copyFileSync(UNIT, join(dir, 'stratum1-agent.service'));
  copyFileSync(dropIn, join(dir, 'stratum1-agent.service.d', 'system-clock.conf'));
  const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', join(dir, 'stratum1-agent.service')], { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  assert.match(r.stdout, /SystemCallFilter=~@clock[^\n]*@clock is included/, `systemd sees @clock allowed in mode (a): ${r.stdout.slice(-300)}`);
  assert.match(r.stdout, /CapabilityBoundingSet=~CAP_SYS_TIME[^\n]*may change the system clock/, 'and CAP_SYS_TIME granted');
  const score = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(r.stdout)?.[1]);
  t.diagnostic(`mode (a) exposure (systemd-analyze security --offline): ${score}`);
});

