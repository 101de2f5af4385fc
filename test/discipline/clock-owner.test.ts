/**
 * Who steers the system clock, read from /proc: a tree made by the test (every daemon and the
 * arguments that change the verdict), and the real /proc with processes the test starts under a
 * daemon's name (a copy of sleep or bash: nothing here steers anything).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findClockDaemons, describeClockOwners } from '../../src/discipline/clock-owner.ts';

function fakeProc(procs: Record<number, [string, string[]]>): string {
  const root = mkdtempSync(join(tmpdir(), 'proc-'));
  mkdirSync(join(root, 'self'));
  writeFileSync(join(root, 'uptime'), '1 1\n');
  for (const [pid, [comm, argv]] of Object.entries(procs)) {
    mkdirSync(join(root, pid));
    writeFileSync(join(root, pid, 'comm'), `${comm}\n`);
    writeFileSync(join(root, pid, 'cmdline'), argv.map((a) => `${a}\0`).join(''));
  }
  mkdirSync(join(root, '99')); // a process gone between the listing and the read
  return root;
}

test('each daemon is judged by its name and arguments: who steers CLOCK_REALTIME and who does not', (t) => {
  const root = fakeProc({
    10: ['chronyd', ['/usr/sbin/chronyd', '-F', '1']],
    11: ['chronyd', ['chronyd', '-x', '-f', 'c.conf']],
    12: ['systemd-timesyn', ['/lib/systemd/systemd-timesyncd']],
    13: ['ntpd', ['/usr/sbin/ntpd', '-g']],
    14: ['phc2sys', ['phc2sys', '-s', 'eth0', '-c', '/dev/ptp1']],
    15: ['phc2sys', ['phc2sys', '-s', 'eth0', '-w']],
    16: ['ptp4l', ['ptp4l', '-i', 'eth0']],
    17: ['ptp4l', ['ptp4l', '-i', 'eth0', '-S', '-s']],
    18: ['gpsd', ['gpsd', '-n', '/dev/serial0']],
    19: ['bash', ['bash']],
    20: ['phc2sys', ['phc2sys', '-a', '-z', '/run/ptp4l']],
    21: ['phc2sys', ['phc2sys', '-ar']],
    22: ['phc2sys', ['phc2sys', '-s', 'eth0', '-c/dev/ptp1']],
  });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const found = findClockDaemons(root);
  assert.deepEqual(found.map((d) => [d.pid, d.name, d.steers]), [
    [10, 'chronyd', true], [11, 'chronyd', false], [12, 'systemd-timesyncd', true], [13, 'ntpd', true],
    [14, 'phc2sys', false], [15, 'phc2sys', true], [16, 'ptp4l', false], [17, 'ptp4l', true],
    [20, 'phc2sys', false], [21, 'phc2sys', true], [22, 'phc2sys', false],
  ], 'phc2sys -a steers the system clock only with -r; -c/dev/ptp1 written as one argument names a PHC too');
  assert.match(found[1]!.note, /-x: never steers/);
  assert.equal(describeClockOwners(found.filter((d) => d.pid === 10)), 'the system clock is steered by chronyd (pid 10)');
  assert.match(describeClockOwners(found), /^several programs steer the system clock: chronyd \(pid 10\), systemd-timesyncd \(pid 12\)/);
  assert.equal(describeClockOwners(found.filter((d) => d.pid === 11)), 'no time daemon steers the system clock (chronyd 11: chronyd -x: never steers the clock)');
  assert.equal(describeClockOwners([]), 'no time daemon steers the system clock');
  assert.deepEqual(findClockDaemons(join(root, 'missing')), [], 'no /proc: nothing found, nothing thrown');
});

test('the real /proc: processes started under a daemon\'s name are found with their pids and arguments', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'owner-'));
  const procs: ChildProcess[] = [];
  t.after(() => {
    for (const p of procs) if (p.exitCode === null) p.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  copyFileSync('/bin/sleep', join(dir, 'ntpd'));
  copyFileSync('/bin/bash', join(dir, 'chronyd'));
  const ntpd = spawn(join(dir, 'ntpd'), ['30'], { stdio: 'ignore' });
  // bash -c 'sleep 30; true' -x: the process stays bash (named chronyd) and its arguments hold -x.
  const chronyd = spawn(join(dir, 'chronyd'), ['-c', 'sleep 30; true', '-x'], { stdio: 'ignore' });
  procs.push(ntpd, chronyd);
  await new Promise((r) => setTimeout(r, 200));
  const found = findClockDaemons();
  const mine = found.filter((d) => d.pid === ntpd.pid || d.pid === chronyd.pid);
  assert.deepEqual(mine.map((d) => [d.pid, d.name, d.steers]).sort(), [[chronyd.pid, 'chronyd', false], [ntpd.pid, 'ntpd', true]].sort(),
    `found ${JSON.stringify(found)}`);
});
