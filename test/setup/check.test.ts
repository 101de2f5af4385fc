/**
 * `stratum1 setup check --root DIR` against a fake Pi: a sysfs PPS assert file the test ticks once a
 * second (and one that never moves), a pty from socat standing in for the UART (NMEA written into it,
 * and one left silent), a /proc tree with the processes that matter (a serial getty, gpsd holding the
 * port, chronyd or systemd-timesyncd steering the clock).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, commandHelp } from '../../src/cli/main.ts';
import { judgeClockOwner, judgeNmea, judgePps, judgeUart, runChecks, type CheckLine, type UartFacts } from '../../src/setup/check.ts';
import { defaultConfig, parseConfig } from '../../src/config/config.ts';
import { nmeaChecksum } from '../../src/gnss/nmea.ts';
import { ptyPair, type PtyPair } from '../helpers/socat.ts';
import { requirePeers } from '../helpers/env.ts';

const sentence = (body: string) => `$${body}*${nmeaChecksum(body).toString(16).toUpperCase().padStart(2, '0')}\r\n`;
const RMC = sentence('GPRMC,120000.000,A,4404.1280,N,12118.8520,W,0.02,31.66,251126,,,D');
const GSV = sentence('GPGSV,1,1,04,10,63,137,17,07,61,098,15,05,59,290,20,08,54,157,30');

interface FakePi { root: string; assert: string; stop: (() => void)[] }

/** A fake root: a clean cmdline.txt (or the one given), the PPS sysfs directory, a config, a /proc. */
function fakeRoot(t: TestContext, opts: { configTxt?: string; cmdline?: string; procs?: Record<number, [string, string[], string[]?]>; config?: string } = {}): FakePi {
  const root = mkdtempSync(join(tmpdir(), 's1-check-'));
  const stop: (() => void)[] = [];
  t.after(() => {
    for (const s of stop) s();
    rmSync(root, { recursive: true, force: true });
  });
  const put = (p: string, text: string) => {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  };
  put('/boot/firmware/config.txt', opts.configTxt ?? 'enable_uart=1\ndtoverlay=pps-gpio,gpiopin=4\ndtoverlay=disable-bt\n');
  put('/boot/firmware/cmdline.txt', opts.cmdline ?? 'console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet\n');
  put('/etc/stratum1/stratum1.yaml', opts.config ?? 'receiver:\n  source: serial\npps:\n  source: kernel\n');
  put('/sys/class/pps/pps0/assert', '1764072000.000123456#100\n');
  mkdirSync(join(root, 'dev'), { recursive: true });
  mkdirSync(join(root, 'proc'), { recursive: true });
  for (const [pid, [comm, argv, fds]] of Object.entries(opts.procs ?? { 500: ['chronyd', ['/usr/sbin/chronyd', '-F', '1']] })) {
    put(`/proc/${pid}/comm`, `${comm}\n`);
    put(`/proc/${pid}/cmdline`, argv.map((a) => `${a}\0`).join(''));
    mkdirSync(join(root, 'proc', pid, 'fd'), { recursive: true });
    (fds ?? []).forEach((target, i) => symlinkSync(target, join(root, 'proc', pid, 'fd', String(i + 3))));
  }
  return { root, assert: join(root, 'sys/class/pps/pps0/assert'), stop };
}

/** The kernel's assert file moving on once a second, each edge stamped one second after the last. */
function tick(f: FakePi, everyMs = 1000, secondsPerPulse = 1): void {
  let seq = 100;
  const timer = setInterval(() => {
    seq++;
    writeFileSync(f.assert, `${1764072000 + (seq - 100) * secondsPerPulse}.000123456#${seq}\n`);
  }, everyMs);
  f.stop.push(() => clearInterval(timer));
}

/** The UART: a pty pair whose device end is ROOT/dev/serial0; `talk` writes NMEA into the other end. */
async function uart(t: TestContext, f: FakePi, talk: boolean): Promise<PtyPair> {
  const dir = join(f.root, 'dev');
  const pair = await ptyPair(dir);
  symlinkSync(pair.device, join(dir, 'serial0'));
  t.after(() => pair.stop());
  if (talk) {
    const fd = openSync(pair.feed, 'w');
    const timer = setInterval(() => writeSync(fd, GSV + RMC), 200);
    f.stop.unshift(() => {
      clearInterval(timer);
      closeSync(fd);
    });
  }
  return pair;
}

async function check(f: FakePi, extra: string[] = []): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['setup', 'check', '--root', f.root, ...extra], { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

const line = (out: string, name: string) => out.split('\n').find((l) => new RegExp(`^\\S+\\s+${name} `).test(l)) ?? '';

test('setup check passes on a ready Pi: the UART free, PPS ticking once a second, NMEA on the port, chronyd steering (exit 0)', async (t) => {
  if (!requirePeers(t, 'socat')) return;
  const f = fakeRoot(t);
  await uart(t, f, true);
  tick(f);
  const r = await check(f);
  assert.equal(r.code, 0, `exit status 0 expected:\n${r.out}${r.err}`);
  assert.match(r.out, /^config: .*\/etc\/stratum1\/stratum1\.yaml\n/);
  assert.match(line(r.out, 'uart'), /^ok +uart +\/dev\/serial0 is free for the agent/);
  assert.match(line(r.out, 'pps'), /^ok +pps +\/sys\/class\/pps\/pps0\/assert ticks: sequence 100 -> 10[12], 1\.000000 s apart/);
  assert.match(line(r.out, 'nmea'), /^ok +nmea +\/dev\/serial0: \$GPRMC arrives, with a fix \(\d+ good sentences? read\)/);
  assert.match(line(r.out, 'clock'), /^ok +clock +the system clock is steered by chronyd \(pid 500\)/);
});

test('setup check fails on a Pi that is not ready, one line each with what to do: a PPS that never moves, a silent port, a serial console, nobody steering (exit 1)', async (t) => {
  if (!requirePeers(t, 'socat')) return;
  const f = fakeRoot(t, {
    configTxt: 'enable_uart=1\ndtoverlay=pps-gpio,gpiopin=17\n[pi4]\ndtoverlay=pps-gpio,gpiopin=5\n',
    cmdline: 'console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootwait\n', procs: { 600: ['bash', ['bash']] },
  });
  await uart(t, f, false);
  const r = await check(f);
  assert.equal(r.code, 1, `exit status 1 expected:\n${r.out}${r.err}`);
  assert.match(line(r.out, 'uart'), /^FAIL uart +the kernel console is on the serial port \(console=serial0,115200 in \/boot\/firmware\/cmdline\.txt\); to fix: remove console=serial0,115200 from \/boot\/firmware\/cmdline\.txt/);
  assert.match(line(r.out, 'pps'), /^FAIL pps +\/sys\/class\/pps\/pps0\/assert: no pulse in 1\.2 s \(sequence stays 100\); to fix: the GPS pulses only with a fix.*check the PPS wire to GPIO 17 /, 'the pin config.txt gives');
  assert.match(line(r.out, 'nmea'), /^FAIL nmea +\/dev\/serial0: nothing in 3 s; to fix: check the wiring/);
  assert.match(line(r.out, 'clock'), /^FAIL clock +nobody steers the system clock .*; to fix: run chronyd/);
});

test('setup check: no PPS device at all, and a pty with bytes but no NMEA at the configured baud', async (t) => {
  if (!requirePeers(t, 'socat')) return;
  const f = fakeRoot(t);
  rmSync(join(f.root, 'sys'), { recursive: true });
  const pair = await uart(t, f, false);
  const fd = openSync(pair.feed, 'w');
  const timer = setInterval(() => writeSync(fd, Buffer.from([0xf0, 0x0f, 0x55, 0xaa, 0x0a])), 100);
  f.stop.unshift(() => {
    clearInterval(timer);
    closeSync(fd);
  });
  const lines = await runChecks({ root: f.root, cfg: parseConfig('receiver:\n  source: serial\n'), nmeaSeconds: 1, ppsIntervalMs: 100 });
  const by = (n: CheckLine['name']) => lines.find((l) => l.name === n)!;
  assert.equal(by('pps').result, 'FAIL');
  assert.match(by('pps').detail, /^no \/sys\/class\/pps\/pps0\/assert: the kernel has no PPS device/);
  assert.match(by('pps').fix!, /dtoverlay=pps-gpio,gpiopin=4/);
  assert.equal(by('nmea').result, 'FAIL');
  assert.match(by('nmea').detail, /\d+ bytes in 1 s but no checksummed RMC or GGA/);
  assert.match(by('nmea').fix!, /baud rate \(receiver\.serial\.baud is 9600\)/);
});

test('a PPS whose edges come twice a second is not a PPS (judged by the kernel\'s own edge times)', () => {
  const l = judgePps('/sys/class/pps/pps0/assert', '1764072000.000000000#100\n', '1764072001.000000000#102\n', 1.2);
  assert.equal(l.result, 'FAIL');
  assert.match(l.detail, /2 pulses in 1\.000 s of edges \(0\.500 s apart\), not one a second/);
  const ok = judgePps('/sys/class/pps/pps0/assert', '1764072000.000000100#100\n', '1764072002.000000050#102\n', 1.2);
  assert.equal(ok.result, 'ok', 'two pulses a second apart (a late second read)');
  const never = judgePps('/sys/class/pps/pps0/assert', '0.000000000#0\n', '0.000000000#0\n', 1.2);
  assert.match(never.detail, /no pulse since boot/);
});

const facts = (over: Partial<UartFacts>): UartFacts => ({
  receiverSource: 'serial', device: '/dev/serial0', deviceExists: true, cmdlinePath: '/boot/firmware/cmdline.txt', cmdline: 'console=tty1 root=/dev/mmcblk0p2\n', ppsPin: 4,
  gettys: [], holders: [], gpsd: [], agents: [], ...over,
});

test('the UART is not free with gpsd on it while the agent reads it, nor with a getty, nor when it is not there; with --keep-gpsd gpsd on it is right', async (t) => {
  const gpsd = { pid: 300, comm: 'gpsd', args: ['/usr/sbin/gpsd', '-n', '/dev/serial0'], fds: ['/dev/serial0'] };
  const held = judgeUart(facts({ holders: [gpsd], gpsd: [gpsd] }));
  assert.equal(held.result, 'FAIL');
  assert.match(held.detail, /gpsd runs \(pid 300\) while the agent reads the port itself/);
  assert.match(held.fix!, /systemctl disable --now gpsd\.socket gpsd\.service/);
  assert.equal(judgeUart(facts({ receiverSource: 'gpsd', holders: [gpsd], gpsd: [gpsd] })).result, 'ok');
  const getty = judgeUart(facts({ gettys: [{ pid: 42, comm: 'agetty', args: ['/sbin/agetty', '-o', '-p -- \\u', '--keep-baud', '115200,57600,38400,9600', 'ttyAMA0', 'vt220'], fds: [] }] }));
  assert.equal(getty.result, 'FAIL');
  assert.match(getty.fix!, /serial-getty@ttyAMA0\.service/);
  const off = judgeUart(facts({ deviceExists: false }));
  assert.equal(off.result, 'FAIL');
  assert.match(off.detail, /^no \/dev\/serial0: the UART is off/);
  assert.match(off.fix!, /^enable_uart=1 in config\.txt/);
  // The same through the /proc reader: a gpsd in the fake /proc holding ROOT/dev/serial0.
  const f = fakeRoot(t, { procs: { 300: ['gpsd', ['/usr/sbin/gpsd', '-n', '/dev/serial0'], ['/dev/serial0']], 500: ['chronyd', ['chronyd']] } });
  writeFileSync(join(f.root, 'dev/serial0'), '');
  const lines = await runChecks({ root: f.root, cfg: parseConfig('receiver:\n  source: gpsd\npps:\n  source: none\n'), nmeaSeconds: 1, ppsIntervalMs: 100 });
  assert.match(lines[0]!.detail, /\/dev\/serial0 is free for gpsd: .*open in gpsd \(pid 300\)/);
  assert.equal(lines[1]!.result, 'skip');
  assert.equal(lines[2]!.result, 'skip');
});

test('the clock\'s owner against the config: chronyd when the agent feeds it, one steerer, not two', () => {
  const chrony = { name: 'chronyd', pid: 10, steers: true, note: '' };
  const timesyncd = { name: 'systemd-timesyncd', pid: 11, steers: true, note: '' };
  const fed = parseConfig('export:\n  chrony_sock: /run/chrony.stratum1.sock\n');
  assert.equal(judgeClockOwner([chrony], fed).result, 'ok');
  const wrong = judgeClockOwner([timesyncd], fed);
  assert.equal(wrong.result, 'FAIL');
  assert.match(wrong.detail, /systemd-timesyncd \(pid 11\) steers the system clock, but export\.chrony_sock feeds chronyd: chronyd should/);
  const two = judgeClockOwner([chrony, timesyncd], defaultConfig());
  assert.equal(two.result, 'FAIL');
  assert.match(two.detail, /several programs steer the system clock/);
  assert.equal(judgeClockOwner([timesyncd], defaultConfig()).result, 'ok', 'without a feed, any one steerer will do');
  const own = defaultConfig();
  own.discipline.actuator = 'system';
  assert.equal(judgeClockOwner([], own).result, 'ok', 'with actuator system the agent itself steers: nobody else should');
  const beside = judgeClockOwner([chrony], own);
  assert.equal(beside.result, 'FAIL', 'chronyd beside an agent that steers the clock');
  assert.match(beside.detail, /discipline\.actuator is system, but chronyd \(pid \d+\) steers the system clock too/);
});

test('setup check refuses bad usage with exit 2: an unknown option, a config that does not load; its help says which config it reads', async (t) => {
  const f = fakeRoot(t);
  assert.match(commandHelp('setup')!, /stratum1 setup pi \[--dry-run\][^\n]*\n.*\n {2}stratum1 setup check \[--config FILE\] \[--root DIR\]\n[^\n]*\n\nsetup check reads --config FILE, else \$STRATUM1_CONFIG, else \/etc\/stratum1\/stratum1\.yaml/);
  const bad = await check(f, ['--fast']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /Unknown option '--fast'/);
  writeFileSync(join(f.root, 'etc/stratum1/stratum1.yaml'), 'receiver:\n  source: usb\n');
  const cfg = await check(f);
  assert.equal(cfg.code, 2);
  assert.match(cfg.err, /bad configuration: [^\n]*stratum1\.yaml: 1 problem:\n {2}receiver\.source: expected one of/);
});

test('no NMEA is told apart: nothing at all, bytes without lines (the baud rate), damaged sentences, no RMC or GGA in the set', () => {
  const base = { device: '/dev/serial0', baud: 9600, seconds: 3 };
  assert.match(judgeNmea({ ...base, bytes: 0, lines: [] }).fix!, /check the wiring/);
  assert.match(judgeNmea({ ...base, bytes: 500, lines: [] }).fix!, /a wrong baud rate \(receiver\.serial\.baud is 9600\)/);
  const damaged = RMC.replace('A,4404', 'A,4405');
  const d = judgeNmea({ ...base, bytes: 200, lines: [damaged.trim(), GSV.trim()] });
  assert.equal(d.result, 'FAIL');
  assert.match(d.detail, /2 lines, 1 good, 1 with a wrong checksum/);
  assert.match(d.fix!, /another program reading the port at the same time/);
  assert.match(judgeNmea({ ...base, bytes: 200, lines: [GSV.trim()] }).fix!, /sends no RMC or GGA/);
  const gga = judgeNmea({ ...base, bytes: 80, lines: [sentence('GNGGA,120000.000,4404.1280,N,12118.8520,W,0,00,99.9,,M,,M,,').trim()] });
  assert.equal(gga.result, 'ok');
  assert.match(gga.detail, /\$GNGGA arrives, no fix yet \(1 good sentence read\)/);
});
