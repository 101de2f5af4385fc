/**
 * phc2sys beside ptp4l: linuxptp 3.1.1's phc2sys answers no management requests (with -a or -w it is
 * a client of ptp4l's socket), so the ptp4l partner shows it from /proc: running or not, and from its
 * command line what it syncs. A tree made by the test for the command lines; the real /proc with a
 * copy of sleep named phc2sys (nothing here steers anything); and the agent's ptp4l partner, which
 * shows it in Status and `stratum1 status` whether or not ptp4l answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPhc2sys, describePhc2sys } from '../../src/partners/phc2sys.ts';
import { parsePhc2sysArgs } from '../../src/discipline/clock-owner.ts';
import { formatPtp4lPartner } from '../../src/partners/ptp4l-format.ts';
import { Service } from '../../src/service.ts';
import { defaultConfig } from '../../src/config/config.ts';
import { SystemClock } from '../../src/time/index.ts';
import { Logger } from '../../src/log.ts';

function fakeProc(procs: Record<number, [string, string[]]>): string {
  const root = mkdtempSync(join(tmpdir(), 'proc-'));
  for (const [pid, [comm, argv]] of Object.entries(procs)) {
    mkdirSync(join(root, pid));
    writeFileSync(join(root, pid, 'comm'), `${comm}\n`);
    writeFileSync(join(root, pid, 'cmdline'), argv.map((a) => `${a}\0`).join(''));
  }
  return root;
}

test('phc2sys command lines: getopt\'s way, what it syncs from and to, and which ptp4l it asks', () => {
  assert.deepEqual([...parsePhc2sysArgs(['-ar', '-z/run/p', '-s', 'eth0', '-m'])], [['a', ['']], ['r', ['']], ['z', ['/run/p']], ['s', ['eth0']], ['m', ['']]], 'flags, joined and separate values');
  const auto = describePhc2sys(7, ['-a', '-r', '-z', '/run/ptp4l'], true);
  assert.deepEqual(auto, { pid: 7, automatic: true, sources: ['ptp4l\'s port in SLAVE state'], target: 'CLOCK_REALTIME and ptp4l\'s PHCs', steersSystemClock: true, ptp4lSocket: '/run/ptp4l', configFile: null }, '-a -r');
  const manual = describePhc2sys(8, ['-s', '/dev/ptp0', '-c', 'CLOCK_REALTIME', '-O', '0', '-f', '/etc/linuxptp/phc2sys.conf'], true);
  assert.deepEqual([manual.sources, manual.target, manual.ptp4lSocket, manual.configFile], [['/dev/ptp0'], 'CLOCK_REALTIME', null, '/etc/linuxptp/phc2sys.conf'], 'manual: no ptp4l asked');
  const waits = describePhc2sys(9, ['-s', 'eth0', '-d', '/dev/pps0', '-w'], true);
  assert.deepEqual([waits.sources, waits.target, waits.ptp4lSocket], [['eth0', 'PPS /dev/pps0'], 'CLOCK_REALTIME', '/var/run/ptp4l'], '-w asks ptp4l at the default socket');
});

test('phc2sys from a /proc tree: each one found with its pid; followsWatchedPtp4l when one asks our socket', (t) => {
  const root = fakeProc({
    100: ['ptp4l', ['ptp4l', '-i', 'eth0']],
    101: ['phc2sys', ['/usr/sbin/phc2sys', '-a', '-r', '-z', '/run/ptp4l-eth0']],
    102: ['phc2sys', ['/usr/sbin/phc2sys', '-s', 'eth0', '-c', '/dev/ptp1']],
    103: ['bash', ['bash']],
  });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const s = findPhc2sys(root, '/run/ptp4l-eth0');
  assert.equal(s.running, true, 'running');
  assert.deepEqual(s.processes.map((p) => [p.pid, p.target, p.steersSystemClock]), [[101, 'CLOCK_REALTIME and ptp4l\'s PHCs', true], [102, '/dev/ptp1', false]], 'both, in pid order');
  assert.equal(s.followsWatchedPtp4l, true, 'pid 101 asks the watched ptp4l');
  assert.equal(findPhc2sys(root, '/var/run/ptp4l').followsWatchedPtp4l, false, 'none asks another socket');
  const none = findPhc2sys(fakeProc({ 5: ['ptp4l', ['ptp4l']] }), '/var/run/ptp4l');
  assert.deepEqual(none, { running: false, processes: [], followsWatchedPtp4l: false }, 'not running');
  assert.match(formatPtp4lPartner({ ...partner(), phc2sys: s }), /phc2sys: running \(pid 101\), ptp4l's port in SLAVE state -> CLOCK_REALTIME and ptp4l's PHCs, asks \/run\/ptp4l-eth0\n/, 'status text');
});

function partner() {
  return { enabled: true, socket: '/run/ptp4l-eth0', lastError: 'no reply', reachable: false } as Parameters<typeof formatPtp4lPartner>[0] & object;
}

test('the ptp4l partner shows a phc2sys running in the real /proc (a copy of sleep named phc2sys), while ptp4l does not answer', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'phc2sys-'));
  const procs: ChildProcess[] = [];
  const clock = new SystemClock();
  const cfg = defaultConfig();
  cfg.agent.state_dir = join(dir, 'state');
  cfg.receiver.source = 'gpsd';
  cfg.receiver.gpsd.port = 1; // nothing listens: the receiver is not what this test is about
  cfg.ntp.enabled = false;
  cfg.partners.ptp4l.enabled = true;
  cfg.partners.ptp4l.socket = join(dir, 'ptp4l.sock'); // no ptp4l: unreachable, phc2sys shown all the same
  cfg.partners.ptp4l.poll_s = 0.5;
  const svc = new Service(cfg, { clock, simulate: false, log: new Logger(clock, { level: 'error', repeatPerMinute: 10 }, { write: () => {} }), listen: false });
  t.after(async () => {
    await svc.stop();
    clock.stop();
    for (const p of procs) if (p.exitCode === null) p.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  // A shell script named phc2sys: its process's name (comm) is the script's, its command line
  // `/bin/sh <script> <args>`; it sleeps (and ends its sleep when ended).
  writeFileSync(join(dir, 'phc2sys'), '#!/bin/sh\ntrap \'kill $!; exit 0\' TERM\nsleep 30 &\nwait\n', { mode: 0o755 });
  const fake = spawn(join(dir, 'phc2sys'), ['-s', 'eth9', '-c', '/dev/ptp9', '-z', cfg.partners.ptp4l.socket, '-w'], { stdio: 'ignore' });
  procs.push(fake);
  await new Promise((r) => setTimeout(r, 200));
  await svc.start();
  const until = Date.now() + 5000;
  while (!svc.status().partners.ptp4l.enabled && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  const p = svc.status().partners.ptp4l;
  const mine = p.phc2sys.processes.find((x) => x.pid === fake.pid);
  assert.ok(mine, `our phc2sys (pid ${fake.pid}) is found: ${JSON.stringify(p.phc2sys)}`);
  assert.deepEqual([mine.sources, mine.target, mine.ptp4lSocket, mine.steersSystemClock], [['eth9'], '/dev/ptp9', cfg.partners.ptp4l.socket, false], 'its clocks and socket from its command line');
  assert.equal(p.phc2sys.followsWatchedPtp4l, true, 'it asks the ptp4l we watch');
  assert.equal(p.reachable, false, 'no ptp4l answers');
  assert.match(formatPtp4lPartner(p), new RegExp(`phc2sys: running \\(pid ${fake.pid}\\)`), 'status text while ptp4l is unreachable');
});
